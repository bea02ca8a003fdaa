/*
 * Configuration: OAUTH_* keys from the environment, or from the file named by
 * OAUTH_CONFIG (KEY=value lines, # comments); the environment wins.  Loaded
 * once per process.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define CONFIG_LINE_MAX 4096
#define CONFIG_PATH_MAX 4096
#define CONFIG_MAP_MIN (32LL * 1024)
#define CONFIG_MAP_LIMIT (1LL << 40)

enum config_key {
	CONFIG_DB = 0,
	CONFIG_ISSUER,
	CONFIG_ACCESS_TTL,
	CONFIG_REFRESH_TTL,
	CONFIG_CODE_TTL,
	CONFIG_GRANT_TTL,
	CONFIG_MAX_BODY,
	CONFIG_MAP_SIZE,
	CONFIG_DB_SYNC,
	CONFIG_TOKEN_FORMAT,
	CONFIG_CLAIMS,
	CONFIG_SIGNING_ALG,
	CONFIG_CONN_TIMEOUT,
	CONFIG_DPOP_NONCE,
	CONFIG_REGISTRATION_MODE,
	CONFIG_REGISTRATION_HASH,
	CONFIG_REGISTRATION_SCOPES,
	CONFIG_KEY__MAX
};

static const char *const config_names[CONFIG_KEY__MAX] = {
	[CONFIG_DB] = "OAUTH_DB",
	[CONFIG_ISSUER] = "OAUTH_ISSUER",
	[CONFIG_ACCESS_TTL] = "OAUTH_ACCESS_TTL",
	[CONFIG_REFRESH_TTL] = "OAUTH_REFRESH_TTL",
	[CONFIG_CODE_TTL] = "OAUTH_CODE_TTL",
	[CONFIG_GRANT_TTL] = "OAUTH_GRANT_TTL",
	[CONFIG_MAX_BODY] = "OAUTH_MAX_BODY",
	[CONFIG_MAP_SIZE] = "OAUTH_MAP_SIZE",
	[CONFIG_DB_SYNC] = "OAUTH_DB_SYNC",
	[CONFIG_TOKEN_FORMAT] = "OAUTH_ACCESS_TOKEN_FORMAT",
	[CONFIG_CLAIMS] = "OAUTH_CLAIMS",
	[CONFIG_SIGNING_ALG] = "OAUTH_SIGNING_ALG",
	[CONFIG_CONN_TIMEOUT] = "OAUTH_CONN_TIMEOUT",
	[CONFIG_DPOP_NONCE] = "OAUTH_DPOP_NONCE",
	[CONFIG_REGISTRATION_MODE] = "OAUTH_REGISTRATION",
	[CONFIG_REGISTRATION_HASH] = "OAUTH_REGISTRATION_TOKEN_SHA256",
	[CONFIG_REGISTRATION_SCOPES] = "OAUTH_REGISTRATION_SCOPES",
};

static int config_hex(char);
static int config_registration(char *const *, struct config *, char *,
    size_t);

static const char *const config_sync_names[CONFIG_SYNC__MAX] = {
	[CONFIG_SYNC_FULL] = "full",
	[CONFIG_SYNC_DATA] = "data",
	[CONFIG_SYNC_NONE] = "none",
};

/*
 * Parses a whole decimal string into *out within [min, max], like OpenBSD's
 * strtonum.  Returns 0, or -1 for an empty string, trailing bytes, a sign
 * or space where a digit belongs, or a value out of range; *out is
 * unchanged then.
 */
