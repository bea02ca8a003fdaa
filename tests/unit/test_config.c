/*
 * config.c: OAUTH_* from the environment and from the file OAUTH_CONFIG
 * names, the environment winning; OAUTH_DB required; numbers in range.
 */
#include <unistd.h>

#include "unit.h"

#define CF_ERR_MAX 512

static const char *const cf_keys[] = {"OAUTH_DB", "OAUTH_ISSUER",
    "OAUTH_ACCESS_TTL", "OAUTH_REFRESH_TTL", "OAUTH_CODE_TTL",
    "OAUTH_MAX_BODY", "OAUTH_MAP_SIZE", "OAUTH_DB_SYNC", "OAUTH_CONFIG",
    "OAUTH_CLAIMS", "OAUTH_ACCESS_TOKEN_FORMAT", "OAUTH_GRANT_TTL",
    "OAUTH_SIGNING_ALG", NULL};

static char cf_path[64];

/* Every test starts from an environment without OAUTH_*. */
static int
cf_setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; cf_keys[i] != NULL; i++)
		unsetenv(cf_keys[i]);
	cf_path[0] = '\0';
	return 0;
}

static int
cf_teardown(void **state)
{
	if (cf_path[0] != '\0')
		unlink(cf_path);
	return cf_setup(state);
}

