/*
 * The rules of the responder's sandbox, compiled into seccomp programs
 * when the program is built (fcgi_sandbox_gen.c), which fcgi_sandbox.c
 * installs: building a filter with libseccomp cost a CGI process a
 * tenth of its time, on every request.
 *
 * The sandbox: once the configuration is read, the database
 * open and the FastCGI socket ready, a seccomp filter narrows the process
 * to the system calls serving requests needs.  No file can be opened, no
 * socket created or connected, no program run after that.  With a
 * PostgreSQL database the process must be able to connect again when its
 * connection is lost, so it keeps what libpq needs for that: creating a
 * unix or IP socket, connecting it, and opening and listing files
 * read-only (its password file, TLS certificates, the resolver's and
 * GSSAPI's configuration); still no file
 * can be written or created, and nothing run.
 *
 * A call outside the list kills the process (SCMP_ACT_KILL_PROCESS), as a
 * pledge(2) violation does on OpenBSD, rather than failing with EPERM: a
 * responder that makes a call it never needs is compromised or on a path
 * nobody tested, and letting it go on with a failed fsync or mmap could
 * turn into wrong answers or a database error on every request afterwards,
 * where a dead process is plain to see (the web server logs its signal,
 * SIGSYS) and is started again by its process manager.
 *
 * A sanitizer build is the exception: its runtime reads /proc, stops the
 * world with ptrace(2) for the leak check at exit and may try to run a
 * symbolizer for a report.  There the filter allows a documented wider
 * list and refuses the rest with EPERM, so that a report is never cut
 * short by the filter; execve(2) stays refused.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

#include "fcgi_sandbox_rules.h"

/* The system calls every mode needs, with why. */
static const int fcgi_sandbox_common[] = {
	/* The request and response: stdin/stdout, or the connection. */
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write), SCMP_SYS(writev),
	/* LMDB: pages read and written, commits flushed, files sized. */
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(msync),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(ftruncate),
	/* LMDB's reader table locks (fcntl) and robust mutexes (futex). */
	SCMP_SYS(fcntl), SCMP_SYS(futex), SCMP_SYS(getpid), SCMP_SYS(gettid),
	/* malloc, and LMDB's map, mapped again on MDB_MAP_RESIZED. */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* Random bytes (crypto.c), and OpenSSL's generator when signing. */
	SCMP_SYS(getrandom),
	/* The clock, when the vDSO does not answer. */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	/* The stop signals, blocked around each request. */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigaction), SCMP_SYS(restart_syscall),
	/* Closing the database and the connections; leaving. */
	SCMP_SYS(close), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* What FastCGI adds: libfcgi's accept loop and our back-off. */
static const int fcgi_sandbox_fastcgi[] = {
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(shutdown),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getpeername),
	SCMP_SYS(getsockname), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
};

/* What a PostgreSQL connection adds, beside socket, connect and openat. */
static const int fcgi_sandbox_postgresql[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt), SCMP_SYS(getpeername), SCMP_SYS(getsockname),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg), SCMP_SYS(shutdown), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(stat), SCMP_SYS(uname),
	/* GSSAPI, which libpq tries over TCP, lists /etc/gss/mech.d. */
	SCMP_SYS(getdents64), SCMP_SYS(getdents),
};

/*
 * What the sanitizer runtime adds, in sanitizer builds only: reading
 * /proc/self (maps, task list, its own path), the leak checker's tracer
 * thread (clone, ptrace, wait4, prctl, sched_yield, sigaltstack) and its
 * reports' output.
 */
static const int fcgi_sandbox_sanitizer[] = {
	SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(getdents), SCMP_SYS(getdents64),
	SCMP_SYS(clone),
	SCMP_SYS(clone3), SCMP_SYS(ptrace), SCMP_SYS(wait4),
	SCMP_SYS(waitid), SCMP_SYS(prctl), SCMP_SYS(sched_yield),
	SCMP_SYS(sigaltstack), SCMP_SYS(mprotect), SCMP_SYS(getppid),
	SCMP_SYS(tgkill), SCMP_SYS(kill),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(uname),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(process_vm_readv), SCMP_SYS(pipe2), SCMP_SYS(dup2),
	SCMP_SYS(dup3), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(mmap),
};