int
config_parse_number(const char *s, long long min, long long max,
    long long *out)
{
	char *end;
	long long v;

	if (s == NULL || !isdigit((unsigned char)s[0]) || strlen(s) > 19)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * An issuer is an https (or, for local set-ups, http) URL with no query or
 * fragment (RFC 8414 §2).  Returns 1 when s is one.
 */
static int
config_issuer_valid(const char *s)
{
	const char *p;

	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return 0;
	if (strlen(s) > REDIRECT_URI_MAX)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (*p == '?' || *p == '#' || !isgraph((unsigned char)*p))
			return 0;
	return 1;
}

/* Finds the key named by the len bytes at name; CONFIG_KEY__MAX if none. */
static enum config_key
config_lookup(const char *name, size_t len)
{
	int k;

	for (k = 0; k < CONFIG_KEY__MAX; k++)
		if (strlen(config_names[k]) == len &&
		    memcmp(config_names[k], name, len) == 0)
			return (enum config_key)k;
	return CONFIG_KEY__MAX;
}

/*
 * Reads KEY=value lines from path into values (strdup'd, replacing none that
 * is already set).  Returns 0, or -1 with a reason in err.
 */
static int
config_read_file(const char *path, char *values[CONFIG_KEY__MAX], char *err,
    size_t errsz)
{
	char line[CONFIG_LINE_MAX];
	unsigned lineno = 0;
	FILE *f;
	int rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "OAUTH_CONFIG %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *eq, *end;
		enum config_key k;
		size_t len = strlen(line);

		lineno++;
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			snprintf(err, errsz, "%s:%u: line too long", path,
			    lineno);
			goto out;
		}
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errsz, "%s:%u: expected KEY=value", path,
			    lineno);
			goto out;
		}
		for (end = eq; end > p && isspace((unsigned char)end[-1]);)
			end--;
		if (end == p) {
			snprintf(err, errsz, "%s:%u: expected KEY=value", path,
			    lineno);
			goto out;
		}
		k = config_lookup(p, (size_t)(end - p));
		/*
		 * The file may serve as systemd's EnvironmentFile too, with
		 * keys of other programs: only an OAUTH_ key we do not know
		 * is a mistake (a typo) worth refusing to start over.
		 */
		if (k == CONFIG_KEY__MAX && strncmp(p, "OAUTH_", 6) == 0) {
			snprintf(err, errsz, "%s:%u: unknown key", path, lineno);
			goto out;
		}
		if (k == CONFIG_KEY__MAX)
			continue;
		for (p = eq + 1; isspace((unsigned char)*p);)
			p++;
		free(values[k]);
		if ((values[k] = strdup(p)) == NULL) {
			snprintf(err, errsz, "out of memory");
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errsz, "OAUTH_CONFIG %s: read error", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

/* Parses the number of key k, if set, into *out.  Returns 0 or -1 + err. */
static int
config_number(char *values[CONFIG_KEY__MAX], enum config_key k,
    long long min, long long max, long long *out, char *err, size_t errsz)
{
	if (values[k] == NULL)
		return 0;
	if (config_parse_number(values[k], min, max, out) == -1) {
		snprintf(err, errsz, "%s must be a whole number from %lld to %lld",
		    config_names[k], min, max);
		return -1;
	}
	return 0;
}

/*
 * Whether the len bytes of s form a name of the claims map: 1 to
 * CONFIG_CLAIM_NAME_MAX letters, digits and underscores, lower case for a
 * claim (is_var 0), upper case for a CGI variable.
 */
static int
config_claim_name_ok(const char *s, size_t len, int is_var)
{
	size_t i;

	if (len == 0 || len > CONFIG_CLAIM_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
		    (is_var ? (s[i] >= 'A' && s[i] <= 'Z')
			    : (s[i] >= 'a' && s[i] <= 'z'))))
			return 0;
	return 1;
}

/*
 * Reads OAUTH_CLAIMS, "claim=VARIABLE" pairs separated by spaces, into
 * cfg.  The claims an ID Token carries of itself cannot be mapped: the
 * web server must not be able to name the subject or the audience.
 * Returns 0, or -1 with a reason in err.
 */
