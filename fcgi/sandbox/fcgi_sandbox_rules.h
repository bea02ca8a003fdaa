/*
 * The sandbox's rules (fcgi_sandbox_rules.c), for the program that
 * compiles them when oauth.fcgi is built (fcgi_sandbox_gen.c).
 */
#ifndef FCGI_SANDBOX_RULES_H
#define FCGI_SANDBOX_RULES_H

#include <stdint.h>

#include <seccomp.h>

#include "../fcgi_sandbox_filters.h"

scmp_filter_ctx fcgi_sandbox_rules(enum fcgi_sandbox_mode, int, uint32_t,
    int, int *);

#endif /* FCGI_SANDBOX_RULES_H */