/* Writes text to a new file and points OAUTH_CONFIG at it. */
static void
cf_file(const char *text)
{
	FILE *fp;
	int fd;

	strcpy(cf_path, "/tmp/oauth-unit-conf-XXXXXX");
	assert_true((fd = mkstemp(cf_path)) != -1);
	assert_non_null(fp = fdopen(fd, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	setenv("OAUTH_CONFIG", cf_path, 1);
}

/* Fails unless config_load fails with err naming want; cfg stays empty. */
static void
cf_check_fails(int line, const char *want)
{
	struct config cfg;
	char err[CF_ERR_MAX];

	memset(&cfg, 0x5a, sizeof(cfg));
	err[0] = '\0';
	if (config_load(&cfg, err, sizeof(err)) != -1)
		fail_msg("line %d: config_load succeeded", line);
	if (strstr(err, want) == NULL)
		fail_msg("line %d: error \"%s\" does not name %s", line, err,
		    want);
	if (cfg.db_path != NULL || cfg.issuer != NULL)
		fail_msg("line %d: a failed load left strings", line);
	config_free(&cfg);
}

#define cf_assert_fails(want) cf_check_fails(__LINE__, (want))

/* Loads, failing the test with the reason when config_load fails. */
static void
cf_load(struct config *cfg)
{
	char err[CF_ERR_MAX];

	if (config_load(cfg, err, sizeof(err)) != 0)
		fail_msg("config_load: %s", err);
}

/* What a loaded configuration must hold; issuer NULL: none. */
struct cf_want {
	const char *db_path;
	const char *issuer;
	int64_t access_ttl, refresh_ttl, code_ttl;
	size_t max_body, map_size;
};

/* Fails unless cfg holds every value of want.  line names the caller. */
static void
cf_check_values(int line, const struct config *cfg,
    const struct cf_want *want)
{
	if (cfg->db_path == NULL || strcmp(cfg->db_path, want->db_path) != 0)
		fail_msg("line %d: OAUTH_DB %s, want %s", line,
		    cfg->db_path != NULL ? cfg->db_path : "(none)",
		    want->db_path);
	if (want->issuer == NULL ? cfg->issuer != NULL :
	    cfg->issuer == NULL || strcmp(cfg->issuer, want->issuer) != 0)
		fail_msg("line %d: OAUTH_ISSUER %s, want %s", line,
		    cfg->issuer != NULL ? cfg->issuer : "(none)",
		    want->issuer != NULL ? want->issuer : "(none)");
	if (cfg->access_ttl != want->access_ttl ||
	    cfg->refresh_ttl != want->refresh_ttl ||
	    cfg->code_ttl != want->code_ttl)
		fail_msg("line %d: TTLs %lld %lld %lld, want %lld %lld %lld",
		    line, (long long)cfg->access_ttl,
		    (long long)cfg->refresh_ttl, (long long)cfg->code_ttl,
		    (long long)want->access_ttl, (long long)want->refresh_ttl,
		    (long long)want->code_ttl);
	if (cfg->max_body != want->max_body || cfg->map_size != want->map_size)
		fail_msg("line %d: max body %zu, map %zu, want %zu, %zu", line,
		    cfg->max_body, cfg->map_size, want->max_body,
		    want->map_size);
}

/*
 * Loads a configuration of OAUTH_DB=/db and key=value alone.  When ok,
 * fails unless it loads, leaving cfg for the caller to check and free.
 * Otherwise fails unless it is refused with an error naming key and
 * holding nothing of secret (NULL: no such check).
 */
static void
cf_check_pair(void **state, int line, const char *key, const char *value,
    int ok, const char *secret, struct config *cfg)
{
	char err[CF_ERR_MAX];
	int rc;

	cf_setup(state);
	setenv("OAUTH_DB", "/db", 1);
	setenv(key, value, 1);
	err[0] = '\0';
	rc = config_load(cfg, err, sizeof(err));
	if (ok) {
		if (rc != 0)
			fail_msg("line %d: refused: %s", line, err);
		return;
	}
	if (rc != -1)
		fail_msg("line %d: accepted", line);
	if (strstr(err, key) == NULL)
		fail_msg("line %d: error \"%s\"", line, err);
	if (secret != NULL && strstr(err, secret) != NULL)
		fail_msg("line %d: error \"%s\" echoes \"%s\"", line, err,
		    secret);
}

struct number_case {
	int line;
	const char *s;
	long long min, max;
	int rc;
	long long out;
};

static const struct number_case number_cases[] = {
	{__LINE__, "0", 0, 10, 0, 0},
	{__LINE__, "10", 0, 10, 0, 10},
	{__LINE__, "11", 0, 10, -1, 0},
	{__LINE__, "0", 1, 10, -1, 0},
	{__LINE__, "007", 1, 10, 0, 7},
	{__LINE__, "3600", 1, 3600, 0, 3600},
	{__LINE__, "9223372036854775807", 0, 9223372036854775807LL, 0,
	    9223372036854775807LL},
	{__LINE__, "9223372036854775808", 0, 9223372036854775807LL, -1, 0},
	{__LINE__, "99999999999999999999", 0, 9223372036854775807LL, -1, 0},
	/* Whole decimal strings only: like strtonum, not like atoi. */
	{__LINE__, "", 0, 10, -1, 0},
	{__LINE__, NULL, 0, 10, -1, 0},
	{__LINE__, "-1", -10, 10, -1, 0},
	{__LINE__, "+1", 0, 10, -1, 0},
	{__LINE__, " 1", 0, 10, -1, 0},
	{__LINE__, "1 ", 0, 10, -1, 0},
	{__LINE__, "1\n", 0, 10, -1, 0},
	{__LINE__, "1a", 0, 10, -1, 0},
	{__LINE__, "0x1", 0, 10, -1, 0},
	{__LINE__, "1e1", 0, 100, -1, 0},
	{__LINE__, "1.0", 0, 10, -1, 0},
	{__LINE__, "a", 0, 10, -1, 0},
};

static void
test_parse_number(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(number_cases) / sizeof(number_cases[0]); i++) {
		const struct number_case *c = &number_cases[i];
		long long out = -42;
		int rc = config_parse_number(c->s, c->min, c->max, &out);

		if (rc != c->rc)
			fail_msg("line %d: rc %d", c->line, rc);
		if (rc == 0 && out != c->out)
			fail_msg("line %d: %lld", c->line, out);
		if (rc == -1 && out != -42)
			fail_msg("line %d: *out changed on failure", c->line);
	}
}

/* OAUTH_DB alone: the contract's defaults. */
static void
test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	setenv("OAUTH_DB", "/var/db/oauth", 1);
	cf_load(&cfg);
	cf_check_values(__LINE__, &cfg, &(const struct cf_want){
	    "/var/db/oauth", NULL, 3600, 1209600, 60, 16384,
	    CONFIG_MAP_DEFAULT});
	config_free(&cfg);
	assert_null(cfg.db_path);
	config_free(&cfg);
	config_free(NULL);
}

