/*
 * The client commands: add, list, show, remove, secret.  Everything an
 * operator types is checked before the database is opened, so a usage
 * error never touches it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* What "client add" was told. */
struct ctl_client_spec {
	const char *id;
	char *secret_arg;		/* --secret, an argv string */
	int is_public;
	int introspect;
	int dpop;			/* --dpop */
	const char *jwks;		/* --jwks FILE */
	const char *tls_subject;	/* --tls-subject DN */
	const char *tls_cert;		/* --tls-cert FILE */
	int json;
	const char *scope;
	const char *grant_types;
	const char *audience;
	const char *token_format;	/* --token-format, or NULL */
	const char *uris[REDIRECT_URIS_MAX];
	size_t uri_count;
	const char *resources[RESOURCES_MAX];	/* --resource */
	size_t resource_count;
};

/* The names of enum client_token_format, as --token-format and show say. */
static const char *const ctl_client_formats[CLIENT_TOKEN__MAX] = {
	[CLIENT_TOKEN_DEFAULT] = "default",
	[CLIENT_TOKEN_OPAQUE] = "opaque",
	[CLIENT_TOKEN_JWT] = "jwt",
};

/* The options of "client add", indexed as ctl_args_next returns them. */
enum ctl_client_add_opt {
	CTL_ADD_SECRET = 0,
	CTL_ADD_PUBLIC,
	CTL_ADD_SCOPE,
	CTL_ADD_GRANT_TYPES,
	CTL_ADD_REDIRECT_URI,
	CTL_ADD_AUDIENCE,
	CTL_ADD_INTROSPECT,
	CTL_ADD_TOKEN_FORMAT,
	CTL_ADD_DPOP,
	CTL_ADD_RESOURCE,
	CTL_ADD_JWKS,
	CTL_ADD_TLS_SUBJECT,
	CTL_ADD_TLS_CERT,
	CTL_ADD_JSON,
	CTL_ADD__MAX
};

static const struct ctl_option ctl_client_add_opts[CTL_ADD__MAX] = {
	[CTL_ADD_SECRET] = { "--secret", 1, 0 },
	[CTL_ADD_PUBLIC] = { "--public", 0, 0 },
	[CTL_ADD_SCOPE] = { "--scope", 1, 0 },
	[CTL_ADD_GRANT_TYPES] = { "--grant-types", 1, 0 },
	[CTL_ADD_REDIRECT_URI] = { "--redirect-uri", 1, 1 },
	[CTL_ADD_AUDIENCE] = { "--audience", 1, 0 },
	[CTL_ADD_INTROSPECT] = { "--introspect", 0, 0 },
	[CTL_ADD_TOKEN_FORMAT] = { "--token-format", 1, 0 },
	[CTL_ADD_DPOP] = { "--dpop", 0, 0 },
	[CTL_ADD_RESOURCE] = { "--resource", 1, 1 },
	[CTL_ADD_JWKS] = { "--jwks", 1, 0 },
	[CTL_ADD_TLS_SUBJECT] = { "--tls-subject", 1, 0 },
	[CTL_ADD_TLS_CERT] = { "--tls-cert", 1, 0 },
	[CTL_ADD_JSON] = { "--json", 0, 0 },
};

/* The client that "client show" and "client secret" work on. */
struct ctl_client_one {
	struct ctl_line line;	/* "ID [--json]": the ID is line.operand */
	struct client c;	/* read in the transaction; client_free */
	char secret[CTL_SECRET_STRING_MAX]; /* "client secret": the new one */
	size_t secret_len;
};

/* Where "client list" puts what it sees. */
struct ctl_client_walk {
	cJSON *array;		/* --json; NULL for lines of text */
	int failed;		/* memory ran out */
};

static enum ctl_exit ctl_client_id_check(const struct ctl *, const char *);
static enum ctl_exit ctl_client_parse_add(struct ctl *, int, char **,
    struct ctl_client_spec *);
static enum ctl_exit ctl_client_parse_id(struct ctl *, int, char **,
    unsigned, struct ctl_line *);
static int ctl_client_grants_parse(const char *, unsigned *);
static enum ctl_exit ctl_client_secret_take(const struct ctl *, char *,
    char *, size_t, size_t *);
static enum ctl_exit ctl_client_secret_set(const struct ctl *,
    struct client *, char *, size_t, size_t *);
static enum ctl_exit ctl_client_build(const struct ctl *,
    const struct ctl_client_spec *, struct client *);
static enum ctl_exit ctl_client_print_secret(const struct ctl *,
    const char *, const char *, int);
static enum ctl_exit ctl_client_fail(const struct ctl *, const char *,
    enum store_status);
static enum ctl_exit ctl_client_put(const struct ctl *, struct store_txn *,
    const struct client *, int);
static enum ctl_exit ctl_client_add_txn(const struct ctl *,
    struct store_txn *, void *);