/* Adds each call of list to ctx.  Returns 0, or a negative errno. */
static int
fcgi_sandbox_allow(scmp_filter_ctx ctx, const int *list, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, list[i], 0)) <
		    0)
			return rc;
	return 0;
}

/*
 * Adds the calls whose arguments matter: mmap and mprotect without
 * PROT_EXEC, so that no new code can be mapped; ioctl for TCGETS only,
 * which stdio asks of a stream it sets up.  Returns 0, or a negative errno.
 */
static int
fcgi_sandbox_allow_args(scmp_filter_ctx ctx)
{
	int rc;

	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS))) < 0)
		return rc;
	return 0;
}

/*
 * Adds what reconnecting to PostgreSQL needs: its calls, sockets of the
 * unix and IP families only, and openat without write access, creation
 * or truncation.  Returns 0, or a negative errno.
 */
static int
fcgi_sandbox_allow_postgresql(scmp_filter_ctx ctx)
{
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	size_t i;
	int rc;

	if ((rc = fcgi_sandbox_allow(ctx, fcgi_sandbox_postgresql,
	    sizeof(fcgi_sandbox_postgresql) / sizeof(int))) < 0)
		return rc;
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]))) < 0)
			return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect),
	    0)) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
	    O_APPEND, O_RDONLY))) < 0)
		return rc;
	return 0;
}

/*
 * What the threaded responder adds: the stopping main thread signals its
 * workers (tgkill, only within process pid).  (The filter is put on every
 * thread at once, the workers existing already: fcgi_sandbox.c.)
 * Returns 0, or a negative errno.
 */
static int
fcgi_sandbox_allow_threads(scmp_filter_ctx ctx, uint32_t pid)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)pid));
}

/*
 * The filter of mode, with what a PostgreSQL database needs when
 * postgresql is set, and, for FCGI_SANDBOX_THREADS, tgkill allowed within
 * process pid; in a sanitizer build (sanitizer set) with its runtime's
 * calls too and EPERM for the rest.  Returns the libseccomp context, for
 * seccomp_release, or NULL with *rc a negative errno.
 */
scmp_filter_ctx
fcgi_sandbox_rules(enum fcgi_sandbox_mode mode, int postgresql, uint32_t pid,
    int sanitizer, int *rc)
{
	scmp_filter_ctx ctx;

	if ((ctx = seccomp_init(sanitizer ? SCMP_ACT_ERRNO(EPERM) :
	    SCMP_ACT_KILL_PROCESS)) == NULL) {
		*rc = -EINVAL;	/* libseccomp says no more */
		return NULL;
	}
	*rc = fcgi_sandbox_allow(ctx, fcgi_sandbox_common,
	    sizeof(fcgi_sandbox_common) / sizeof(int));
	if (*rc == 0)
		*rc = fcgi_sandbox_allow_args(ctx);
	if (*rc == 0 && mode != FCGI_SANDBOX_CGI)
		*rc = fcgi_sandbox_allow(ctx, fcgi_sandbox_fastcgi,
		    sizeof(fcgi_sandbox_fastcgi) / sizeof(int));
	if (*rc == 0 && mode == FCGI_SANDBOX_THREADS)
		*rc = fcgi_sandbox_allow_threads(ctx, pid);
	if (*rc == 0 && postgresql)
		*rc = fcgi_sandbox_allow_postgresql(ctx);
	if (*rc == 0 && sanitizer)
		*rc = fcgi_sandbox_allow(ctx, fcgi_sandbox_sanitizer,
		    sizeof(fcgi_sandbox_sanitizer) / sizeof(int));
	if (*rc < 0) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}