/* OAUTH_DB is required, and the error says so by name. */
static void
test_db_required(void **state)
{
	(void)state;
	cf_assert_fails("OAUTH_DB");
	setenv("OAUTH_DB", "", 1);
	cf_assert_fails("OAUTH_DB");
	unsetenv("OAUTH_DB");
	/* Other keys do not make up for it, from either source. */
	setenv("OAUTH_ISSUER", "https://as.example", 1);
	cf_assert_fails("OAUTH_DB");
	cf_file("# no database here\nOAUTH_ACCESS_TTL=10\n");
	cf_assert_fails("OAUTH_DB");
}

static void
test_environment(void **state)
{
	struct config cfg;

	(void)state;
	setenv("OAUTH_DB", "/db", 1);
	setenv("OAUTH_ISSUER", "https://as.example/oauth", 1);
	setenv("OAUTH_ACCESS_TTL", "60", 1);
	setenv("OAUTH_REFRESH_TTL", "86400", 1);
	setenv("OAUTH_CODE_TTL", "30", 1);
	setenv("OAUTH_MAX_BODY", "1024", 1);
	setenv("OAUTH_MAP_SIZE", "1048576", 1);
	cf_load(&cfg);
	cf_check_values(__LINE__, &cfg, &(const struct cf_want){"/db",
	    "https://as.example/oauth", 60, 86400, 30, 1024, 1048576});
	config_free(&cfg);
	/* An empty OAUTH_ISSUER means derive it. */
	setenv("OAUTH_ISSUER", "", 1);
	cf_load(&cfg);
	cf_check_values(__LINE__, &cfg, &(const struct cf_want){"/db", NULL,
	    60, 86400, 30, 1024, 1048576});
	config_free(&cfg);
}

/* KEY=value lines, # comments, blank lines, spaces, CRLF. */
static void
test_file(void **state)
{
	struct config cfg;

	(void)state;
	cf_file("# fcgi-oauth\n"
		"\n"
		"OAUTH_DB=/srv/oauth\n"
		"   # indented comment\n"
		"  OAUTH_ISSUER = https://as.example/a=b  \n"
		"OAUTH_ACCESS_TTL=120\r\n"
		"\t\n"
		"OAUTH_REFRESH_TTL=\t7200\n"
		"OAUTH_CODE_TTL=45\n"
		"OAUTH_MAX_BODY=2048\n"
		"FCGI_WEB_SERVER_ADDRS=127.0.0.1\n"
		"OAUTH_MAP_SIZE=65536");
	cf_load(&cfg);
	cf_check_values(__LINE__, &cfg, &(const struct cf_want){"/srv/oauth",
	    "https://as.example/a=b", 120, 7200, 45, 2048, 65536});
	config_free(&cfg);

	/* An empty variable counts as not given: the file's value stands. */
	setenv("OAUTH_DB", "", 1);
	setenv("OAUTH_ACCESS_TTL", "", 1);
	cf_load(&cfg);
	cf_check_values(__LINE__, &cfg, &(const struct cf_want){"/srv/oauth",
	    "https://as.example/a=b", 120, 7200, 45, 2048, 65536});
	config_free(&cfg);
}

