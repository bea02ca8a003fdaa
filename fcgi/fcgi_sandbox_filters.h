/*
 * The sandbox's seccomp programs, one per mode and database kind, made
 * from fcgi/sandbox/fcgi_sandbox_rules.c when the program is built (into
 * $(BUILD)/gen/fcgi_sandbox_filters.c) and installed by fcgi_sandbox.c.
 */
#ifndef FCGI_SANDBOX_FILTERS_H
#define FCGI_SANDBOX_FILTERS_H

#include <linux/filter.h>

/* Which filter fcgi_sandbox_enter installs. */
enum fcgi_sandbox_mode {
	FCGI_SANDBOX_CGI = 0,		/* one request on stdin and stdout */
	FCGI_SANDBOX_FASTCGI,		/* a listening socket, accept loop */
	FCGI_SANDBOX_THREADS,		/* the same, in every thread */
	FCGI_SANDBOX_MODE__MAX
};

/*
 * What the threads' program compares tgkill's pid with, replaced by the
 * process's own when it is installed: above any pid Linux hands out
 * (pid_max is at most 2^22).
 */
#define FCGI_SANDBOX_PID_PLACEHOLDER 0x7ffffffdU

struct fcgi_sandbox_filter {
	const struct sock_filter *code;
	unsigned short len;
};

/* [mode][1 with what PostgreSQL needs, 0 without]. */
extern const struct fcgi_sandbox_filter
    fcgi_sandbox_filters[FCGI_SANDBOX_MODE__MAX][2];

#endif /* FCGI_SANDBOX_FILTERS_H */
