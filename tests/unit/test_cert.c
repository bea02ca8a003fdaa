/*
 * cert.c: a client certificate's x5t#S256 from the PEM text a web server
 * passes, in every spelling the servers use, checked against the SHA-256
 * OpenSSL gives of the certificate's DER.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "unit.h"

/* A self-signed certificate made for the run, as PEM and its thumbprint. */
struct cert_fixture {
	char *pem;
	unsigned char thumbprint[TOKEN_HASH_LEN];
};

static struct cert_fixture fixture;

static int
cert_make(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	BIO *bio = BIO_new(BIO_s_mem());
	unsigned char *der = NULL;
	char *data;
	long len;
	int derlen;

	if (key == NULL || x == NULL || bio == NULL)
		return -1;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"client.example", -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, key, EVP_sha256()) == 0 ||
	    PEM_write_bio_X509(bio, x) != 1 ||
	    (derlen = i2d_X509(x, &der)) <= 0)
		return -1;
	EVP_Digest(der, (size_t)derlen, fixture.thumbprint, NULL, EVP_sha256(),
	    NULL);
	len = BIO_get_mem_data(bio, &data);
	fixture.pem = strndup(data, (size_t)len);
	OPENSSL_free(der);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(key);
	return fixture.pem != NULL ? 0 : -1;
}

/*
 * A certificate whose base64 holds a '+', which test_escaped_keeps_plus
 * needs: one in two draws or so has one, so a few tries make it certain.
 */
static int
cert_setup(void **state)
{
	int tries;

	(void)state;
	for (tries = 0; tries < 200; tries++) {
		if (cert_make() == -1)
			return -1;
		if (strchr(fixture.pem, '+') != NULL)
			return 0;
		free(fixture.pem);
		fixture.pem = NULL;
	}
	return -1;
}

static int
cert_teardown(void **state)
{
	(void)state;
	free(fixture.pem);
	return 0;
}

/* s with every byte nginx's $ssl_client_escaped_cert escapes so escaped. */
static char *
cert_escape(const char *s)
{
	struct buf b = {0};

	for (; *s != '\0'; s++) {
		if (strchr(" \n\r+/=%", *s) != NULL) {
			char hex[4];

			(void)snprintf(hex, sizeof(hex), "%%%02X",
			    (unsigned char)*s);
			assert_int_equal(buf_puts(&b, hex), 0);
		} else
			assert_int_equal(buf_append(&b, s, 1), 0);
	}
	return b.data;
}

/* s with one occurrence of from replaced by to, allocated. */
static char *
cert_replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	struct buf b = {0};

	assert_non_null(at);
	assert_int_equal(buf_append(&b, s, (size_t)(at - s)), 0);
	assert_int_equal(buf_puts(&b, to), 0);
	assert_int_equal(buf_puts(&b, at + strlen(from)), 0);
	return b.data;
}

static void
assert_thumbprint(const char *cert)
{
	unsigned char out[TOKEN_HASH_LEN];

	assert_int_equal(cert_thumbprint(cert, out), 0);
	assert_memory_equal(out, fixture.thumbprint, sizeof(out));
}

static void
assert_refused(const char *cert)
{
	unsigned char out[TOKEN_HASH_LEN];

	assert_int_equal(cert_thumbprint(cert, out), -1);
}

/* Apache and lighttpd: the PEM as it is. */
static void
test_plain_pem(void **state)
{
	char *crlf;

	(void)state;
	assert_thumbprint(fixture.pem);
	crlf = cert_replace(fixture.pem, "\n", "\r\n");
	assert_thumbprint(crlf);
	free(crlf);
}

/* What openssl x509 -text writes: a description, then the PEM. */
static void
test_text_before_label(void **state)
{
	struct buf b = {0};

	(void)state;
	assert_int_equal(buf_puts(&b, "Certificate:\n    Data: a+b c%20d\n"),
	    0);
	assert_int_equal(buf_puts(&b, fixture.pem), 0);
	assert_thumbprint(b.data);
	buf_free(&b);
}

/* nginx: $ssl_client_escaped_cert, '+' as %2B. */
static void
test_escaped(void **state)
{
	char *escaped = cert_escape(fixture.pem), *prefixed;

	(void)state;
	assert_non_null(strstr(escaped, "-----BEGIN%20CERTIFICATE-----"));
	assert_thumbprint(escaped);
	prefixed = cert_replace(escaped, "-----BEGIN", "x%20y-----BEGIN");
	assert_thumbprint(prefixed);
	free(prefixed);
	free(escaped);
}

/*
 * A '+' of the base64 left as it is must stay a '+': a form decoding
 * would make it a space, the DER another, and the thumbprint wrong.
 */
static void
test_escaped_keeps_plus(void **state)
{
	struct buf b = {0};
	const char *s;

	(void)state;
	assert_non_null(strchr(fixture.pem, '+'));
	for (s = fixture.pem; *s != '\0'; s++) {
		if (*s == ' ')
			assert_int_equal(buf_puts(&b, "%20"), 0);
		else if (*s == '\n')
			assert_int_equal(buf_puts(&b, "%0A"), 0);
		else
			assert_int_equal(buf_append(&b, s, 1), 0);
	}
	assert_thumbprint(b.data);
	buf_free(&b);
}

static void
test_malformed(void **state)
{
	char *cut, *noend, *badchar, *notseq, *badesc, *escaped;
	const char *body;

	(void)state;
	assert_refused("");
	assert_refused("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"
	    "\n");
	assert_refused("not a certificate");
	/* An end label that starts inside the begin label's dashes. */
	assert_refused("-----BEGIN CERTIFICATE-------END CERTIFICATE-----");
	assert_refused("-----BEGIN%20CERTIFICATE-------END CERTIFICATE-----");
	noend = cert_replace(fixture.pem, "-----END CERTIFICATE-----", "");
	assert_refused(noend);
	/* One base64 character short of a whole quantum. */
	body = strstr(fixture.pem, "\n") + 1;
	cut = cert_replace(fixture.pem, (char[]){body[0], body[1], 0},
	    (char[]){body[1], 0});
	assert_refused(cut);
	badchar = cert_replace(fixture.pem, (char[]){body[0], 0}, "*");
	assert_refused(badchar);
	/* Base64 of "hello world!": no SEQUENCE. */
	notseq = strdup("-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQh\n"
	    "-----END CERTIFICATE-----\n");
	assert_refused(notseq);
	escaped = cert_escape(fixture.pem);
	badesc = cert_replace(escaped, "%0A", "%0");
	assert_refused(badesc);
	free(noend);
	free(cut);
	free(badchar);
	free(notseq);
	free(escaped);
	free(badesc);
}

/* Of several certificates (a chain), the first names the client. */
static void
test_first_of_chain(void **state)
{
	struct buf b = {0};

	(void)state;
	assert_int_equal(buf_puts(&b, fixture.pem), 0);
	assert_int_equal(buf_puts(&b, "-----BEGIN CERTIFICATE-----\n"
	    "MAA=\n-----END CERTIFICATE-----\n"), 0);
	assert_thumbprint(b.data);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_pem),
		cmocka_unit_test(test_text_before_label),
		cmocka_unit_test(test_escaped),
		cmocka_unit_test(test_escaped_keeps_plus),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_first_of_chain),
	};

	return cmocka_run_group_tests(tests, cert_setup, cert_teardown);
}