/* The environment wins over the file, key by key. */
static void
test_environment_wins(void **state)
{
	struct config cfg;

	(void)state;
	cf_file("OAUTH_DB=/from/file\n"
		"OAUTH_ISSUER=https://file.example\n"
		"OAUTH_ACCESS_TTL=100\n"
		"OAUTH_CODE_TTL=10\n");
	setenv("OAUTH_DB", "/from/env", 1);
	setenv("OAUTH_ACCESS_TTL", "200", 1);
	cf_load(&cfg);
	cf_check_values(__LINE__, &cfg, &(const struct cf_want){"/from/env",
	    "https://file.example", 200, 1209600, 10, 16384,
	    CONFIG_MAP_DEFAULT});
	config_free(&cfg);
	/* A bad value in the file is overridden by a good one in the env. */
	unlink(cf_path);
	cf_file("OAUTH_DB=/from/file\nOAUTH_ACCESS_TTL=0\n");
	cf_load(&cfg);
	assert_int_equal(cfg.access_ttl, 200);
	config_free(&cfg);
}

struct range_case {
	int line;
	const char *key;
	const char *value;
	long long want;		/* -1: refused */
};

#define CF_TTL_LIMIT_S "316224000"
#define CF_TTL_OVER_S "316224001"

static const struct range_case range_cases[] = {
	{__LINE__, "OAUTH_ACCESS_TTL", "1", 1},
	{__LINE__, "OAUTH_ACCESS_TTL", CF_TTL_LIMIT_S, CONFIG_TTL_LIMIT},
	{__LINE__, "OAUTH_ACCESS_TTL", CF_TTL_OVER_S, -1},
	{__LINE__, "OAUTH_ACCESS_TTL", "0", -1},
	{__LINE__, "OAUTH_ACCESS_TTL", "-1", -1},
	{__LINE__, "OAUTH_ACCESS_TTL", "1h", -1},
	{__LINE__, "OAUTH_ACCESS_TTL", "3600 ", -1},
	{__LINE__, "OAUTH_ACCESS_TTL", "99999999999999999999999", -1},
	{__LINE__, "OAUTH_REFRESH_TTL", "1", 1},
	{__LINE__, "OAUTH_REFRESH_TTL", CF_TTL_LIMIT_S, CONFIG_TTL_LIMIT},
	{__LINE__, "OAUTH_REFRESH_TTL", CF_TTL_OVER_S, -1},
	{__LINE__, "OAUTH_REFRESH_TTL", "0", -1},
	{__LINE__, "OAUTH_CODE_TTL", "1", 1},
	{__LINE__, "OAUTH_CODE_TTL", "3601", 3601},
	{__LINE__, "OAUTH_CODE_TTL", CF_TTL_LIMIT_S, CONFIG_TTL_LIMIT},
	{__LINE__, "OAUTH_CODE_TTL", CF_TTL_OVER_S, -1},
	{__LINE__, "OAUTH_CODE_TTL", "0", -1},
	{__LINE__, "OAUTH_MAX_BODY", "1", 1},
	{__LINE__, "OAUTH_MAX_BODY", "1048577", 1048577},
	{__LINE__, "OAUTH_MAX_BODY", "67108864", CONFIG_BODY_LIMIT},
	{__LINE__, "OAUTH_MAX_BODY", "67108865", -1},
	{__LINE__, "OAUTH_MAX_BODY", "0", -1},
	{__LINE__, "OAUTH_MAX_BODY", "16k", -1},
	{__LINE__, "OAUTH_MAP_SIZE", "32768", 32768},
	{__LINE__, "OAUTH_MAP_SIZE", "32767", -1},
	{__LINE__, "OAUTH_MAP_SIZE", "1099511627776", 1099511627776LL},
	{__LINE__, "OAUTH_MAP_SIZE", "1099511627777", -1},
};

