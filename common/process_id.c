/*
 * The process's id without a system call each time it is asked: glibc's
 * getpid(2) no longer caches it, and the stores and the random pool ask
 * on every request, to refuse what a fork would otherwise share with the
 * parent (an LMDB environment, a PostgreSQL connection, bytes drawn
 * ahead).  The child of every fork(2) forgets the cached id, through a
 * pthread_atfork handler, and asks the kernel again; if the handler
 * cannot be registered nothing is cached.  A child made by a bare
 * clone(2), which runs no such handler, is not seen: nothing here makes
 * one.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <unistd.h>

#include "common.h"

static _Atomic pid_t process_id_cached;
static pthread_once_t process_id_once = PTHREAD_ONCE_INIT;
static atomic_bool process_id_registered;

static void
process_id_forget(void)
{
	atomic_store(&process_id_cached, 0);
}

static void
process_id_register(void)
{
	if (pthread_atfork(NULL, NULL, process_id_forget) == 0)
		atomic_store(&process_id_registered, true);
}

pid_t
process_id(void)
{
	pid_t pid = atomic_load_explicit(&process_id_cached,
	    memory_order_relaxed);

	if (pid != 0)
		return pid;
	(void)pthread_once(&process_id_once, process_id_register);
	pid = getpid();
	if (atomic_load(&process_id_registered))
		atomic_store(&process_id_cached, pid);
	return pid;
}
