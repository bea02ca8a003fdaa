/*
 * Feeds arbitrary bytes to jose_verify as a compact JWS, once with the
 * fixed key of each algorithm (RS256, ES256, EdDSA).  What must hold: a
 * refusal leaves nothing behind (no header, the payload buffer untouched);
 * what verifies is at most JOSE_JWS_MAX bytes, has a header object whose
 * "alg" is the caller's and no "crit", a payload whose base64url is exactly
 * the middle part (one encoding per byte string), and verifies under one
 * algorithm only.  An input whose first byte has its low four bits set is
 * also signed: the rest of it becomes the payload of a JWS made with
 * jose_sign, which must verify with its own key to the same payload, kid
 * and typ, and fail with every other key and once a byte of its payload or
 * signature is changed.  Any difference aborts.
 *
 * The keys are made for this harness and guard nothing; the seeds of
 * tests/fuzz/corpus/jose are signed with them (tests/fuzz/jose_seeds.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../common/common.h"

#define FUZZ_JOSE_SIGN_MAX 1024	/* payload bytes of the round trip */

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void fuzz_jose_check(int);
static void fuzz_jose_init(void);
static int fuzz_jose_verify(enum jose_alg, const uint8_t *, size_t);
static void fuzz_jose_roundtrip(enum jose_alg, const uint8_t *, size_t);

/* The test keys, PKCS#8 PEM: RSA 2048, P-256, Ed25519. */
static const char fuzz_jose_rsa_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDQJ4WplJBjoDY6\n"
    "OSvcMrk3zRBxhzALiotMnNGiZIhYSZr91xz2GjoCZMSagVb0cFZJTF7IPGGDcnQE\n"
    "+mt8o+nVbqiJRTXE4GaH8XoTubDcIc0XmCLmnwfyzlLWdka7TK5jgcb7qmfG22Tb\n"
    "0oWxqnW9+qa2xbJIv5amVHlnMW/f5wswfbBECk+zCUcq3XdgiOhpWJ4umWU/9lu6\n"
    "yF+9GgtGKZQ1vvr4hr8KEPq5eyWMhkySY2luK2oLpADvdhJDp5Kj5xlgawLQ9nCE\n"
    "nV0hYUOCGJq3kOdHylCt4THAqGyWYMHAD/ePXRoXduVjGVqOzTEW/N2Mivw1WPk2\n"
    "UArZ8XK9AgMBAAECggEABbYBN2RK1jI+rU1vwWByj1Afl8nNJ5KTHKnpy4I6xmyr\n"
    "OrSEnXud5KkV8XpDzpGSyyXerNuRPlgXzEzVlvYaqTSFHb0Jywoaw2HnRvQaNjPx\n"
    "iqiYfooq9OkJwfYSneVuRxnNVzl3PvAP3e3HpWv8mSwvwkXSzNGq2mCTcyFwBRfR\n"
    "mYTSgiHtmAi93kgAhjjx3kUEDoqTWBHN83VZeSMM38ehDoRj09JnMuYShYsyw8OO\n"
    "kT6dLl6rI3wov1CYwmD5Iz8FsTxSbzxhA6P4g0Lq0dUqSUjhLu63n50F/7JfDbCQ\n"
    "2INZfaT0x3tqNK45b32aRBKxbyX/00oL9sl7OTO+sQKBgQD0JciE+DQQW0GwXb7u\n"
    "QWHN1puVYiCc5rELQR58O2rpDOx/t415rX9QRKAc3gAIyal3t7xEdfjaAT1dNmck\n"
    "dT+Pp2UeBCn1bb8vgEWgYiZH9rIcrt8hIV65sJQ+I3hJvAdyv1iDdhKArDQkqP8O\n"
    "Sv5ABoyJYlJLHvVZKFOkKg7MTQKBgQDaQmwsySWTpTsOZ2NOX1UHucDkLUFbL8iC\n"
    "R9BQzdzViDI/UJT/wA0c4xZUBeCCgSilVFtRM9+g8wt5sNKllCqA+szbBEPaEL+l\n"
    "6Ob9shs7ym057VXE/YmcYFYVSie2Wvp+lHwVRE7GTJxi0V334LX0QSX5F4ta+DNM\n"
    "+rzXcdm4MQKBgQDsvdqDvZ3Wona/CxhCNdod29T/9KgFHNlePWXPN1qC44pMifNA\n"
    "otEKR5EujMJhwxJ2SQ7hH7gPxRX41fEL9DmPFdXCVm1NVH8IE4zwaVwPehLaJ2Or\n"
    "34zX6HbHDmPss8xRI2Q0DYEBjnn9dnXkKSoDcZZC/bkoqLtmGemJDVNOHQKBgACB\n"
    "lu6jqMqm33QxGTHdVr0l2SSuVjB38+cZc4o8b/6uyi8LaM0PDPi8LhkTymmDEy0O\n"
    "/Qc7L5GX/rbRiiuIJHEYI9F+OQoQb+FaoO6Fszp4RbiUrFZAoEkUkB6MhXsOyvXw\n"
    "Mjl6ZxReqR4xjh49Dy7517S0MUaMvNG44yc8xFyBAoGAW84v9flFWA8f026Kgydu\n"
    "tp/E7bfS/jFbm1Hukd4nnU8XwM8mIEKfEjWMN2I2uVRRkkPXCENtTp+KxPapGyEg\n"
    "ABDoTAgUEle4r2XmzzCq76bsrpIb+/j5SFlcDoY9hifvF1BAHHeR9E91s3cfuOS0\n"
    "Rb2782KQFEjmUnPh5SzHHA8=\n"
    "-----END PRIVATE KEY-----\n";
