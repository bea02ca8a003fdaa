/*
 * What a client registers to prove a key with, read from files: the
 * public keys it signs its assertions with (private_key_jwt, RFC 7523
 * §2.2), a JWK or a JWK Set, each checked as the server will import it and
 * stored as the JSON text of a JWK Set; and a self-signed certificate
 * (RFC 8705 §2.2), stored as its thumbprint.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"


/*
 * Reads at most STORE_JWKS_MAX bytes of path into b, NUL-terminated.
 * Returns CTL_EXIT_OK, or CTL_EXIT_FAIL once reported.
 */
static enum ctl_exit
ctl_jwks_slurp(const struct ctl *ctl, const char *path, struct buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return ctl_fail(ctl, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len + n > STORE_JWKS_MAX) {
			(void)fclose(f);
			return ctl_fail(ctl, "%s: larger than "
			    CTL_STR(STORE_JWKS_MAX) " bytes", path);
		}
		if (buf_append(b, chunk, n) == -1) {
			(void)fclose(f);
			return ctl_fail(ctl, "out of memory");
		}
	}
	if (ferror(f)) {
		(void)fclose(f);
		return ctl_fail(ctl, "%s: read error", path);
	}
	(void)fclose(f);
	if (b->len == 0 || buf_append(b, "", 1) == -1)
		return ctl_fail(ctl, "%s: empty", path);
	b->len--;
	return CTL_EXIT_OK;
}

/*
 * Reads the JWK or JWK Set in the file path into *out, the JSON text of a
 * JWK Set of the same keys, allocated, which jose_jwks_check finds
 * nothing wrong with.  Returns CTL_EXIT_OK, or CTL_EXIT_FAIL once
 * reported.
 */
enum ctl_exit
ctl_jwks_read(const struct ctl *ctl, const char *path, char **out)
{
	struct buf text = {0};
	cJSON *root = NULL, *set = NULL, *keys;
	const char *why;
	enum ctl_exit rv;
	size_t index = 0;

	*out = NULL;
	if ((rv = ctl_jwks_slurp(ctl, path, &text)) != CTL_EXIT_OK)
		goto done;
	rv = CTL_EXIT_FAIL;
	if (json_parse_object(text.data, text.len, JOSE_HEADER_DEPTH_MAX,
	    &root) == -1) {
		ctl_fail(ctl, "--jwks %s: not a JSON object", path);
		goto done;
	}
	/* RFC 7517 §5: a set is {"keys": [...]}; a lone JWK is one key. */
	if (cJSON_GetObjectItemCaseSensitive(root, "keys") != NULL) {
		set = root;
		root = NULL;
	} else if ((set = cJSON_CreateObject()) == NULL ||
	    (keys = cJSON_AddArrayToObject(set, "keys")) == NULL) {
		ctl_fail(ctl, "out of memory");
		goto done;
	} else {
		cJSON_AddItemToArray(keys, root);
		root = NULL;
	}
	if ((*out = cJSON_PrintUnformatted(set)) == NULL) {
		ctl_fail(ctl, "out of memory");
		goto done;
	}
	if (strlen(*out) > STORE_JWKS_MAX)
		why = "is larger than " CTL_STR(STORE_JWKS_MAX) " bytes";
	else
		(void)jose_jwks_check(*out, &index, &why);
	if (why != NULL) {
		if (index > 0)
			ctl_fail(ctl, "--jwks %s: key #%zu %s", path, index,
			    why);
		else
			ctl_fail(ctl, "--jwks %s: %s", path, why);
		cJSON_free(*out);
		*out = NULL;
		goto done;
	}
	rv = CTL_EXIT_OK;
done:
	cJSON_Delete(root);
	cJSON_Delete(set);
	buf_free(&text);
	return rv;
}

/*
 * Reads the PEM certificate in the file path (a self-signed client's,
 * RFC 8705 §2.2) into *out: its x5t#S256, base64url, allocated.  Returns
 * CTL_EXIT_OK, or CTL_EXIT_FAIL once reported.
 */
enum ctl_exit
ctl_cert_read(const struct ctl *ctl, const char *path, char **out)
{
	unsigned char digest[TOKEN_HASH_LEN];
	char text[JOSE_THUMBPRINT_LEN + 1];
	struct buf pem = {0};
	enum ctl_exit rv;

	*out = NULL;
	if ((rv = ctl_jwks_slurp(ctl, path, &pem)) != CTL_EXIT_OK)
		return rv;
	if (cert_thumbprint(pem.data, digest) == -1 ||
	    b64url_encode(digest, sizeof(digest), text, sizeof(text)) !=
	    JOSE_THUMBPRINT_LEN) {
		buf_free(&pem);
		return ctl_fail(ctl, "--tls-cert %s: no PEM certificate", path);
	}
	buf_free(&pem);
	if ((*out = strdup(text)) == NULL)
		return ctl_fail(ctl, "out of memory");
	return CTL_EXIT_OK;
}