/* The value config_load stored for key. */
static long long
cf_value(const struct config *cfg, const char *key)
{
	if (strcmp(key, "OAUTH_ACCESS_TTL") == 0)
		return cfg->access_ttl;
	if (strcmp(key, "OAUTH_REFRESH_TTL") == 0)
		return cfg->refresh_ttl;
	if (strcmp(key, "OAUTH_CODE_TTL") == 0)
		return cfg->code_ttl;
	if (strcmp(key, "OAUTH_MAX_BODY") == 0)
		return (long long)cfg->max_body;
	return (long long)cfg->map_size;
}

/* Each number in its range; the error names the key, not the value. */
static void
test_ranges(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
		const struct range_case *c = &range_cases[i];
		struct config cfg;

		/* Values of three bytes or fewer may stand in any message. */
		cf_check_pair(state, c->line, c->key, c->value, c->want != -1,
		    strlen(c->value) > 3 ? c->value : NULL, &cfg);
		if (c->want == -1)
			continue;
		if (cf_value(&cfg, c->key) != c->want)
			fail_msg("line %d: %lld", c->line,
			    cf_value(&cfg, c->key));
		config_free(&cfg);
	}
}

struct issuer_case {
	int line;
	const char *value;
	int ok;
};

static const struct issuer_case issuer_cases[] = {
	{__LINE__, "https://as.example", 1},
	{__LINE__, "https://as.example:8443/oauth", 1},
	{__LINE__, "http://127.0.0.1:8080/oauth.fcgi", 1},
	{__LINE__, "ftp://as.example", 0},
	{__LINE__, "as.example", 0},
	{__LINE__, "//as.example", 0},
	{__LINE__, "HTTPS:", 0},
	{__LINE__, "https://as.example/?secret-query", 0},
	{__LINE__, "https://as.example/#secret-fragment", 0},
	{__LINE__, "https://as example", 0},
	{__LINE__, "https://as.example/\x01", 0},
	{__LINE__, "https://as.example/\xc3\xa9", 0},
};

/* RFC 8414 §2: an http(s) URL without query or fragment. */
static void
test_issuer(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(issuer_cases) / sizeof(issuer_cases[0]); i++) {
		const struct issuer_case *c = &issuer_cases[i];
		struct config cfg;

		cf_check_pair(state, c->line, "OAUTH_ISSUER", c->value, c->ok,
		    "secret", &cfg);
		if (!c->ok)
			continue;
		assert_string_equal(cfg.issuer, c->value);
		config_free(&cfg);
	}
}

static const struct sync_case {
	int line;
	const char *value;
	int ok;
	enum config_sync want;
} sync_cases[] = {
	{__LINE__, "full", 1, CONFIG_SYNC_FULL},
	{__LINE__, "data", 1, CONFIG_SYNC_DATA},
	{__LINE__, "none", 1, CONFIG_SYNC_NONE},
	{__LINE__, "", 1, CONFIG_SYNC_FULL},	/* empty is unset */
	{__LINE__, "FULL", 0, CONFIG_SYNC_FULL},
	{__LINE__, "off", 0, CONFIG_SYNC_FULL},
	{__LINE__, "none ", 0, CONFIG_SYNC_FULL},
};

/* OAUTH_DB_SYNC: full (the default), data or none, spelled exactly. */
static void
test_db_sync(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(sync_cases) / sizeof(sync_cases[0]); i++) {
		const struct sync_case *c = &sync_cases[i];
		struct config cfg;

		cf_check_pair(state, c->line, "OAUTH_DB_SYNC", c->value, c->ok,
		    NULL, &cfg);
		if (!c->ok)
			continue;
		if (cfg.db_sync != c->want)
			fail_msg("line %d: db_sync %d", c->line,
			    (int)cfg.db_sync);
		config_free(&cfg);
	}
}

