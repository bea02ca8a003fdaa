/*
 * The SHA-256 of a generated client secret's check (16 bytes of salt and
 * a 43-character secret: two blocks), as fcgi-oauth computes it (nettle,
 * common/crypto.c) and through OpenSSL's EVP, each timed over the same
 * count in one run:
 *
 *   make BUILD=build build/bench/sha256_speed && build/bench/sha256_speed
 *
 * Both pick their fastest code from the CPU (SHA extensions where there
 * are some); under valgrind, which hides those, each falls back to its
 * plain code, so callgrind's instruction counts of a request are no guide
 * to the digests' speed.  Prints nanoseconds per digest, the best of 5.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "../common/common.h"

#define SHA256_SPEED_COUNT 1000000
#define SHA256_SPEED_ROUNDS 5

static double
sha256_speed_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int
main(void)
{
	unsigned char salt[SECRET_SALT_LEN] = {1}, out[EVP_MAX_MD_SIZE];
	const char secret[] = "aC7zdyHNpiA9w8azdvKnRxX5gO38mBIrZvexWwptLxY";
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	double best_ours = 1e30, best_evp = 1e30, t;
	unsigned int len;
	int i, r;

	if (md == NULL || ctx == NULL) {
		fprintf(stderr, "sha256_speed: OpenSSL has no SHA-256\n");
		return 1;
	}
	for (r = 0; r < SHA256_SPEED_ROUNDS; r++) {
		t = sha256_speed_now();
		for (i = 0; i < SHA256_SPEED_COUNT; i++)
			(void)crypto_secret_hash(salt, secret,
			    sizeof(secret) - 1, out);
		t = (sha256_speed_now() - t) / SHA256_SPEED_COUNT;
		if (t < best_ours)
			best_ours = t;
		t = sha256_speed_now();
		for (i = 0; i < SHA256_SPEED_COUNT; i++)
			if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
			    EVP_DigestUpdate(ctx, salt, sizeof(salt)) != 1 ||
			    EVP_DigestUpdate(ctx, secret,
			    sizeof(secret) - 1) != 1 ||
			    EVP_DigestFinal_ex(ctx, out, &len) != 1)
				return 1;
		t = (sha256_speed_now() - t) / SHA256_SPEED_COUNT;
		if (t < best_evp)
			best_evp = t;
	}
	printf("SHA-256 of 59 bytes, ns per digest (best of %d x %d):\n"
	    "  nettle (fcgi-oauth) %.1f\n  OpenSSL EVP         %.1f\n",
	    SHA256_SPEED_ROUNDS, SHA256_SPEED_COUNT, best_ours, best_evp);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return 0;
}
