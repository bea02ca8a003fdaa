/*
 * The signing key commands: "key generate", "key list", "key rotate" and
 * "key retire", and the first key "init" creates.  A private key is made
 * and parsed outside any transaction (RSA key generation takes a tenth of
 * a second), and never printed: list and --json show the kid, the
 * algorithm and the key's times, and the public JWK at most.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

enum ctl_key_opt {
	CTL_KEY_ALG = 0,
	CTL_KEY_JSON,
	CTL_KEY__MAX
};

static const struct ctl_option ctl_key_opts[CTL_KEY__MAX] = {
	[CTL_KEY_ALG] = { "--alg", 1, 0 },
	[CTL_KEY_JSON] = { "--json", 0, 0 },
};

#define CTL_KEY_SIGNERS_MAX 64	/* keys of one alg a rotation retires */

/* What "key generate" and "key rotate" put in their transaction. */
struct ctl_key_new {
	struct key key;		/* made outside the transaction */
	int rotate;		/* retire the alg's signing keys */
	int64_t now;
	char signer_kids[CTL_KEY_SIGNERS_MAX][JOSE_KID_LEN + 1];
	size_t signers;		/* keys of the alg that sign now */
	size_t retired;		/* how many rotate retired */
	int overflow;		/* more than CTL_KEY_SIGNERS_MAX of them */
};

/* The walk of "key list". */
struct ctl_key_list {
	const struct ctl *ctl;
	cJSON *array;		/* --json: the objects so far */
	int failed;
};

/* What a key is at now, as "key list" names it. */
static const char *
ctl_key_state(const struct key *k, int64_t now)
{
	if (!store_key_published(k, now))
		return k->created_at > now ? "future" : "dropped";
	if (store_key_signing(k, now))
		return "signing";
	if (k->sign_from > now)
		return "published";
	return "retired";
}

/*
 * How long after it stops signing a key stays published: the longest any
 * token it signed may live, and the JWKS cache lifetime on top.
 */
static int64_t
ctl_key_linger(const struct ctl *ctl)
{
	return ctl->config.access_ttl + JWKS_MAX_AGE;
}

/*
 * Makes a new private key of alg into *k, with its kid (the RFC 7638
 * thumbprint) and public JWK, published from now and signing from
 * sign_from.  Returns CTL_EXIT_OK, or CTL_EXIT_FAIL reported; *k is the
 * caller's to key_free either way.
 */
enum ctl_exit
ctl_key_make(const struct ctl *ctl, enum jose_alg alg, int64_t sign_from,
    struct key *k)
{
	struct buf pem = {0};
	EVP_PKEY *pkey = NULL;
	cJSON *jwk = NULL;
	enum ctl_exit rv = CTL_EXIT_FAIL;

	memset(k, 0, sizeof(*k));
	if (jose_key_generate(alg, &pem) == -1 || pem.data == NULL) {
		ctl_fail(ctl, "cannot generate a %s key", jose_alg_name(alg));
		goto out;
	}
	if (jose_key_parse(alg, pem.data, pem.len, &pkey) == -1 ||
	    jose_key_thumbprint(pkey, alg, k->kid) == -1 ||
	    jose_jwk_public(pkey, alg, k->kid, &jwk) == -1 ||
	    (k->jwk = cJSON_PrintUnformatted(jwk)) == NULL) {
		ctl_fail(ctl, "cannot derive the public key");
		goto out;
	}
	k->pem = buf_steal(&pem);
	k->alg = alg;
	k->created_at = ctl->now;
	k->sign_from = sign_from;
	rv = CTL_EXIT_OK;
out:
	if (pem.data != NULL)
		crypto_wipe(pem.data, pem.cap);
	buf_free(&pem);
	cJSON_Delete(jwk);
	jose_key_free(pkey);
	return rv;
}

/*
 * Collects the kids of the keys of arg's alg that sign now or will: those
 * not retired by now, a key still waiting for its turn among them.
 */