static const char fuzz_jose_ec_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAavAToclexdrsdYg\n"
    "uCP+WEU4IojDgDmp4GaAMnXYXmShRANCAARkH1ylJ0LiNrALu/QTaSU64zhZq1hk\n"
    "7oz/wFV1wbQkJHpiDMQJJsZc5aFX57csZmmQin2sUDpWZBMBUd2PTiNm\n"
    "-----END PRIVATE KEY-----\n";
static const char fuzz_jose_ed_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIHNswZfWORemGg3RGrLpbUXahB62OyMsFQtQ7rajk9VJ\n"
    "-----END PRIVATE KEY-----\n";

static const char *const fuzz_jose_pems[JOSE_ALG__MAX] = {
	[JOSE_ALG_RS256] = fuzz_jose_rsa_pem,
	[JOSE_ALG_ES256] = fuzz_jose_ec_pem,
	[JOSE_ALG_EDDSA] = fuzz_jose_ed_pem,
};

static EVP_PKEY *fuzz_jose_keys[JOSE_ALG__MAX];
static char fuzz_jose_kids[JOSE_ALG__MAX][JOSE_KID_LEN + 1];

static void
fuzz_jose_check(int ok)
{
	if (!ok)
		abort();
}

/*
 * Parses the keys on the first input; they live as long as the process
 * (parsing takes milliseconds, an input microseconds).
 */
static void
fuzz_jose_init(void)
{
	size_t a;

	if (fuzz_jose_keys[0] != NULL)
		return;
	for (a = 0; a < JOSE_ALG__MAX; a++) {
		fuzz_jose_check(jose_key_parse((enum jose_alg)a,
		    fuzz_jose_pems[a], strlen(fuzz_jose_pems[a]),
		    &fuzz_jose_keys[a]) == 0);
		fuzz_jose_check(jose_key_thumbprint(fuzz_jose_keys[a],
		    (enum jose_alg)a, fuzz_jose_kids[a]) == 0);
	}
}

/*
 * Verifies the size bytes of data with the key of alg and checks what the
 * contract of jose_verify says of the result.  Returns 1 when it verified.
 */