static int ctl_client_json_push(cJSON *, const char *);
static cJSON *ctl_client_json(const struct client *);
static int ctl_client_print(const struct client *);
static enum store_each ctl_client_list_one(const struct client *, void *);
static enum ctl_exit ctl_client_list_txn(const struct ctl *,
    struct store_txn *, void *);
static enum ctl_exit ctl_client_get_txn(const struct ctl *,
    struct store_txn *, void *);
static enum ctl_exit ctl_client_one_txn(struct ctl *, int, char **, int,
    ctl_txn_fn, struct ctl_client_one *);
static enum ctl_exit ctl_client_remove_txn(const struct ctl *,
    struct store_txn *, void *);
static enum ctl_exit ctl_client_secret_txn(const struct ctl *,
    struct store_txn *, void *);

/*
 * Whether id may name a client: 1 to CLIENT_ID_MAX bytes of printable
 * ASCII without space (RFC 6749 Appendix A allows VSCHAR; a space would
 * make our listings ambiguous).  Returns CTL_EXIT_OK, or CTL_EXIT_USAGE
 * once reported.
 */
static enum ctl_exit
ctl_client_id_check(const struct ctl *ctl, const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (i == CLIENT_ID_MAX || (unsigned char)id[i] < 0x21 ||
		    (unsigned char)id[i] > 0x7e)
			break;
	if (i == 0 || id[i] != '\0')
		return ctl_usage_error(ctl, "a client ID is 1 to "
		    CTL_STR(CLIENT_ID_MAX) " printable ASCII characters "
		    "without space");
	return CTL_EXIT_OK;
}

/*
 * Parses a comma-separated list of grant type names into *bits.  Returns 0,
 * or -1 for an unknown or empty name.
 */
static int
ctl_client_grants_parse(const char *list, unsigned *bits)
{
	const char *p = list, *end;
	size_t i, len;

	*bits = 0;
	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < CTL_GRANT_COUNT; i++)
			if (strlen(ctl_grants[i].name) == len &&
			    memcmp(ctl_grants[i].name, p, len) == 0)
				break;
		if (i == CTL_GRANT_COUNT)
			return -1;
		*bits |= ctl_grants[i].bit;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

/*
 * Reads the command line of "client add" into *spec.  Returns
 * CTL_EXIT_OK; CTL_EXIT_USAGE once reported; or, for --help, the help's
 * CTL_EXIT_OK with spec->id left NULL.
 */
static enum ctl_exit
ctl_client_parse_add(struct ctl *ctl, int argc, char **argv,
    struct ctl_client_spec *spec)
{
	struct ctl_args a;
	char *v;
	int o;

