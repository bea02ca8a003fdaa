/*
 * The responder's sandbox: once the configuration is read, the database
 * open and the FastCGI socket ready, a seccomp filter narrows the process
 * to the system calls serving requests needs (the rules, and why, are in
 * fcgi/sandbox/fcgi_sandbox_rules.c).  The filters are compiled when the
 * program is built, so entering the sandbox is two system calls, not the
 * building of a filter: a CGI process enters it on every request.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi.h"

/*
 * Installs the filter of mode, with what a PostgreSQL database needs when
 * postgresql is set, on the calling process (and whatever it forks or
 * clones later; nothing can remove it); for FCGI_SANDBOX_THREADS on every
 * thread at once, the workers being started already, with tgkill allowed
 * within this process.  Sets no_new_privs, which seccomp needs of an
 * unprivileged process.  Returns 0, or -1 having logged why; the process
 * is then as it was and must not serve.
 */
int
fcgi_sandbox_enter(enum fcgi_sandbox_mode mode, int postgresql)
{
	const struct fcgi_sandbox_filter *f;
	struct sock_filter *code;
	struct sock_fprog prog;
	unsigned long flags = 0;
	size_t i;
	long rc;

	if ((unsigned)mode >= FCGI_SANDBOX_MODE__MAX)
		return -1;
	f = &fcgi_sandbox_filters[mode][postgresql != 0];
	if ((code = malloc(f->len * sizeof(*code))) == NULL) {
		log_event("sandbox: out of memory");
		return -1;
	}
	memcpy(code, f->code, f->len * sizeof(*code));
	if (mode == FCGI_SANDBOX_THREADS) {
		for (i = 0; i < f->len; i++)
			if (code[i].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
			    code[i].k == FCGI_SANDBOX_PID_PLACEHOLDER)
				code[i].k = (__u32)getpid();
		flags = SECCOMP_FILTER_FLAG_TSYNC;
	}
	prog.len = f->len;
	prog.filter = code;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		rc = -1;
	else
		rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags,
		    &prog);
	free(code);
	/* With TSYNC, a thread that could not take the filter: its id. */
	if (rc != 0) {
		log_event("sandbox: cannot install the seccomp filter: %s",
		    rc > 0 ? "a thread could not take it" : strerror(errno));
		return -1;
	}
	return 0;
}