static int
config_claims(struct config *cfg, const char *value, char *err, size_t errsz)
{
	static const char *const reserved[] = {"sub", "iss", "aud", "exp",
		"iat", "nbf", "auth_time", "nonce", "at_hash", "c_hash",
		"s_hash", "azp", "jti", "acr", "amr", "sid", "cnf",
		"client_id", "scope", NULL};
	const char *p = value, *end, *eq;
	size_t i, n;

	while (*p != '\0') {
		if (*p == ' ') {
			p++;
			continue;
		}
		end = strchr(p, ' ');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		eq = memchr(p, '=', n);
		if (eq == NULL || !config_claim_name_ok(p, (size_t)(eq - p), 0) ||
		    !config_claim_name_ok(eq + 1, n - (size_t)(eq - p) - 1, 1)) {
			snprintf(err, errsz, "OAUTH_CLAIMS is space-separated "
			    "claim=VARIABLE pairs (lower-case claims, upper-case "
			    "variables)");
			return -1;
		}
		/* HTTP_* variables are the peer's request headers. */
		if (strncmp(eq + 1, "HTTP_", 5) == 0) {
			snprintf(err, errsz, "OAUTH_CLAIMS may not take a "
			    "claim from a request header (HTTP_*)");
			return -1;
		}
		for (i = 0; reserved[i] != NULL; i++)
			if (strlen(reserved[i]) == (size_t)(eq - p) &&
			    memcmp(reserved[i], p, (size_t)(eq - p)) == 0) {
				snprintf(err, errsz, "OAUTH_CLAIMS may not map "
				    "%s", reserved[i]);
				return -1;
			}
		if (cfg->claim_count == CONFIG_CLAIMS_MAX) {
			snprintf(err, errsz, "OAUTH_CLAIMS maps at most %d "
			    "claims", CONFIG_CLAIMS_MAX);
			return -1;
		}
		if ((cfg->claim_names[cfg->claim_count] = strndup(p,
		    (size_t)(eq - p))) == NULL ||
		    (cfg->claim_vars[cfg->claim_count] = strndup(eq + 1,
		    n - (size_t)(eq - p) - 1)) == NULL) {
			free(cfg->claim_names[cfg->claim_count]);
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		cfg->claim_count++;
		p += n;
	}
	return 0;
}

/*
 * OAUTH_REGISTRATION (off, token or open), the SHA-256 of the initial
 * access token that "token" takes (OAUTH_REGISTRATION_TOKEN_SHA256, 64 hex
 * digits) and the scopes a registered client may have
 * (OAUTH_REGISTRATION_SCOPES), into cfg.  Returns 0, or -1 with err set.
 */
static int
config_registration(char *const *values, struct config *cfg, char *err,
    size_t errsz)
{
	const char *mode = values[CONFIG_REGISTRATION_MODE];
	const char *hex = values[CONFIG_REGISTRATION_HASH];
	const char *scopes = values[CONFIG_REGISTRATION_SCOPES];
	size_t i;
	int hi, lo;

	cfg->registration = CONFIG_REGISTRATION_OFF;
	if (mode == NULL || strcmp(mode, "off") == 0)
		;
	else if (strcmp(mode, "open") == 0)
		cfg->registration = CONFIG_REGISTRATION_OPEN;
	else if (strcmp(mode, "token") == 0)
		cfg->registration = CONFIG_REGISTRATION_TOKEN;
	else {
		snprintf(err, errsz, "OAUTH_REGISTRATION must be off, token or "
		    "open");
		return -1;
	}
	if (cfg->registration == CONFIG_REGISTRATION_TOKEN &&
	    (hex == NULL || strlen(hex) != 2 * TOKEN_HASH_LEN)) {
		snprintf(err, errsz, "OAUTH_REGISTRATION=token needs "
		    "OAUTH_REGISTRATION_TOKEN_SHA256, the SHA-256 of the "
		    "initial access token in 64 hex digits");
		return -1;
	}
	for (i = 0; hex != NULL && i < TOKEN_HASH_LEN &&
	    cfg->registration == CONFIG_REGISTRATION_TOKEN; i++) {
		hi = config_hex(hex[2 * i]);
		lo = config_hex(hex[2 * i + 1]);
		if (hi == -1 || lo == -1) {
			snprintf(err, errsz, "OAUTH_REGISTRATION_TOKEN_SHA256 "
			    "is not 64 hex digits");
			return -1;
		}
		cfg->registration_hash[i] = (unsigned char)(hi << 4 | lo);
	}
	if (scopes != NULL && (strlen(scopes) > SCOPE_MAX ||
	    !scope_valid(scopes))) {
		snprintf(err, errsz, "OAUTH_REGISTRATION_SCOPES is not a "
		    "space-separated list of scopes");
		return -1;
	}
	return 0;
}

/* The value of the hex digit c, or -1. */
static int
config_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Fills cfg from OAUTH_CONFIG's file and the environment, with the contract's
 * defaults.  Returns 0; or -1 with a one-line reason in err (never a value,
 * which might be a secret) and cfg holding nothing to free.
 */
int
config_load(struct config *cfg, char *err, size_t errsz)
{
	char *values[CONFIG_KEY__MAX] = {0};
	const char *file, *env;
	long long access = 3600, refresh = 1209600, code = 60;
	long long grant = CONFIG_GRANT_TTL_DEFAULT;
	long long body = CONFIG_BODY_DEFAULT, map = (long long)CONFIG_MAP_DEFAULT;
	long long conn = CONFIG_CONN_TIMEOUT_DEFAULT;
	int k, rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if ((file = getenv("OAUTH_CONFIG")) != NULL && *file != '\0') {
		if (strlen(file) > CONFIG_PATH_MAX) {
			snprintf(err, errsz, "OAUTH_CONFIG is too long");
			return -1;
		}
		if (config_read_file(file, values, err, errsz) == -1)
			goto out;
	}
	for (k = 0; k < CONFIG_KEY__MAX; k++) {
		/* An empty variable counts as not given: the file's stands. */
		if ((env = getenv(config_names[k])) == NULL || *env == '\0')
			continue;
		free(values[k]);
		if ((values[k] = strdup(env)) == NULL) {
			snprintf(err, errsz, "out of memory");
			goto out;
		}
	}
	/* A key given an empty value counts as not given. */
	for (k = 0; k < CONFIG_KEY__MAX; k++)
		if (values[k] != NULL && values[k][0] == '\0') {
			free(values[k]);
			values[k] = NULL;
		}
	if (values[CONFIG_DB] == NULL) {
		snprintf(err, errsz, "OAUTH_DB is not set: name the directory "
		    "of the LMDB database");
		goto out;
	}
	if (strlen(values[CONFIG_DB]) > CONFIG_PATH_MAX) {
		snprintf(err, errsz, "OAUTH_DB is too long");
		goto out;
	}
	if (values[CONFIG_ISSUER] != NULL &&
	    !config_issuer_valid(values[CONFIG_ISSUER])) {
		snprintf(err, errsz, "OAUTH_ISSUER must be an http(s) URL "
		    "without query or fragment");
		goto out;
	}
	if (config_number(values, CONFIG_ACCESS_TTL, 1, CONFIG_TTL_LIMIT,
		&access, err, errsz) == -1 ||
	    config_number(values, CONFIG_REFRESH_TTL, 1, CONFIG_TTL_LIMIT,
		&refresh, err, errsz) == -1 ||
	    config_number(values, CONFIG_CODE_TTL, 1, CONFIG_TTL_LIMIT, &code, err,
		errsz) == -1 ||
	    config_number(values, CONFIG_GRANT_TTL, 1, CONFIG_TTL_LIMIT, &grant,
		err, errsz) == -1 ||
	    config_number(values, CONFIG_MAX_BODY, 1, CONFIG_BODY_LIMIT, &body,
		err, errsz) == -1 ||
	    config_number(values, CONFIG_MAP_SIZE, CONFIG_MAP_MIN,
		CONFIG_MAP_LIMIT, &map, err, errsz) == -1 ||
	    config_number(values, CONFIG_CONN_TIMEOUT, 1,
		CONFIG_CONN_TIMEOUT_LIMIT, &conn, err, errsz) == -1)
		goto out;

	if (values[CONFIG_CLAIMS] != NULL &&
	    config_claims(cfg, values[CONFIG_CLAIMS], err, errsz) == -1)
		goto out;
	if (values[CONFIG_SIGNING_ALG] != NULL &&
	    jose_alg_parse(values[CONFIG_SIGNING_ALG], &cfg->signing_alg) ==
		-1) {
		snprintf(err, errsz, "OAUTH_SIGNING_ALG must be RS256, ES256 "
		    "or EdDSA");
		goto out;
	}
	if (values[CONFIG_TOKEN_FORMAT] != NULL) {
		if (strcmp(values[CONFIG_TOKEN_FORMAT], "jwt") == 0)
			cfg->token_format = CONFIG_TOKEN_JWT;
		else if (strcmp(values[CONFIG_TOKEN_FORMAT], "opaque") != 0) {
			snprintf(err, errsz, "OAUTH_ACCESS_TOKEN_FORMAT must be "
			    "opaque or jwt");
			goto out;
		}
	}
	if (values[CONFIG_DPOP_NONCE] != NULL) {
		if (strcmp(values[CONFIG_DPOP_NONCE], "on") == 0)
			cfg->dpop_nonce = 1;
		else if (strcmp(values[CONFIG_DPOP_NONCE], "off") != 0) {
			snprintf(err, errsz, "OAUTH_DPOP_NONCE must be on or "
			    "off");
			goto out;
		}
	}
	if (config_registration(values, cfg, err, errsz) == -1)
		goto out;
	if (values[CONFIG_DB_SYNC] != NULL) {
		for (k = 0; k < CONFIG_SYNC__MAX; k++)
			if (strcmp(values[CONFIG_DB_SYNC],
				config_sync_names[k]) == 0)
				break;
		if (k == CONFIG_SYNC__MAX) {
			snprintf(err, errsz, "OAUTH_DB_SYNC must be full, "
			    "data or none");
			goto out;
		}
		cfg->db_sync = (enum config_sync)k;
	}
	cfg->db_path = values[CONFIG_DB];
	values[CONFIG_DB] = NULL;
	cfg->registration_scopes = values[CONFIG_REGISTRATION_SCOPES];
	values[CONFIG_REGISTRATION_SCOPES] = NULL;
	cfg->issuer = values[CONFIG_ISSUER];
	values[CONFIG_ISSUER] = NULL;
	cfg->access_ttl = access;
	cfg->refresh_ttl = refresh;
	cfg->code_ttl = code;
	cfg->grant_ttl = grant;
	cfg->max_body = (size_t)body;
	cfg->map_size = (size_t)map;
	cfg->conn_timeout = (unsigned)conn;
	rc = 0;
out:
	for (k = 0; k < CONFIG_KEY__MAX; k++)
		free(values[k]);
	if (rc == -1)
		config_free(cfg);
	return rc;
}

/* Releases what config_load allocated; safe on a zeroed or NULL config. */
void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;

	free(cfg->db_path);
	free(cfg->issuer);
	free(cfg->registration_scopes);
	for (i = 0; i < cfg->claim_count; i++) {
		free(cfg->claim_names[i]);
		free(cfg->claim_vars[i]);
	}
	memset(cfg, 0, sizeof(*cfg));
}