	memset(spec, 0, sizeof(*spec));
	ctl_args_init(&a, ctl, ctl_client_add_opts, CTL_ADD__MAX, argc, argv);
	while ((o = ctl_args_next(&a, &v)) != CTL_ARGS_END) {
		switch (o) {
		case CTL_ADD_SECRET:
			spec->secret_arg = v;
			break;
		case CTL_ADD_PUBLIC:
			spec->is_public = 1;
			break;
		case CTL_ADD_SCOPE:
			spec->scope = v;
			break;
		case CTL_ADD_GRANT_TYPES:
			spec->grant_types = v;
			break;
		case CTL_ADD_REDIRECT_URI:
			if (spec->uri_count == REDIRECT_URIS_MAX)
				return ctl_usage_error(ctl, "at most "
				    CTL_STR(REDIRECT_URIS_MAX)
				    " --redirect-uri");
			spec->uris[spec->uri_count++] = v;
			break;
		case CTL_ADD_AUDIENCE:
			spec->audience = v;
			break;
		case CTL_ADD_INTROSPECT:
			spec->introspect = 1;
			break;
		case CTL_ADD_TOKEN_FORMAT:
			spec->token_format = v;
			break;
		case CTL_ADD_DPOP:
			spec->dpop = 1;
			break;
		case CTL_ADD_JWKS:
			spec->jwks = v;
			break;
		case CTL_ADD_TLS_SUBJECT:
			spec->tls_subject = v;
			break;
		case CTL_ADD_TLS_CERT:
			spec->tls_cert = v;
			break;
		case CTL_ADD_RESOURCE:
			if (spec->resource_count == RESOURCES_MAX)
				return ctl_usage_error(ctl, "at most "
				    CTL_STR(RESOURCES_MAX) " --resource");
			spec->resources[spec->resource_count++] = v;
			break;
		case CTL_ADD_JSON:
			spec->json = 1;
			break;
		case CTL_ARGS_OPERAND:
			if (ctl_args_operand(ctl, &spec->id, 1, v) !=
			    CTL_EXIT_OK)
				return CTL_EXIT_USAGE;
			break;
		case CTL_ARGS_HELP:
			spec->id = NULL;
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (spec->id == NULL)
		return ctl_usage_error(ctl, "missing client ID");
	return CTL_EXIT_OK;
}

/*
 * Reads "ID", or "ID [--json]" when flags has CTL_LINE_JSON, into l, the
 * ID in l->operand.  Returns what ctl_args_line returns (l->helped after
 * --help), or CTL_EXIT_USAGE once a malformed ID has been reported.
 */
static enum ctl_exit
ctl_client_parse_id(struct ctl *ctl, int argc, char **argv, unsigned flags,
    struct ctl_line *l)
{
	enum ctl_exit rv;

	if ((rv = ctl_args_line(ctl, argc, argv, flags, "client ID", l)) !=
	    CTL_EXIT_OK || l->helped)
		return rv;
	return ctl_client_id_check(ctl, l->operand);
}

/*
 * Copies the operator's --secret into secret (size bytes), reading it from
 * standard input for "-", and wipes the argv copy so that it does not
 * linger in the process's memory.  Any length from 1 to CLIENT_SECRET_MAX
 * is taken: an operator's secret may be guessable, so it is stored with a
 * KDF (crypto_secret_derive says why and what it costs).  Returns
 * CTL_EXIT_OK with *len set, or CTL_EXIT_USAGE / CTL_EXIT_FAIL once
 * reported (secret wiped).
 */
static enum ctl_exit
ctl_client_secret_take(const struct ctl *ctl, char *arg, char *secret,
    size_t size, size_t *len)
{
	enum ctl_exit rv;
	size_t i;

	if (strcmp(arg, "-") == 0) {
		if ((rv = ctl_read_line(ctl, "the secret", secret, size,
		    len)) != CTL_EXIT_OK)
			return rv;
	} else {
		*len = strlen(arg);
		if (*len < size)
			memcpy(secret, arg, *len + 1);
		crypto_wipe(arg, *len);
		if (*len >= size)
			return ctl_usage_error(ctl, "--secret is longer than "
			    CTL_STR(CLIENT_SECRET_MAX) " bytes");
	}
	if (*len == 0 || *len > CLIENT_SECRET_MAX) {
		crypto_wipe(secret, size);
		return ctl_usage_error(ctl, "--secret must be 1 to "
		    CTL_STR(CLIENT_SECRET_MAX) " bytes (or let one be "
		    "generated)");
	}
	/* RFC 6749 Appendix A: client-secret = *VSCHAR (%x20-7E). */
	for (i = 0; i < *len; i++) {
		if ((unsigned char)secret[i] < 0x20 ||
		    (unsigned char)secret[i] > 0x7e) {
			crypto_wipe(secret, size);
			return ctl_usage_error(ctl, "--secret must be "
			    "printable ASCII (RFC 6749 Appendix A)");
		}
	}
	return CTL_EXIT_OK;
}

/*
 * Gives c a new random salt and the stored form of secret.  When *len is 0
 * a secret is generated first: SECRET_RANDOM_LEN random bytes, base64url,
 * into secret (size bytes, at least CTL_SECRET_STRING_MAX), stored with a
 * fast hash; the operator's own is stored with SECRET_KDF_ITERATIONS
 * rounds of PBKDF2 (crypto_secret_derive).  Returns
 * CTL_EXIT_OK, or CTL_EXIT_FAIL once reported; c's hash is then
 * unspecified and the caller must not store it.
 */
static enum ctl_exit
ctl_client_secret_set(const struct ctl *ctl, struct client *c, char *secret,
    size_t size, size_t *len)
{
	unsigned char raw[SECRET_RANDOM_LEN];

	c->secret_iterations = *len == 0 ? 0 : SECRET_KDF_ITERATIONS;
	if (*len == 0) {
		if (crypto_random(raw, sizeof(raw)) == -1) {
			crypto_wipe(raw, sizeof(raw));
			return ctl_fail(ctl, "no random bytes for a secret");
		}
		*len = b64url_encode(raw, sizeof(raw), secret, size);
		crypto_wipe(raw, sizeof(raw));
		if (*len == 0)
			return ctl_fail(ctl, "cannot encode the secret");
	}
	if (crypto_random(c->secret_salt, sizeof(c->secret_salt)) == -1 ||
	    crypto_secret_derive(c->secret_salt, secret, *len,
	    c->secret_iterations, c->secret_hash) == -1)
		return ctl_fail(ctl, "cannot hash the secret");
	return CTL_EXIT_OK;
}

/*
 * Checks everything in spec but the secret and fills c (zeroed first,
 * owned by the caller and released with client_free even on failure).
 * Returns CTL_EXIT_OK, CTL_EXIT_USAGE or CTL_EXIT_FAIL, reported.
 */
static enum ctl_exit
ctl_client_build(const struct ctl *ctl, const struct ctl_client_spec *spec,
    struct client *c)
{
	const char *why;
	size_t i, j, len;

	memset(c, 0, sizeof(*c));
	if (ctl_client_id_check(ctl, spec->id) != CTL_EXIT_OK)
		return CTL_EXIT_USAGE;
	memcpy(c->id, spec->id, strlen(spec->id) + 1);
	c->is_public = spec->is_public;
	c->may_introspect = spec->introspect;
	c->dpop_bound = spec->dpop;
	c->created_at = ctl->now;
	/* Without --token-format, OAUTH_ACCESS_TOKEN_FORMAT decides. */
	if (spec->token_format == NULL)
		c->token_format = CLIENT_TOKEN_DEFAULT;
	else if (strcmp(spec->token_format, "jwt") == 0)
		c->token_format = CLIENT_TOKEN_JWT;
	else if (strcmp(spec->token_format, "opaque") == 0)
		c->token_format = CLIENT_TOKEN_OPAQUE;
	else
		return ctl_usage_error(ctl, "--token-format is opaque or jwt");

	if (spec->is_public && spec->secret_arg != NULL)
		return ctl_usage_error(ctl, "--secret and --public exclude "
		    "each other");
	/* RFC 7523 §2.2: a client of keys has no secret, and is no public one. */
	if (spec->jwks != NULL && (spec->is_public || spec->secret_arg != NULL))
		return ctl_usage_error(ctl, "--jwks excludes --secret and "
		    "--public");
	if (spec->jwks != NULL &&
	    ctl_jwks_read(ctl, spec->jwks, &c->jwks) != CTL_EXIT_OK)
		return CTL_EXIT_FAIL;
	/* RFC 8705 §2: one certificate method, instead of any other. */
	if ((spec->tls_subject != NULL || spec->tls_cert != NULL) &&
	    (spec->tls_subject != NULL) + (spec->tls_cert != NULL) +
	    (spec->jwks != NULL) + spec->is_public +
	    (spec->secret_arg != NULL) > 1)
		return ctl_usage_error(ctl, "--tls-subject and --tls-cert "
		    "exclude each other, --jwks, --secret and --public");
	if (spec->tls_subject != NULL) {
		len = strlen(spec->tls_subject);
		if (len == 0 || len > CLIENT_TLS_VALUE_MAX ||
		    !utf8_valid(spec->tls_subject, len))
			return ctl_usage_error(ctl, "--tls-subject must be 1 to "
			    CTL_STR(CLIENT_TLS_VALUE_MAX) " bytes of UTF-8");
		c->tls_auth = CLIENT_TLS_SUBJECT_DN;
		if ((c->tls_value = strdup(spec->tls_subject)) == NULL)
			return ctl_fail(ctl, "out of memory");
	}
	if (spec->tls_cert != NULL &&
	    ctl_cert_read(ctl, spec->tls_cert, &c->tls_value) != CTL_EXIT_OK)
		return CTL_EXIT_FAIL;
	if (spec->tls_cert != NULL)
		c->tls_auth = CLIENT_TLS_SELF_SIGNED;
	/*
	 * A public client authenticates by its id alone: allowed to
	 * introspect every token, it would let anyone do so.
	 */
	if (spec->is_public && spec->introspect)
		return ctl_usage_error(ctl, "--introspect needs a confidential "
		    "client, not --public");
	if (spec->grant_types == NULL)
		c->grant_types = spec->is_public ?
		    GRANT_AUTHORIZATION_CODE | GRANT_REFRESH_TOKEN :
		    GRANT_CLIENT_CREDENTIALS;
	else if (ctl_client_grants_parse(spec->grant_types,
	    &c->grant_types) == -1)
		return ctl_usage_error(ctl, "--grant-types is a comma-separated "
		    "list of client_credentials, authorization_code, "
		    "refresh_token");
	/* RFC 6749 §4.4: client_credentials is for confidential clients. */
	if (spec->is_public && (c->grant_types & GRANT_CLIENT_CREDENTIALS))
		return ctl_usage_error(ctl, "a public client cannot use "
		    "client_credentials (RFC 6749 §4.4)");
	/* RFC 6749 §3.1.2.2: we redirect only to registered URIs. */
	if ((c->grant_types & GRANT_AUTHORIZATION_CODE) &&
	    spec->uri_count == 0)
		return ctl_usage_error(ctl, "authorization_code needs at least "
		    "one --redirect-uri (RFC 6749 §3.1.2.2)");
	if ((c->grant_types & GRANT_REFRESH_TOKEN) &&
	    !(c->grant_types & GRANT_AUTHORIZATION_CODE))
		fprintf(stderr, "oauthctl: %s: warning: refresh_token without "
		    "authorization_code: no refresh token will ever be "
		    "issued\n", ctl->command);

	if (spec->scope == NULL || spec->scope[0] == '\0')
		c->scope = strdup("");
	else if (!scope_valid(spec->scope))
		return ctl_usage_error(ctl, "--scope must be at most "
		    CTL_STR(SCOPE_MAX) " bytes of scope tokens separated by "
		    "single spaces (RFC 6749 §3.3)");
	else
		c->scope = scope_normalize(spec->scope);
	if (c->scope == NULL)
		return ctl_fail(ctl, "out of memory");

	if (spec->audience != NULL) {
		len = strlen(spec->audience);
		if (len == 0 || len > AUDIENCE_MAX ||
		    !utf8_valid(spec->audience, len))
			return ctl_usage_error(ctl, "--audience must be 1 to "
			    CTL_STR(AUDIENCE_MAX) " bytes of UTF-8");
		for (i = 0; i < len; i++)
			if ((unsigned char)spec->audience[i] < 0x20 ||
			    spec->audience[i] == 0x7f)
				return ctl_usage_error(ctl, "--audience "
				    "contains a control character");
		if ((c->audience = strdup(spec->audience)) == NULL)
			return ctl_fail(ctl, "out of memory");
	}

	for (i = 0; i < spec->uri_count; i++) {
		/* RFC 6749 §3.1.2: absolute, without fragment. */
		if (!uri_absolute_valid(spec->uris[i], REDIRECT_URI_MAX, &why))
			return ctl_usage_error(ctl, "--redirect-uri #%zu %s",
			    i + 1, why);
		for (j = 0; j < i; j++)
			if (strcmp(spec->uris[i], spec->uris[j]) == 0)
				return ctl_usage_error(ctl, "--redirect-uri "
				    "#%zu repeats #%zu", i + 1, j + 1);
		if ((c->redirect_uris[i] = strdup(spec->uris[i])) == NULL)
			return ctl_fail(ctl, "out of memory");
		c->redirect_uri_count = i + 1;
	}
	/* RFC 8707 §2: absolute, without fragment. */
	for (i = 0; i < spec->resource_count; i++) {
		if (!uri_absolute_valid(spec->resources[i], AUDIENCE_MAX, &why))
			return ctl_usage_error(ctl, "--resource #%zu %s",
			    i + 1, why);
		for (j = 0; j < i; j++)
			if (strcmp(spec->resources[i], spec->resources[j]) == 0)
				return ctl_usage_error(ctl, "--resource #%zu "
				    "repeats #%zu", i + 1, j + 1);
		if ((c->resources[i] = strdup(spec->resources[i])) == NULL)
			return ctl_fail(ctl, "out of memory");
		c->resource_count = i + 1;
	}
	return CTL_EXIT_OK;
}

/*
 * Prints a client's id and, unless it is NULL, its secret: as two lines,
 * or with json as one object.  The JSON text is wiped after printing.
 * The client is stored by now, so a secret that could not be printed is
 * reported with the way to get another.
 */
static enum ctl_exit
ctl_client_print_secret(const struct ctl *ctl, const char *id,
    const char *secret, int json)
{
	enum ctl_exit rv = CTL_EXIT_OK;
	cJSON *o;

	if (!json) {
		printf("client_id: %s\n", id);
		if (secret != NULL)
			printf("client_secret: %s\n", secret);
	} else if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "client_id", id) == NULL ||
	    (secret != NULL &&
	    cJSON_AddStringToObject(o, "client_secret", secret) == NULL)) {
		ctl_json_wipe(o);
		cJSON_Delete(o);
		rv = CTL_EXIT_FAIL;
	} else
		rv = ctl_json_print(ctl, o, 1);
	if (secret != NULL && (rv != CTL_EXIT_OK || fflush(stdout) == EOF ||
	    ferror(stdout)))
		return ctl_fail(ctl, "the secret of client '%s' could not be "
		    "printed; 'oauthctl client secret %s' makes another", id,
		    id);
	return rv;
}

