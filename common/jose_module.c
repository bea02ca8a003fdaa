/*
 * The entry of oauth-jose.so, the module of jose.c that oauth.fcgi loads
 * (fcgi/fcgi_jose.c): the one symbol it exports, everything else hidden.
 */
#include "common.h"

const struct jose_ops *jose_module_ops(void)
    __attribute__((visibility("default")));

static const struct jose_ops jose_module_table = {
	JOSE_MODULE_ABI, jose_init, jose_key_load, jose_key_free, jose_sign,
	jose_verify_embedded, jose_verify_jwks, jose_jwks_check,
};

/* The functions of this copy of jose.c. */
const struct jose_ops *
jose_module_ops(void)
{
	return &jose_module_table;
}
