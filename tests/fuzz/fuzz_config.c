/*
 * Feeds arbitrary bytes to the configuration file reader as the file named
 * by OAUTH_CONFIG, with no OAUTH_* variable in the environment.  A load
 * that succeeds must hold values within the documented ranges; one that
 * fails must say why and leave nothing to free.  Any difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_config_keys[] = {
	"OAUTH_DB", "OAUTH_ISSUER", "OAUTH_ACCESS_TTL", "OAUTH_REFRESH_TTL",
	"OAUTH_CODE_TTL", "OAUTH_MAX_BODY", "OAUTH_MAP_SIZE", "OAUTH_DB_SYNC",
};

static void
fuzz_config_check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/oauth-fuzz-config-XXXXXX";
	char err[256];
	struct config cfg, zero;
	size_t i;
	FILE *f;
	int fd;

	for (i = 0; i < sizeof(fuzz_config_keys) / sizeof(fuzz_config_keys[0]);
	     i++)
		unsetenv(fuzz_config_keys[i]);
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		return 0;
	if (fwrite(data, 1, size, f) != size) {
		fclose(f);
		unlink(path);
		return 0;
	}
	fclose(f);
	setenv("OAUTH_CONFIG", path, 1);
	err[0] = '\0';
	memset(&zero, 0, sizeof(zero));
	if (config_load(&cfg, err, sizeof(err)) == 0) {
		fuzz_config_check(cfg.db_path != NULL && cfg.db_path[0] != '\0');
		fuzz_config_check(cfg.access_ttl >= 1 &&
		    cfg.access_ttl <= CONFIG_TTL_LIMIT);
		fuzz_config_check(cfg.refresh_ttl >= 1 &&
		    cfg.refresh_ttl <= CONFIG_TTL_LIMIT);
		fuzz_config_check(cfg.code_ttl >= 1 && cfg.code_ttl <= 3600);
		fuzz_config_check(cfg.max_body >= 1 &&
		    cfg.max_body <= CONFIG_BODY_LIMIT);
		fuzz_config_check(cfg.db_sync < CONFIG_SYNC__MAX);
		fuzz_config_check(cfg.issuer == NULL ||
		    strchr(cfg.issuer, '?') == NULL);
		config_free(&cfg);
	} else {
		fuzz_config_check(err[0] != '\0');
		fuzz_config_check(memcmp(&cfg, &zero, sizeof(cfg)) == 0);
	}
	unsetenv("OAUTH_CONFIG");
	unlink(path);
	return 0;
}