/*
 * Reports the failure st of a transaction on the client id: "no such
 * client" when it is unknown.  Returns CTL_EXIT_FAIL.
 */
static enum ctl_exit
ctl_client_fail(const struct ctl *ctl, const char *id, enum store_status st)
{
	if (st == STORE_NOTFOUND)
		return ctl_fail(ctl, "no such client '%s'", id);
	return ctl_store_fail(ctl, id, st);
}

/*
 * Stores c in txn, replacing the client of its id when replace is set.
 * Returns CTL_EXIT_OK, or CTL_EXIT_FAIL once reported.
 */
static enum ctl_exit
ctl_client_put(const struct ctl *ctl, struct store_txn *txn,
    const struct client *c, int replace)
{
	enum store_status st;

	if ((st = store_client_put(txn, c, replace)) == STORE_EXISTS)
		return ctl_fail(ctl, "client '%s' already exists", c->id);
	if (st != STORE_OK)
		return ctl_store_fail(ctl, "store the client", st);
	return CTL_EXIT_OK;
}

/* The transaction of "client add": arg is the new struct client. */
static enum ctl_exit
ctl_client_add_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	return ctl_client_put(ctl, txn, arg, 0);
}

enum ctl_exit
ctl_cmd_client_add(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_client_spec spec;
	struct client c;
	enum ctl_exit rv;
	char secret[CLIENT_SECRET_MAX + 1];
	size_t secret_len = 0;

	memset(&c, 0, sizeof(c));
	if ((rv = ctl_client_parse_add(ctl, argc, argv, &spec)) !=
	    CTL_EXIT_OK || spec.id == NULL)
		goto wipe_arg;
	if ((rv = ctl_client_build(ctl, &spec, &c)) != CTL_EXIT_OK)
		goto wipe_arg;
	if (!spec.is_public && spec.jwks == NULL && spec.tls_subject == NULL &&
	    spec.tls_cert == NULL) {
		if (spec.secret_arg != NULL &&
		    (rv = ctl_client_secret_take(ctl, spec.secret_arg, secret,
		    sizeof(secret), &secret_len)) != CTL_EXIT_OK)
			goto out;
		if ((rv = ctl_client_secret_set(ctl, &c, secret,
		    sizeof(secret), &secret_len)) != CTL_EXIT_OK)
			goto out;
	}
	if ((rv = ctl_txn(ctl, 1, ctl_client_add_txn, &c)) != CTL_EXIT_OK)
		goto out;
	rv = ctl_client_print_secret(ctl, c.id, spec.is_public ||
	    spec.jwks != NULL || c.tls_auth != CLIENT_TLS_NONE ? NULL : secret,
	    spec.json);
	goto out;

wipe_arg:
	/* The secret was never copied: wipe it where the shell put it. */
	if (spec.secret_arg != NULL && strcmp(spec.secret_arg, "-") != 0)
		crypto_wipe(spec.secret_arg, strlen(spec.secret_arg));
out:
	crypto_wipe(secret, sizeof(secret));
	client_free(&c);
	return rv;
}

