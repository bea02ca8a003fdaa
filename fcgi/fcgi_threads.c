/*
 * The threaded responder (oauth.fcgi --threads N): N workers in one
 * process, each running fcgi_loop on the shared listening socket, for
 * spawn-fcgi, lighttpd and --listen deployments.  On LMDB the workers
 * share one store opened with STORE_OPEN_THREADS, whose committer groups
 * their writes into one commit and one flush; on PostgreSQL each has a
 * connection of its own.  mod_fcgid, which sends one request at a time
 * to a process, has no use for it.
 *
 * The workers start before the sandbox is entered, wait until it is, and
 * then serve.  A stop signal reaches whichever thread accepts; the main
 * thread then signals every worker until each has finished its request
 * and returned.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "fcgi.h"

#define FCGI_THREADS_POLL_MS 50	/* how often a stopping pool is woken */
#define FCGI_THREADS_TRIM (64 * 1024 * 1024)	/* M_TRIM_THRESHOLD */

struct fcgi_threads;

struct fcgi_worker {
	struct fcgi_threads *pool;
	pthread_t thread;
	FCGX_Request req;
	struct handler_env env;		/* its own caches, and store */
	int running;			/* its thread was started */
	int rc;				/* fcgi_loop's exit status */
};

struct fcgi_threads {
	const sigset_t *stop;
	pthread_mutex_t lock;		/* guards the four below */
	pthread_cond_t changed;
	int go;				/* 1: serve; -1: leave at once */
	unsigned ready;			/* workers waiting for go */
	unsigned done;			/* workers that have returned */
	struct fcgi_worker *workers;
	unsigned count;
};

static void *
fcgi_threads_worker(void *arg)
{
	struct fcgi_worker *w = arg;
	struct fcgi_threads *pool = w->pool;
	int go;
	unsigned char warm[1];

	/*
	 * What a thread sets up on first use, its malloc arena and its
	 * store of random bytes, is set up now, before the sandbox.
	 * (OpenSSL's per-thread generator, which signing draws from, seeds
	 * from getrandom(2), which the filter allows.)
	 */
	free(malloc(1));
	(void)crypto_random(warm, sizeof(warm));
	(void)pthread_mutex_lock(&pool->lock);
	pool->ready++;
	(void)pthread_cond_broadcast(&pool->changed);
	while (pool->go == 0)
		(void)pthread_cond_wait(&pool->changed, &pool->lock);
	go = pool->go;
	(void)pthread_mutex_unlock(&pool->lock);
	w->rc = go == 1 ? fcgi_loop(&w->env, pool->stop, &w->req) : 0;
	(void)pthread_mutex_lock(&pool->lock);
	pool->done++;
	(void)pthread_cond_broadcast(&pool->changed);
	(void)pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* Lets the waiting workers serve (go 1) or leave (go -1). */
static void
fcgi_threads_release(struct fcgi_threads *pool, int go)
{
	(void)pthread_mutex_lock(&pool->lock);
	pool->go = go;
	(void)pthread_cond_broadcast(&pool->changed);
	(void)pthread_mutex_unlock(&pool->lock);
}

/*
 * Waits until every started worker has returned.  Once a stop has come
 * (or when told to at once), each worker still running is sent SIGTERM
 * every FCGI_THREADS_POLL_MS: the one blocked in accept returns, and one
 * serving a request takes it when done.
 */
static void
fcgi_threads_wait(struct fcgi_threads *pool, unsigned started, int stop_now)
{
	struct timespec until;
	unsigned i;

	(void)pthread_mutex_lock(&pool->lock);
	while (pool->done < started) {
		if (stop_now || fcgi_loop_stopping()) {
			(void)pthread_mutex_unlock(&pool->lock);
			for (i = 0; i < pool->count; i++)
				if (pool->workers[i].running)
					(void)pthread_kill(
					    pool->workers[i].thread, SIGTERM);
			(void)pthread_mutex_lock(&pool->lock);
		}
		(void)clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += FCGI_THREADS_POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&pool->changed, &pool->lock,
		    &until);
		/* One worker's return (a dead socket) stops them all. */
		if (pool->done > 0)
			stop_now = 1;
	}
	(void)pthread_mutex_unlock(&pool->lock);
}

/*
 * Serves sock with count workers, worker i with envs[i] (each with its
 * own caches; the store shared, or one each), stop being the blocked stop
 * signals.  narrow(narrow_arg) is called once every worker exists and
 * before any serves: it enters the sandbox for the whole process.  Returns the exit
 * status: 0 after a stop, 1 when a worker could not start, narrow failed
 * or the socket became unusable.
 */
int
fcgi_threads_serve(const struct handler_env *envs, unsigned count, int sock,
    const sigset_t *stop, int (*narrow)(void *), void *narrow_arg)
{
	struct fcgi_threads pool;
	unsigned i, started = 0;
	int rc = 0;

	/*
	 * Two files glibc's malloc reads the first time threads need them,
	 * which the sandbox would not allow: the CPUs in /sys, to bound the
	 * arenas when a thread finds its arena busy, and
	 * /proc/sys/vm/overcommit_memory, before giving a thread's arena
	 * back to the system.  With the bound set, and a trim threshold as
	 * large as an arena (64 MiB), neither is read; a thread's freed
	 * memory stays with it for its next requests.
	 */
#ifdef M_ARENA_MAX
	(void)mallopt(M_ARENA_MAX, (int)count + 2);
	(void)mallopt(M_TRIM_THRESHOLD, FCGI_THREADS_TRIM);
#endif
	memset(&pool, 0, sizeof(pool));
	pool.stop = stop;
	pool.count = count;
	if ((pool.workers = calloc(count, sizeof(*pool.workers))) == NULL) {
		log_event("cannot start %u threads: out of memory", count);
		return 1;
	}
	(void)pthread_mutex_init(&pool.lock, NULL);
	(void)pthread_cond_init(&pool.changed, NULL);
	for (i = 0; i < count; i++) {
		struct fcgi_worker *w = &pool.workers[i];

		w->pool = &pool;
		w->env = envs[i];
		if (FCGX_InitRequest(&w->req, sock,
		    FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
			log_event("cannot set up a FastCGI request");
			rc = 1;
			break;
		}
		if ((errno = pthread_create(&w->thread, NULL,
		    fcgi_threads_worker, w)) != 0) {
			log_event("cannot start thread %u of %u: %s", i + 1,
			    count, strerror(errno));
			FCGX_Free(&w->req, 0);
			rc = 1;
			break;
		}
		w->running = 1;
		started++;
	}
	/*
	 * A thread runs its own start-up system calls (set_robust_list,
	 * rseq) after pthread_create returns: the sandbox waits for them.
	 */
	(void)pthread_mutex_lock(&pool.lock);
	while (pool.ready < started)
		(void)pthread_cond_wait(&pool.changed, &pool.lock);
	(void)pthread_mutex_unlock(&pool.lock);
	if (rc == 0 && narrow(narrow_arg) == -1)
		rc = 1;
	fcgi_threads_release(&pool, rc == 0 ? 1 : -1);
	fcgi_threads_wait(&pool, started, 0);
	for (i = 0; i < count; i++) {
		struct fcgi_worker *w = &pool.workers[i];

		if (!w->running)
			continue;
		(void)pthread_join(w->thread, NULL);
		if (w->rc != 0)
			rc = w->rc;
		FCGX_Free(&w->req, 0);
	}
	(void)pthread_cond_destroy(&pool.changed);
	(void)pthread_mutex_destroy(&pool.lock);
	free(pool.workers);
	return rc;
}
