/*
 * Mutual TLS the way this program is deployed (RFC 8705): the web server
 * terminates TLS, takes the client's certificate and passes it, and what
 * it says of it, in server variables (SSL_CLIENT_CERT, SSL_CLIENT_VERIFY,
 * SSL_CLIENT_S_DN).  A client registered so authenticates by that
 * certificate (tls_client_auth by its CA-verified subject,
 * self_signed_tls_client_auth by the certificate itself), and its access
 * tokens are bound to it by its SHA-256 thumbprint (x5t#S256).
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

/*
 * Whether the web server says a CA it trusts verified the certificate:
 * SSL_CLIENT_VERIFY is "SUCCESS" (Apache, nginx, lighttpd alike).
 */
static int
tls_verified(const struct request *req)
{
	return req->tls_verify != NULL && strcmp(req->tls_verify, "SUCCESS") ==
	    0;
}

/*
 * Authenticates client c, registered with a TLS method, by the
 * certificate of req (RFC 8705 §2): for tls_client_auth, one a CA the web
 * server trusts verified (SSL_CLIENT_VERIFY SUCCESS) whose subject DN is
 * the registered one, exactly; for self_signed_tls_client_auth, the
 * registered certificate itself, whatever a CA says of it, since the TLS
 * handshake proved its key and its thumbprint names it.  On OAUTH_OK
 * writes the certificate's thumbprint to thumbprint.  Returns OAUTH_OK,
 * or OAUTH_INVALID_CLIENT with *why set.
 */
enum oauth_error
tls_client_check(const struct request *req, const struct client *c,
    unsigned char thumbprint[TOKEN_HASH_LEN], const char **why)
{
	char text[JOSE_THUMBPRINT_LEN + 1];

	*why = "the client's TLS certificate is missing or not its own";
	if (req->tls_cert == NULL || req->tls_cert[0] == '\0' ||
	    cert_thumbprint(req->tls_cert, thumbprint) == -1)
		return OAUTH_INVALID_CLIENT;
	switch (c->tls_auth) {
	case CLIENT_TLS_SUBJECT_DN:
		if (tls_verified(req) && req->tls_subject != NULL &&
		    strcmp(req->tls_subject, c->tls_value) == 0)
			return OAUTH_OK;
		break;
	case CLIENT_TLS_SELF_SIGNED:
		if (b64url_encode(thumbprint, TOKEN_HASH_LEN, text,
		    sizeof(text)) == JOSE_THUMBPRINT_LEN &&
		    strcmp(text, c->tls_value) == 0)
			return OAUTH_OK;
		break;
	case CLIENT_TLS_NONE:
	case CLIENT_TLS__MAX:
		break;
	}
	return OAUTH_INVALID_CLIENT;
}

/*
 * Whether the certificate-bound token tok (RFC 8705 §3) may be used by
 * the sender of req: bound to no certificate, or to the one req came
 * with.
 */
int
tls_binding_holds(const struct token *tok, const struct request *req)
{
	unsigned char thumbprint[TOKEN_HASH_LEN];

	if (tok->bind != TOKEN_BIND_MTLS)
		return 1;
	return req->tls_cert != NULL &&
	    cert_thumbprint(req->tls_cert, thumbprint) == 0 &&
	    crypto_equal(thumbprint, tok->bind_thumbprint, TOKEN_HASH_LEN);
}