/* Appends the string s to array.  Returns 0, or -1 when memory runs out. */
static int
ctl_client_json_push(cJSON *array, const char *s)
{
	cJSON *item;

	if ((item = cJSON_CreateString(s)) == NULL)
		return -1;
	if (!cJSON_AddItemToArray(array, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

/*
 * Everything about c but its salt and hash, as a new JSON object.
 * Returns NULL when memory runs out.
 */
static cJSON *
ctl_client_json(const struct client *c)
{
	cJSON *o, *a;
	size_t i;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "client_id", c->id) == NULL ||
	    cJSON_AddBoolToObject(o, "public", c->is_public) == NULL ||
	    cJSON_AddStringToObject(o, "scope",
	    c->scope != NULL ? c->scope : "") == NULL ||
	    (a = cJSON_AddArrayToObject(o, "grant_types")) == NULL)
		goto fail;
	for (i = 0; i < CTL_GRANT_COUNT; i++)
		if ((c->grant_types & ctl_grants[i].bit) != 0 &&
		    ctl_client_json_push(a, ctl_grants[i].name) == -1)
			goto fail;
	if ((a = cJSON_AddArrayToObject(o, "redirect_uris")) == NULL)
		goto fail;
	for (i = 0; i < c->redirect_uri_count; i++)
		if (ctl_client_json_push(a, c->redirect_uris[i]) == -1)
			goto fail;
	if ((a = cJSON_AddArrayToObject(o, "resources")) == NULL)
		goto fail;
	for (i = 0; i < c->resource_count; i++)
		if (ctl_client_json_push(a, c->resources[i]) == -1)
			goto fail;
	if ((c->audience != NULL ?
	    cJSON_AddStringToObject(o, "audience", c->audience) :
	    cJSON_AddNullToObject(o, "audience")) == NULL ||
	    cJSON_AddBoolToObject(o, "introspect", c->may_introspect) == NULL ||
	    cJSON_AddStringToObject(o, "token_format",
		ctl_client_formats[c->token_format]) == NULL ||
	    cJSON_AddBoolToObject(o, "dpop_bound_access_tokens",
		c->dpop_bound) == NULL ||
	    cJSON_AddStringToObject(o, "token_endpoint_auth_method",
		c->is_public ? "none" : c->jwks != NULL ? "private_key_jwt" :
		c->tls_auth == CLIENT_TLS_SUBJECT_DN ? "tls_client_auth" :
		c->tls_auth == CLIENT_TLS_SELF_SIGNED ?
		"self_signed_tls_client_auth" : "client_secret_basic") ==
		NULL ||
	    (c->tls_auth == CLIENT_TLS_SUBJECT_DN ?
		cJSON_AddStringToObject(o, "tls_client_auth_subject_dn",
		c->tls_value) : cJSON_AddNullToObject(o,
		"tls_client_auth_subject_dn")) == NULL ||
	    (c->tls_auth == CLIENT_TLS_SELF_SIGNED ?
		cJSON_AddStringToObject(o, "tls_client_certificate_x5t#S256",
		c->tls_value) : cJSON_AddNullToObject(o,
		"tls_client_certificate_x5t#S256")) == NULL ||
	    (c->jwks != NULL ? cJSON_AddItemToObject(o, "jwks",
		cJSON_Parse(c->jwks)) == 0 : cJSON_AddNullToObject(o, "jwks") ==
		NULL) ||
	    cJSON_AddNumberToObject(o, "created_at",
	    (double)c->created_at) == NULL)
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/*
 * Prints everything about c but its salt and hash as "key: value" lines.
 * Returns 0, or -1 when memory runs out.
 */
static int
ctl_client_print(const struct client *c)
{
	struct buf grants = { 0 };
	char when[CTL_TIME_MAX];
	size_t i;

	if (ctl_grant_join(c->grant_types, ",", &grants) == -1)
		return -1;
	ctl_time_format(c->created_at, when);
	printf("client_id: %s\n", c->id);
	printf("type: %s\n", c->is_public ? "public" : "confidential");
	printf("scope:%s%s\n", c->scope != NULL && *c->scope != '\0' ?
	    " " : "", c->scope != NULL ? c->scope : "");
	printf("grant_types: %s\n", grants.data);
	for (i = 0; i < c->redirect_uri_count; i++)
		printf("redirect_uri: %s\n", c->redirect_uris[i]);
	if (c->audience != NULL)
		printf("audience: %s\n", c->audience);
	for (i = 0; i < c->resource_count; i++)
		printf("resource: %s\n", c->resources[i]);
	printf("introspect: %s\n", c->may_introspect ? "yes" : "no");
	printf("token format: %s\n", ctl_client_formats[c->token_format]);
	printf("dpop: %s\n", c->dpop_bound ? "required" : "optional");
	if (c->jwks != NULL)
		printf("authentication: private_key_jwt\n");
	if (c->tls_auth == CLIENT_TLS_SUBJECT_DN)
		printf("authentication: tls_client_auth, subject %s\n",
		    c->tls_value);
	if (c->tls_auth == CLIENT_TLS_SELF_SIGNED)
		printf("authentication: self_signed_tls_client_auth, "
		    "certificate x5t#S256 %s\n", c->tls_value);
	printf("created_at: %s\n", when);
	buf_free(&grants);
	return 0;
}

/* A "client list" line, or an element of its JSON array. */
static enum store_each
ctl_client_list_one(const struct client *c, void *arg)
{
	struct ctl_client_walk *w = arg;
	struct buf grants = { 0 };
	cJSON *o;

	if (w->array != NULL) {
		if ((o = ctl_client_json(c)) == NULL ||
		    !cJSON_AddItemToArray(w->array, o)) {
			cJSON_Delete(o);
			w->failed = 1;
			return STORE_EACH_STOP;
		}
		return STORE_EACH_NEXT;
	}
	if (ctl_grant_join(c->grant_types, ",", &grants) == -1) {
		w->failed = 1;
		return STORE_EACH_STOP;
	}
	printf("%s\t%s\t%s\t%s\n", c->id,
	    c->is_public ? "public" : "confidential",
	    grants.len > 0 ? grants.data : "-",
	    c->scope != NULL ? c->scope : "");
	buf_free(&grants);
	return STORE_EACH_NEXT;
}

/* The transaction of "client list": arg is a struct ctl_client_walk. */
static enum ctl_exit
ctl_client_list_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	struct ctl_client_walk *w = arg;
	enum store_status st;

	if ((st = store_client_foreach(txn, ctl_client_list_one, w)) !=
	    STORE_OK)
		return ctl_store_fail(ctl, "list", st);
	if (w->failed)
		return ctl_fail(ctl, "out of memory");
	return CTL_EXIT_OK;
}

enum ctl_exit
ctl_cmd_client_list(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_client_walk w = { NULL, 0 };
	struct ctl_line l;
	enum ctl_exit rv;

	if ((rv = ctl_args_line(ctl, argc, argv, CTL_LINE_JSON, NULL, &l)) !=
	    CTL_EXIT_OK || l.helped)
		return rv;
	if (l.json && (w.array = cJSON_CreateArray()) == NULL)
		return ctl_fail(ctl, "out of memory");
	if ((rv = ctl_txn(ctl, 0, ctl_client_list_txn, &w)) != CTL_EXIT_OK) {
		cJSON_Delete(w.array);
		return rv;
	}
	return l.json ? ctl_json_print(ctl, w.array, 0) : CTL_EXIT_OK;
}

/*
 * Reads the client named by one->line into one->c.  Returns CTL_EXIT_OK,
 * or CTL_EXIT_FAIL once reported.  The transaction of "client show".
 */
static enum ctl_exit
ctl_client_get_txn(const struct ctl *ctl, struct store_txn *txn, void *arg)
{
	struct ctl_client_one *one = arg;
	enum store_status st;

	if ((st = store_client_get(txn, one->line.operand, &one->c)) !=
	    STORE_OK)
		return ctl_client_fail(ctl, one->line.operand, st);
	return CTL_EXIT_OK;
}

/*
 * Zeroes one, reads "ID [--json]" into one->line and runs fn on that
 * client in one transaction, a write one when write is set.  Returns what
 * ctl_client_parse_id returns (one->line.helped after --help), else what
 * ctl_txn returns.  The caller releases one->c with client_free whatever
 * this returns.
 */
static enum ctl_exit
ctl_client_one_txn(struct ctl *ctl, int argc, char **argv, int write,
    ctl_txn_fn fn, struct ctl_client_one *one)
{
	enum ctl_exit rv;

	memset(one, 0, sizeof(*one));
	if ((rv = ctl_client_parse_id(ctl, argc, argv, CTL_LINE_JSON,
	    &one->line)) != CTL_EXIT_OK || one->line.helped)
		return rv;
	return ctl_txn(ctl, write, fn, one);
}

enum ctl_exit
ctl_cmd_client_show(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_client_one one;
	enum ctl_exit rv;

	if ((rv = ctl_client_one_txn(ctl, argc, argv, 0, ctl_client_get_txn,
	    &one)) == CTL_EXIT_OK && !one.line.helped) {
		if (one.line.json)
			rv = ctl_json_print(ctl, ctl_client_json(&one.c), 0);
		else if (ctl_client_print(&one.c) == -1)
			rv = ctl_fail(ctl, "out of memory");
	}
	client_free(&one.c);
	return rv;
}

/*
 * The transaction of "client remove": arg is a struct ctl_drop naming the
 * client, which is deleted with everything issued to it.
 */
static enum ctl_exit
ctl_client_remove_txn(const struct ctl *ctl, struct store_txn *txn,
    void *arg)
{
	struct ctl_drop *d = arg;
	enum store_status st;

	if ((st = store_client_delete(txn, d->client_id)) == STORE_OK)
		st = store_client_drop_tokens(txn, d->client_id,
		    &d->dropped);
	if (st != STORE_OK)
		return ctl_client_fail(ctl, d->client_id, st);
	return CTL_EXIT_OK;
}

/*
 * Removes a client and, in the same transaction, everything issued to it:
 * a token outliving its client would pass introspection for nobody.
 */
enum ctl_exit
ctl_cmd_client_remove(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_drop d;
	struct ctl_line l;
	enum ctl_exit rv;

	if ((rv = ctl_client_parse_id(ctl, argc, argv, 0, &l)) !=
	    CTL_EXIT_OK || l.helped)
		return rv;
	memset(&d, 0, sizeof(d));
	d.client_id = l.operand;
	if ((rv = ctl_txn(ctl, 1, ctl_client_remove_txn, &d)) != CTL_EXIT_OK)
		return rv;
	printf("removed client %s: %zu tokens, %zu codes, %zu grants\n",
	    d.client_id, d.dropped.tokens, d.dropped.codes,
	    d.dropped.grants);
	return CTL_EXIT_OK;
}

/*
 * The transaction of "client secret": arg is a struct ctl_client_one whose
 * client gets a new generated secret, into one->secret.
 */
static enum ctl_exit
ctl_client_secret_txn(const struct ctl *ctl, struct store_txn *txn,
    void *arg)
{
	struct ctl_client_one *one = arg;
	enum ctl_exit rv;

	if ((rv = ctl_client_get_txn(ctl, txn, one)) != CTL_EXIT_OK)
		return rv;
	if (one->c.is_public)
		return ctl_fail(ctl, "client '%s' is public: it has no secret",
		    one->c.id);
	if (one->c.jwks != NULL)
		return ctl_fail(ctl, "client '%s' authenticates with its keys "
		    "(private_key_jwt): it has no secret", one->c.id);
	if (one->c.tls_auth != CLIENT_TLS_NONE)
		return ctl_fail(ctl, "client '%s' authenticates with its TLS "
		    "certificate: it has no secret", one->c.id);
	if ((rv = ctl_client_secret_set(ctl, &one->c, one->secret,
	    sizeof(one->secret), &one->secret_len)) != CTL_EXIT_OK)
		return rv;
	return ctl_client_put(ctl, txn, &one->c, 1);
}

/* Replaces a confidential client's secret and prints the new one once. */
enum ctl_exit
ctl_cmd_client_secret(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_client_one one;
	enum ctl_exit rv;

	if ((rv = ctl_client_one_txn(ctl, argc, argv, 1, ctl_client_secret_txn,
	    &one)) == CTL_EXIT_OK && !one.line.helped)
		rv = ctl_client_print_secret(ctl, one.c.id, one.secret,
		    one.line.json);
	crypto_wipe(one.secret, sizeof(one.secret));
	client_free(&one.c);
	return rv;
}
