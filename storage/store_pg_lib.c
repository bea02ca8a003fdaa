/*
 * Loading libpq: once a process, by dlopen of its soname, when the first
 * PostgreSQL database is opened; before the sandbox, which forbids it.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define STORE_PG_LIB_DEFINING
#include "store_pg.h"

#define STORE_PG_LIB_SONAME "libpq.so.5"

struct store_pg_lib store_pg_lib;

static int store_pg_lib_loaded;

/*
 * Makes store_pg_lib callable.  Returns 0, or -1 with why saying which
 * library or function is missing (libpq older than 14 has no pipeline).
 * The library stays loaded for the life of the process.
 */
int
store_pg_lib_load(char *why, size_t whylen)
{
	void *lib, *fn;

	if (store_pg_lib_loaded)
		return 0;
	if ((lib = dlopen(STORE_PG_LIB_SONAME, RTLD_NOW | RTLD_LOCAL)) ==
	    NULL) {
		(void)snprintf(why, whylen, "cannot load %s (Debian: libpq5): "
		    "%s", STORE_PG_LIB_SONAME, dlerror());
		return -1;
	}
	/*
	 * ISO C has no conversion from void * to a function pointer; POSIX
	 * guarantees the object representation, hence the memcpy.
	 */
#define STORE_PG_LIB_BIND(ret, name, args)				\
	if ((fn = dlsym(lib, #name)) == NULL) {				\
		(void)snprintf(why, whylen, "%s has no %s: libpq 14 or "	\
		    "later is needed", STORE_PG_LIB_SONAME, #name);	\
		memset(&store_pg_lib, 0, sizeof(store_pg_lib));		\
		dlclose(lib);						\
		return -1;						\
	}								\
	memcpy(&store_pg_lib.name, &fn, sizeof(fn));
	STORE_PG_LIB_FUNCTIONS(STORE_PG_LIB_BIND)
#undef STORE_PG_LIB_BIND
	store_pg_lib_loaded = 1;
	return 0;
}