/* OAUTH_CLAIMS: claim=VARIABLE pairs; OAUTH_ACCESS_TOKEN_FORMAT; grant TTL. */
static const struct claims_case {
	int line;
	const char *value;
	int ok;
	size_t count;
	const char *first_name, *first_var;
} claims_cases[] = {
	{__LINE__, "email=AUTHENTICATE_MAIL", 1, 1, "email",
	    "AUTHENTICATE_MAIL"},
	{__LINE__, "  email=MAIL   name=CN groups=MEMBER_OF ", 1, 3, "email",
	    "MAIL"},
	{__LINE__, "email", 0, 0, NULL, NULL},
	{__LINE__, "=MAIL", 0, 0, NULL, NULL},
	{__LINE__, "email=", 0, 0, NULL, NULL},
	{__LINE__, "Email=MAIL", 0, 0, NULL, NULL},
	{__LINE__, "email=mail", 0, 0, NULL, NULL},
	{__LINE__, "e-mail=MAIL", 0, 0, NULL, NULL},
	{__LINE__, "email=MA IL", 0, 0, NULL, NULL},
	/* What the ID Token says of itself is not the web server's. */
	{__LINE__, "sub=REMOTE_USER", 0, 0, NULL, NULL},
	{__LINE__, "aud=X", 0, 0, NULL, NULL},
	{__LINE__, "nonce=X", 0, 0, NULL, NULL},
	{__LINE__, "nbf=X", 0, 0, NULL, NULL},
	{__LINE__, "acr=X", 0, 0, NULL, NULL},
	/* A request header is the peer's word, not the web server's. */
	{__LINE__, "email=HTTP_X_EMAIL", 0, 0, NULL, NULL},
	{__LINE__, "a=A b=B c=C d=D e=E f=F g=G h=H i=I j=J k=K l=L m=M n=N "
	    "o=O p=P", 1, 16, "a", "A"},
	{__LINE__, "a=A b=B c=C d=D e=E f=F g=G h=H i=I j=J k=K l=L m=M n=N "
	    "o=O p=P q=Q", 0, 0, NULL, NULL},
};

static void
test_claims(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(claims_cases) / sizeof(claims_cases[0]); i++) {
		const struct claims_case *c = &claims_cases[i];
		struct config cfg;

		cf_check_pair(state, c->line, "OAUTH_CLAIMS", c->value, c->ok,
		    NULL, &cfg);
		if (!c->ok)
			continue;
		if (cfg.claim_count != c->count ||
		    strcmp(cfg.claim_names[0], c->first_name) != 0 ||
		    strcmp(cfg.claim_vars[0], c->first_var) != 0)
			fail_msg("line %d: %zu claims, first %s=%s", c->line,
			    cfg.claim_count, cfg.claim_names[0],
			    cfg.claim_vars[0]);
		config_free(&cfg);
	}
}

static void
test_token_format_and_grant_ttl(void **state)
{
	struct config cfg;

	cf_check_pair(state, __LINE__, "OAUTH_ACCESS_TOKEN_FORMAT", "jwt", 1,
	    NULL, &cfg);
	assert_int_equal(cfg.token_format, CONFIG_TOKEN_JWT);
	assert_true(cfg.grant_ttl == CONFIG_GRANT_TTL_DEFAULT);
	config_free(&cfg);
	cf_check_pair(state, __LINE__, "OAUTH_ACCESS_TOKEN_FORMAT", "opaque", 1,
	    NULL, &cfg);
	assert_int_equal(cfg.token_format, CONFIG_TOKEN_OPAQUE);
	config_free(&cfg);
	cf_check_pair(state, __LINE__, "OAUTH_ACCESS_TOKEN_FORMAT", "JWT", 0,
	    NULL, &cfg);
	cf_check_pair(state, __LINE__, "OAUTH_GRANT_TTL", "86400", 1, NULL,
	    &cfg);
	assert_true(cfg.grant_ttl == 86400);
	config_free(&cfg);
	cf_check_pair(state, __LINE__, "OAUTH_GRANT_TTL", "0", 0, NULL, &cfg);
	cf_check_pair(state, __LINE__, "OAUTH_SIGNING_ALG", "EdDSA", 1, NULL,
	    &cfg);
	assert_int_equal(cfg.signing_alg, JOSE_ALG_EDDSA);
	config_free(&cfg);
	cf_check_pair(state, __LINE__, "OAUTH_SIGNING_ALG", "HS256", 0, NULL,
	    &cfg);
}