static enum store_each
ctl_key_collect_signers(const struct key *k, void *arg)
{
	struct ctl_key_new *n = arg;

	if (k->alg != n->key.alg ||
	    (k->retired_at != 0 && k->retired_at <= n->now))
		return STORE_EACH_NEXT;
	if (n->signers == CTL_KEY_SIGNERS_MAX) {
		n->overflow = 1;
		return STORE_EACH_STOP;
	}
	memcpy(n->signer_kids[n->signers++], k->kid, sizeof(k->kid));
	return STORE_EACH_NEXT;
}

/*
 * The transaction of "key generate" and "key rotate": arg is a struct
 * ctl_key_new whose key is stored.  When a key of the alg signs already,
 * the new one is published first and signs once every cached JWKS holds it
 * (JWKS_MAX_AGE later).  Rotation retires the keys that sign now at the
 * moment the new one starts, and keeps them published until every token
 * they signed has expired.
 */
static enum ctl_exit
ctl_key_new_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	struct ctl_key_new *n = arg;
	struct key old;
	enum store_status st;
	size_t i;

	n->now = ctl->now;
	n->signers = 0;
	n->retired = 0;
	n->overflow = 0;
	if ((st = store_key_foreach(txn, ctl_key_collect_signers, n)) !=
	    STORE_OK)
		return ctl_store_fail(ctl, "read the keys", st);
	if (n->overflow)
		return ctl_fail(ctl, "more than " CTL_STR(CTL_KEY_SIGNERS_MAX)
		    " keys of %s are not retired: retire some first",
		    jose_alg_name(n->key.alg));
	n->key.sign_from = n->signers > 0 ? ctl->now + JWKS_MAX_AGE : ctl->now;
	for (i = 0; n->rotate && i < n->signers; i++) {
		if ((st = store_key_get(txn, n->signer_kids[i], &old)) !=
		    STORE_OK)
			return ctl_store_fail(ctl, "read the old key", st);
		/* One retiring already, sooner, keeps its own time. */
		if (old.retired_at == 0 || old.retired_at > n->key.sign_from)
			old.retired_at = n->key.sign_from;
		old.drop_at = old.retired_at + ctl_key_linger(ctl);
		st = store_key_put(txn, &old);
		key_free(&old);
		if (st != STORE_OK)
			return ctl_store_fail(ctl, "retire the old key", st);
		n->retired++;
	}
	if ((st = store_key_put(txn, &n->key)) != STORE_OK)
		return ctl_store_fail(ctl, "store the key", st);
	return CTL_EXIT_OK;
}

