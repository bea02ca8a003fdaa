/*
 * Signing in oauth.fcgi: jose.c as a module, oauth-jose.so, loaded once a
 * process before its sandbox, so that only a process which may sign maps
 * libcrypto (a CGI process answering an introspection does not; mapping
 * and relocating libcrypto cost more than a whole CGI hello-world).  The
 * module is looked for beside the program (a build tree), then where
 * make install puts it, relative to the program and then as the build was
 * told (MODULEDIR).  Without it, what
 * would sign fails and says why; everything else is served.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fcgi.h"

/* Where the module is, from the program's directory. */
static const char *const fcgi_jose_paths[] = {
	"/oauth-jose.so",
	"/../lib/fcgi-oauth/oauth-jose.so",
};

/* And where make install puts it (the Makefile's MODULEDIR). */
#ifndef FCGI_JOSE_MODULEDIR
#error "FCGI_JOSE_MODULEDIR: build with the Makefile, which defines it"
#endif

/*
 * dlopen of path, keeping in why what its failure says, unless it says
 * only that path is not there and why holds something already.
 */
static void *
fcgi_jose_open(const char *path, char *why, size_t whylen)
{
	const char *err;
	void *lib;

	if ((lib = dlopen(path, RTLD_NOW | RTLD_LOCAL)) != NULL)
		return lib;
	if ((err = dlerror()) == NULL)
		return NULL;
	/* A module found but refused (its libcrypto missing, say) tells more. */
	if (*why == '\0' || strncmp(err, path, strlen(path)) != 0 ||
	    strstr(err, "No such file") == NULL)
		(void)snprintf(why, whylen, "%s", err);
	return NULL;
}

static const struct jose_ops *fcgi_jose;

/*
 * The directory of the running program into dir: /proc/self/exe, which
 * is what the kernel ran (dlopen's "$ORIGIN" would be the directory of
 * whatever called dlopen, a sanitizer's runtime when one intercepts it).
 * Returns 0, or -1.
 */
static int
fcgi_jose_dir(char *dir, size_t size)
{
	ssize_t n;
	char *slash;

	if ((n = readlink("/proc/self/exe", dir, size - 1)) <= 0)
		return -1;
	dir[n] = '\0';
	if ((slash = strrchr(dir, '/')) == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

/*
 * Loads the module and sets OpenSSL up (jose_init with load_config).
 * Returns 0, or -1 having logged why; a second call does nothing.  Call
 * it before the sandbox (which forbids opening and mapping a program) and
 * before any thread starts.
 */
int
fcgi_jose_load(int load_config)
{
	const struct jose_ops *(*entry)(void) = NULL;
	const struct jose_ops *ops;
	void *lib = NULL, *fn;
	char why[256] = "", dir[PATH_MAX], path[PATH_MAX];
	size_t i;

	if (fcgi_jose != NULL)
		return 0;
	if (fcgi_jose_dir(dir, sizeof(dir)) == -1) {
		log_event("cannot load the signing module oauth-jose.so: "
		    "the program's own path is unknown");
		return -1;
	}
	for (i = 0; lib == NULL && i < sizeof(fcgi_jose_paths) /
	    sizeof(fcgi_jose_paths[0]); i++)
		if ((size_t)snprintf(path, sizeof(path), "%s%s", dir,
		    fcgi_jose_paths[i]) < sizeof(path))
			lib = fcgi_jose_open(path, why, sizeof(why));
	if (lib == NULL)
		lib = fcgi_jose_open(FCGI_JOSE_MODULEDIR "/oauth-jose.so", why,
		    sizeof(why));
	if (lib == NULL) {
		log_event("cannot load the signing module oauth-jose.so: %s",
		    why);
		return -1;
	}
	/* POSIX's object representation, as in store_pg_lib.c. */
	if ((fn = dlsym(lib, JOSE_MODULE_SYMBOL)) != NULL)
		memcpy(&entry, &fn, sizeof(fn));
	if (entry == NULL || (ops = entry()) == NULL ||
	    ops->abi != JOSE_MODULE_ABI) {
		log_event("the signing module oauth-jose.so is not this "
		    "program's (another version?)");
		(void)dlclose(lib);
		return -1;
	}
	if (ops->init(load_config) == -1) {
		log_event("the signing module oauth-jose.so cannot start");
		(void)dlclose(lib);
		return -1;
	}
	fcgi_jose = ops;
	return 0;
}

/* What the handlers call (common.h), through the module once loaded. */
int
jose_key_load(enum jose_alg alg, const char *pem, size_t len, EVP_PKEY **out)
{
	if (fcgi_jose == NULL) {
		log_event("cannot sign: the signing module is not loaded");
		return -1;
	}
	return fcgi_jose->key_load(alg, pem, len, out);
}

void
jose_key_free(EVP_PKEY *pkey)
{
	if (fcgi_jose != NULL)
		fcgi_jose->key_free(pkey);
}

int
jose_sign(EVP_PKEY *pkey, enum jose_alg alg, const char *kid, const char *typ,
    const char *payload, size_t len, struct buf *out)
{
	if (fcgi_jose == NULL)
		return -1;
	return fcgi_jose->sign(pkey, alg, kid, typ, payload, len, out);
}

int
jose_verify_embedded(const char *jws, size_t len, struct cJSON **header_out,
    struct buf *payload_out, enum jose_alg *alg_out,
    char thumbprint[JOSE_KID_LEN + 1])
{
	if (header_out != NULL)
		*header_out = NULL;
	thumbprint[0] = '\0';
	if (fcgi_jose == NULL) {
		log_event("cannot check a DPoP proof: the signing module is "
		    "not loaded");
		return JOSE_UNAVAILABLE;
	}
	return fcgi_jose->verify_embedded(jws, len, header_out, payload_out,
	    alg_out, thumbprint);
}

int
jose_verify_jwks(const char *jws, size_t len, const char *set, size_t setlen,
    struct cJSON **header_out, struct buf *payload_out,
    enum jose_alg *alg_out)
{
	if (header_out != NULL)
		*header_out = NULL;
	if (fcgi_jose == NULL) {
		log_event("cannot check a client assertion: the signing module "
		    "is not loaded");
		return JOSE_UNAVAILABLE;
	}
	return fcgi_jose->verify_jwks(jws, len, set, setlen, header_out,
	    payload_out, alg_out);
}

int
jose_jwks_check(const char *set, size_t *index, const char **why)
{
	*index = 0;
	if (fcgi_jose == NULL) {
		log_event("cannot check a client's keys: the signing module is "
		    "not loaded");
		*why = "cannot be checked now";
		return JOSE_UNAVAILABLE;
	}
	return fcgi_jose->jwks_check(set, index, why);
}