/* Broken files are errors that say where, never what the line held. */
static void
test_file_errors(void **state)
{
	char line[5000];

	(void)state;
	setenv("OAUTH_CONFIG", "/nonexistent/oauth.conf", 1);
	setenv("OAUTH_DB", "/db", 1);
	cf_assert_fails("OAUTH_CONFIG");
	cf_assert_fails("/nonexistent/oauth.conf");
	/* A directory cannot be read as a file. */
	setenv("OAUTH_CONFIG", "/tmp", 1);
	cf_assert_fails("OAUTH_CONFIG");

	cf_file("OAUTH_DB=/db\nOAUTH_ACCESS_TTL 60\n");
	cf_assert_fails(":2:");
	unlink(cf_path);
	cf_file("OAUTH_DB=/db\n\n# x\nOAUTH_SECRET=hunter2\n");
	cf_assert_fails(":4:");
	{
		struct config cfg;
		char err[CF_ERR_MAX];

		assert_int_equal(config_load(&cfg, err, sizeof(err)), -1);
		assert_null(strstr(err, "hunter2"));
	}
	unlink(cf_path);
	/*
	 * Keys are case-sensitive, as in the environment: "oauth_db" is some
	 * other program's key, passed over, so OAUTH_DB is still missing.
	 */
	unsetenv("OAUTH_DB");
	cf_file("oauth_db=/db\n");
	cf_assert_fails("OAUTH_DB");
	unlink(cf_path);
	setenv("OAUTH_DB", "/db", 1);
	cf_file("=/db\n");
	cf_assert_fails(":1:");
	unlink(cf_path);
	/* A value that is out of range in the file names its key. */
	cf_file("OAUTH_DB=/db\nOAUTH_CODE_TTL=0\n");
	cf_assert_fails("OAUTH_CODE_TTL");
	unlink(cf_path);
	/* An over-long line is refused, not split into two. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "OAUTH_ISSUER=https://", 21);
	line[sizeof(line) - 1] = '\0';
	{
		char text[sizeof(line) + 32];

		snprintf(text, sizeof(text), "OAUTH_DB=/db\n%s\n", line);
		cf_file(text);
	}
	cf_assert_fails(":2:");
	/* An empty OAUTH_CONFIG names no file. */
	unlink(cf_path);
	cf_path[0] = '\0';
	setenv("OAUTH_CONFIG", "", 1);
	{
		struct config cfg;

		cf_load(&cfg);
		assert_string_equal(cfg.db_path, "/db");
		config_free(&cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_number),
		cmocka_unit_test_setup_teardown(test_defaults, cf_setup,
		    cf_teardown),
		cmocka_unit_test_setup_teardown(test_db_required, cf_setup,
		    cf_teardown),
		cmocka_unit_test_setup_teardown(test_environment, cf_setup,
		    cf_teardown),
		cmocka_unit_test_setup_teardown(test_file, cf_setup,
		    cf_teardown),
		cmocka_unit_test_setup_teardown(test_environment_wins, cf_setup,
		    cf_teardown),
		cmocka_unit_test_setup_teardown(test_ranges, cf_setup,
		    cf_teardown),
		cmocka_unit_test_setup_teardown(test_issuer, cf_setup,
		    cf_teardown),
		cmocka_unit_test_setup_teardown(test_claims, cf_setup,
		    cf_teardown),
		cmocka_unit_test_setup_teardown(test_token_format_and_grant_ttl,
		    cf_setup, cf_teardown),
		cmocka_unit_test_setup_teardown(test_db_sync, cf_setup,
		    cf_teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, cf_setup,
		    cf_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
