/*
 * The handlers in a loop, in one process, as a FastCGI responder runs them:
 * token issuance (client_secret_basic, one write transaction) and
 * introspection (one read transaction), against a real LMDB database.
 *
 *   bench_handlers DBDIR token|introspect COUNT
 *
 * The OAUTH_* configuration applies (OAUTH_DB_SYNC above all); DBDIR
 * stands in for OAUTH_DB.
 * Prints the requests per second it saw.  For numbers that do not depend
 * on the machine's load, run it under callgrind with two COUNTs and divide
 * the difference in instructions (bench/run.sh does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../handlers/handlers.h"

#define BENCH_COUNT_MAX 1000000LL
#define BENCH_SECRET "bench-secret-0123456789abcdefghijklmnopq"

static int64_t
bench_now(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

static int
bench_random(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	return crypto_random(buf, len);
}

/* Adds the client "bench" (client_credentials, scope "read write"). */
static int
bench_client(struct store *store)
{
	struct client c;
	struct store_txn *txn;
	enum store_status st;

	memset(&c, 0, sizeof(c));
	strcpy(c.id, "bench");
	c.grant_types = GRANT_CLIENT_CREDENTIALS;
	c.may_introspect = 1;
	c.scope = "read write";
	if (crypto_random(c.secret_salt, sizeof(c.secret_salt)) == -1 ||
	    crypto_secret_hash(c.secret_salt, BENCH_SECRET,
		strlen(BENCH_SECRET), c.secret_hash) == -1)
		return -1;
	if (store_txn_begin(store, 1, &txn) != STORE_OK)
		return -1;
	st = store_client_put(txn, &c, 1);
	if (st != STORE_OK) {
		store_txn_abort(txn);
		return -1;
	}
	return store_txn_commit(txn) == STORE_OK ? 0 : -1;
}

/* Runs one request against path with body; returns the status. */
static int
bench_request(const struct handler_env *env, const char *path,
    const char *body, struct buf *out)
{
	struct request req;
	struct response resp;
	int status;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = (char *)path;
	req.content_type = "application/x-www-form-urlencoded";
	req.authorization = "Basic YmVuY2g6YmVuY2gtc2VjcmV0LTAxMjM0NTY3ODlh"
			    "YmNkZWZnaGlqa2xtbm9wcQ==";
	req.host = "127.0.0.1";
	req.script_name = "/oauth";
	req.body = (char *)body;
	req.body_len = strlen(body);
	response_init(&resp);
	handler_dispatch(env, &req, &resp);
	status = resp.status;
	if (out != NULL && resp.body.data != NULL)
		(void)buf_puts(out, resp.body.data);
	response_free(&resp);
	return status;
}

int
main(int argc, char *argv[])
{
	struct config cfg;
	char err[256];
	struct store *store;
	struct handler_env env;
	struct buf first = {0}, body = {0};
	struct timespec t0, t1;
	long long count, i;
	const char *path;
	cJSON *o;
	double secs;

	if (argc != 4 || config_parse_number(argv[3], 1, BENCH_COUNT_MAX,
			     &count) == -1 ||
	    (strcmp(argv[2], "token") != 0 &&
		strcmp(argv[2], "introspect") != 0)) {
		fprintf(stderr, "usage: bench_handlers DBDIR token|introspect "
				"COUNT\n");
		return 2;
	}
	if (setenv("OAUTH_DB", argv[1], 1) == -1 ||
	    config_load(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_handlers: %s\n", err);
		return 1;
	}
	if (crypto_init() == -1 ||
	    store_open(argv[1], cfg.map_size,
		STORE_OPEN_CREATE | store_open_sync_flags(cfg.db_sync),
		&store) != STORE_OK ||
	    bench_client(store) == -1) {
		fprintf(stderr, "bench_handlers: cannot set up %s\n", argv[1]);
		return 1;
	}
	env.config = &cfg;
	env.store = store;
	env.now = bench_now;
	env.random = bench_random;
	env.ctx = NULL;

	path = "/token";
	if (bench_request(&env, "/token", "grant_type=client_credentials",
		&first) != 200)
		return 1;
	(void)buf_puts(&body, "grant_type=client_credentials");
	if (strcmp(argv[2], "introspect") == 0) {
		o = cJSON_Parse(first.data);
		buf_free(&body);
		(void)buf_printf(&body, "token=%s",
		    cJSON_GetStringValue(cJSON_GetObjectItem(o,
			"access_token")));
		cJSON_Delete(o);
		path = "/introspect";
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; i++)
		if (bench_request(&env, path, body.data, NULL) != 200) {
			fprintf(stderr, "bench_handlers: request %lld failed\n",
			    i);
			return 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%s: %lld requests in %.3f s: %.0f requests/s, %.1f us each\n",
	    argv[2], count, secs, (double)count / secs, secs * 1e6 /
	    (double)count);
	buf_free(&first);
	buf_free(&body);
	store_close(store);
	config_free(&cfg);
	return 0;
}