static int
fuzz_jose_verify(enum jose_alg alg, const uint8_t *data, size_t size)
{
	struct buf payload = {0};
	cJSON *hdr = cJSON_CreateNull();	/* must come back NULL */
	cJSON *sentinel = hdr;
	const cJSON *a;
	const uint8_t *dot1, *dot2;
	char *enc;
	size_t n;

	fuzz_jose_check(hdr != NULL);
	if (jose_verify(fuzz_jose_keys[alg], alg, (const char *)data, size,
	    &hdr, &payload) != 0) {
		cJSON_Delete(sentinel);
		fuzz_jose_check(hdr == NULL);
		fuzz_jose_check(payload.data == NULL && payload.len == 0);
		return 0;
	}
	cJSON_Delete(sentinel);
	fuzz_jose_check(size <= JOSE_JWS_MAX);
	fuzz_jose_check(cJSON_IsObject(hdr));
	a = cJSON_GetObjectItemCaseSensitive(hdr, "alg");
	fuzz_jose_check(cJSON_IsString(a) &&
	    strcmp(a->valuestring, jose_alg_name(alg)) == 0);
	fuzz_jose_check(cJSON_GetObjectItemCaseSensitive(hdr, "crit") == NULL);
	/* Canonical: the payload encodes back to exactly the middle part. */
	dot1 = memchr(data, '.', size);
	fuzz_jose_check(dot1 != NULL);
	dot2 = memchr(dot1 + 1, '.', size - (size_t)(dot1 + 1 - data));
	fuzz_jose_check(dot2 != NULL);
	fuzz_jose_check(payload.len > 0);
	n = (payload.len + 2) / 3 * 4 + 1;
	enc = malloc(n);
	fuzz_jose_check(enc != NULL);
	n = b64url_encode((const unsigned char *)payload.data, payload.len,
	    enc, n);
	fuzz_jose_check(n == (size_t)(dot2 - dot1 - 1) &&
	    memcmp(enc, dot1 + 1, n) == 0);
	free(enc);
	cJSON_Delete(hdr);
	buf_free(&payload);
	return 1;
}

/*
 * Signs the size bytes of payload with the key of alg and checks that the
 * JWS verifies to them with that key alone, and not once altered.
 */
static void
fuzz_jose_roundtrip(enum jose_alg alg, const uint8_t *payload, size_t size)
{
	struct buf jws = {0}, back = {0};
	cJSON *hdr = NULL;
	const cJSON *v;
	size_t a, last;
	char *dot;

	fuzz_jose_check(jose_sign(fuzz_jose_keys[alg], alg,
	    fuzz_jose_kids[alg], "JWT", (const char *)payload, size, &jws) ==
	    0);
	fuzz_jose_check(jose_verify(fuzz_jose_keys[alg], alg, jws.data,
	    jws.len, &hdr, &back) == 0);
	fuzz_jose_check(back.len == size && memcmp(back.data, payload,
	    size) == 0);
	v = cJSON_GetObjectItemCaseSensitive(hdr, "kid");
	fuzz_jose_check(cJSON_IsString(v) &&
	    strcmp(v->valuestring, fuzz_jose_kids[alg]) == 0);
	v = cJSON_GetObjectItemCaseSensitive(hdr, "typ");
	fuzz_jose_check(cJSON_IsString(v) && strcmp(v->valuestring, "JWT") ==
	    0);
	cJSON_Delete(hdr);
	buf_free(&back);
	for (a = 0; a < JOSE_ALG__MAX; a++)
		if (a != alg) {
			/* Another key, claimed for its own alg or for ours. */
			fuzz_jose_check(fuzz_jose_verify((enum jose_alg)a,
			    (const uint8_t *)jws.data, jws.len) == 0);
			fuzz_jose_check(jose_verify(fuzz_jose_keys[a], alg,
			    jws.data, jws.len, NULL, NULL) == -1);
		}
	/* The first character of the payload, then of the signature. */
	dot = memchr(jws.data, '.', jws.len);
	fuzz_jose_check(dot != NULL);
	dot[1] = dot[1] == 'A' ? 'B' : 'A';
	fuzz_jose_check(jose_verify(fuzz_jose_keys[alg], alg, jws.data,
	    jws.len, NULL, NULL) == -1);
	dot[1] = dot[1] == 'A' ? 'B' : 'A';
	last = (size_t)((char *)memchr(dot + 1, '.', jws.len -
	    (size_t)(dot + 1 - jws.data)) - jws.data) + 1;
	jws.data[last] = jws.data[last] == 'A' ? 'B' : 'A';
	fuzz_jose_check(jose_verify(fuzz_jose_keys[alg], alg, jws.data,
	    jws.len, NULL, NULL) == -1);
	buf_free(&jws);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t a;
	int verified = 0;

	fuzz_jose_init();
	for (a = 0; a < JOSE_ALG__MAX; a++)
		verified += fuzz_jose_verify((enum jose_alg)a, data, size);
	/* The header names one alg: no input verifies under two. */
	fuzz_jose_check(verified <= 1);
	if (size >= 2 && size - 1 <= FUZZ_JOSE_SIGN_MAX &&
	    (data[0] & 0x0f) == 0x0f)
		fuzz_jose_roundtrip((enum jose_alg)((data[0] >> 4) %
		    JOSE_ALG__MAX), data + 1, size - 1);
	return 0;
}
