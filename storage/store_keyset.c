/*
 * The key set's life over time: which signing keys are published in the
 * JWKS and which one signs, so that rotation never leaves a verifier with
 * a token it cannot check (store.h, struct key).  Backend-neutral: only the
 * store_* interface is used here.
 */
#include <string.h>

#include "store.h"

/* Whether k is in the JWKS at now: created, and not yet dropped. */
int
store_key_published(const struct key *k, int64_t now)
{
	return k->created_at <= now && (k->drop_at == 0 || now < k->drop_at);
}

/* Whether k may sign at now: its time has come and it is not retired. */
int
store_key_signing(const struct key *k, int64_t now)
{
	return k->sign_from <= now &&
	    (k->retired_at == 0 || now < k->retired_at);
}

/* The search of store_key_signer. */
struct store_keyset_pick {
	enum jose_alg alg;
	int64_t now;
	struct key *out;
	int found;
	int failed;		/* memory ran out */
};

/* Keeps the signing key of the wanted alg that began signing last. */
static enum store_each
store_keyset_pick(const struct key *k, void *arg)
{
	struct store_keyset_pick *p = arg;

	if (k->alg != p->alg || !store_key_signing(k, p->now))
		return STORE_EACH_NEXT;
	if (p->found && k->sign_from < p->out->sign_from)
		return STORE_EACH_NEXT;
	key_free(p->out);
	p->found = 0;
	/* The walk frees k: its strings are copied, the rest taken whole. */
	*p->out = *k;
	p->out->pem = p->out->jwk = NULL;
	if ((p->out->pem = strdup(k->pem)) == NULL ||
	    (p->out->jwk = strdup(k->jwk)) == NULL) {
		key_free(p->out);
		p->failed = 1;
		return STORE_EACH_STOP;
	}
	p->found = 1;
	return STORE_EACH_NEXT;
}

/*
 * The key that signs with alg at now: of those that may sign, the one that
 * began last, so that a rotated-in key takes over as soon as its time
 * comes.  On STORE_OK *out is the caller's (key_free).  Returns
 * STORE_NOTFOUND when no key of alg may sign, STORE_NOMEM, or the failure
 * of the walk.
 */
enum store_status
store_key_signer(struct store_txn *t, enum jose_alg alg, int64_t now,
    struct key *out)
{
	struct store_keyset_pick p;
	enum store_status st;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.alg = alg;
	p.now = now;
	p.out = out;
	st = store_key_foreach(t, store_keyset_pick, &p);
	if (st == STORE_OK && p.failed)
		st = STORE_NOMEM;
	if (st == STORE_OK && !p.found)
		st = STORE_NOTFOUND;
	if (st != STORE_OK)
		key_free(out);
	return st;
}