/* Reads "[--alg ALG] [--json]" of generate and rotate. */
static enum ctl_exit
ctl_key_parse_new(struct ctl *ctl, int argc, char **argv, enum jose_alg *alg,
    int *json, int *helped)
{
	struct ctl_args a;
	char *v;
	int o;

	*alg = JOSE_ALG_RS256;
	*json = *helped = 0;
	ctl_args_init(&a, ctl, ctl_key_opts, CTL_KEY__MAX, argc, argv);
	while ((o = ctl_args_next(&a, &v)) != CTL_ARGS_END) {
		switch (o) {
		case CTL_KEY_ALG:
			if (jose_alg_parse(v, alg) == -1)
				return ctl_usage_error(ctl, "--alg is RS256, "
				    "ES256 or EdDSA");
			break;
		case CTL_KEY_JSON:
			*json = 1;
			break;
		case CTL_ARGS_HELP:
			*helped = 1;
			return ctl_help(ctl);
		case CTL_ARGS_OPERAND:
			return ctl_usage_error(ctl, "unexpected argument '%s'",
			    v);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	return CTL_EXIT_OK;
}

/* "key generate" (rotate 0) and "key rotate" (rotate 1). */
static enum ctl_exit
ctl_key_new(struct ctl *ctl, int argc, char **argv, int rotate)
{
	struct ctl_key_new n;
	enum jose_alg alg;
	enum ctl_exit rv;
	cJSON *o;
	int json, helped;

	if ((rv = ctl_key_parse_new(ctl, argc, argv, &alg, &json, &helped)) !=
	    CTL_EXIT_OK || helped)
		return rv;
	memset(&n, 0, sizeof(n));
	n.rotate = rotate;
	if ((rv = ctl_key_make(ctl, alg, ctl->now, &n.key)) != CTL_EXIT_OK ||
	    (rv = ctl_txn(ctl, 1, ctl_key_new_txn, &n)) != CTL_EXIT_OK)
		goto out;
	if (json) {
		o = cJSON_CreateObject();
		if (o != NULL &&
		    (cJSON_AddStringToObject(o, "kid", n.key.kid) == NULL ||
		    cJSON_AddStringToObject(o, "alg", jose_alg_name(alg)) ==
			NULL ||
		    cJSON_AddNumberToObject(o, "sign_from",
			(double)n.key.sign_from) == NULL)) {
			cJSON_Delete(o);
			o = NULL;
		}
		rv = ctl_json_print(ctl, o, 0);
	} else
		printf("%s\n", n.key.kid);
out:
	key_free(&n.key);
	return rv;
}

enum ctl_exit
ctl_cmd_key_generate(struct ctl *ctl, int argc, char **argv)
{
	return ctl_key_new(ctl, argc, argv, 0);
}

enum ctl_exit
ctl_cmd_key_rotate(struct ctl *ctl, int argc, char **argv)
{
	return ctl_key_new(ctl, argc, argv, 1);
}

/* Prints or collects one key for "key list". */
static enum store_each
ctl_key_list_one(const struct key *k, void *arg)
{
	struct ctl_key_list *l = arg;
	char created[CTL_TIME_MAX], from[CTL_TIME_MAX];
	cJSON *o;

	if (l->array == NULL) {
		ctl_time_format(k->created_at, created);
		ctl_time_format(k->sign_from, from);
		printf("%s\t%s\t%s\tpublished %s\tsigns from %s", k->kid,
		    jose_alg_name(k->alg), ctl_key_state(k, l->ctl->now),
		    created, from);
		if (k->retired_at != 0) {
			ctl_time_format(k->retired_at, from);
			printf("\tuntil %s", from);
		}
		putchar('\n');
		return STORE_EACH_NEXT;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "kid", k->kid) == NULL ||
	    cJSON_AddStringToObject(o, "alg", jose_alg_name(k->alg)) == NULL ||
	    cJSON_AddStringToObject(o, "state",
		ctl_key_state(k, l->ctl->now)) == NULL ||
	    cJSON_AddNumberToObject(o, "created_at", (double)k->created_at) ==
		NULL ||
	    cJSON_AddNumberToObject(o, "sign_from", (double)k->sign_from) ==
		NULL ||
	    (k->retired_at != 0 && cJSON_AddNumberToObject(o, "retired_at",
		(double)k->retired_at) == NULL) ||
	    (k->drop_at != 0 && cJSON_AddNumberToObject(o, "published_until",
		(double)k->drop_at) == NULL)) {
		cJSON_Delete(o);
		l->failed = 1;
		return STORE_EACH_STOP;
	}
	cJSON_AddItemToArray(l->array, o);
	return STORE_EACH_NEXT;
}

/* The transaction of "key list": arg is a struct ctl_key_list. */
static enum ctl_exit
ctl_key_list_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	struct ctl_key_list *l = arg;
	enum store_status st;

	if ((st = store_key_foreach(txn, ctl_key_list_one, l)) != STORE_OK)
		return ctl_store_fail(ctl, "list the keys", st);
	if (l->failed)
		return ctl_fail(ctl, "out of memory");
	return CTL_EXIT_OK;
}

/*
 * Lists the signing keys, one a line: kid, alg, state (published, signing,
 * retired, dropped), and their times; never a private key.
 */
enum ctl_exit
ctl_cmd_key_list(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_key_list l;
	struct ctl_line line;
	enum ctl_exit rv;

	if ((rv = ctl_args_line(ctl, argc, argv, CTL_LINE_JSON, NULL,
	    &line)) != CTL_EXIT_OK || line.helped)
		return rv;
	memset(&l, 0, sizeof(l));
	l.ctl = ctl;
	if (line.json && (l.array = cJSON_CreateArray()) == NULL)
		return ctl_fail(ctl, "out of memory");
	if ((rv = ctl_txn(ctl, 0, ctl_key_list_txn, &l)) != CTL_EXIT_OK) {
		cJSON_Delete(l.array);
		return rv;
	}
	if (line.json)
		return ctl_json_print(ctl, l.array, 0);
	return CTL_EXIT_OK;
}

/* The transaction of "key retire": arg is the kid. */
static enum ctl_exit
ctl_key_retire_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	const char *kid = arg;
	struct key k;
	enum store_status st;
	enum ctl_exit rv = CTL_EXIT_OK;

	if ((st = store_key_get(txn, kid, &k)) == STORE_NOTFOUND)
		return ctl_fail(ctl, "no such key");
	if (st != STORE_OK)
		return ctl_store_fail(ctl, "read the key", st);
	if (k.retired_at == 0 || k.retired_at > ctl->now) {
		k.retired_at = ctl->now;
		k.drop_at = ctl->now + ctl_key_linger(ctl);
		if ((st = store_key_put(txn, &k)) != STORE_OK)
			rv = ctl_store_fail(ctl, "retire the key", st);
	}
	key_free(&k);
	return rv;
}

/*
 * Stops KID signing now; it stays in the JWKS until every token it signed
 * has expired.  Retiring the last key of an alg leaves nothing to sign
 * with it, which the responder then answers with a clear error.
 */
enum ctl_exit
ctl_cmd_key_retire(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_line l;
	enum ctl_exit rv;

	if ((rv = ctl_args_line(ctl, argc, argv, CTL_LINE_DASH, "KID", &l)) !=
	    CTL_EXIT_OK || l.helped)
		return rv;
	return ctl_txn(ctl, 1, ctl_key_retire_txn, (void *)l.operand);
}

/* The transaction of "init": the first key, when there is none. */
static enum ctl_exit
ctl_key_first_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	struct key *k = arg;
	enum store_status st;
	struct key any;

	st = store_key_signer(txn, JOSE_ALG_RS256, ctl->now, &any);
	key_free(&any);
	if (st == STORE_OK)
		return CTL_EXIT_OK;
	if (st != STORE_NOTFOUND)
		return ctl_store_fail(ctl, "read the keys", st);
	if ((st = store_key_put(txn, k)) != STORE_OK)
		return ctl_store_fail(ctl, "store the key", st);
	return CTL_EXIT_OK;
}

/*
 * Makes sure an RS256 key signs, as OpenID Connect Discovery wants RS256
 * available: creates one when none does.  For "init"; ctl->store is open.
 */
enum ctl_exit
ctl_key_init(struct ctl *ctl)
{
	struct store_txn *txn;
	struct key k, any;
	enum store_status st;
	enum ctl_exit rv;

	/* The common case, an existing key, costs no key generation. */
	if ((st = store_txn_begin(ctl->store, 0, &txn)) != STORE_OK)
		return ctl_store_fail(ctl, "begin", st);
	st = store_key_signer(txn, JOSE_ALG_RS256, ctl->now, &any);
	key_free(&any);
	store_txn_abort(txn);
	if (st == STORE_OK)
		return CTL_EXIT_OK;
	if (st != STORE_NOTFOUND)
		return ctl_store_fail(ctl, "read the keys", st);
	if ((rv = ctl_key_make(ctl, JOSE_ALG_RS256, ctl->now, &k)) ==
	    CTL_EXIT_OK)
		rv = ctl_txn(ctl, 1, ctl_key_first_txn, &k);
	key_free(&k);
	return rv;
}
