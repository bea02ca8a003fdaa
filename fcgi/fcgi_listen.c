/*
 * The FastCGI listening socket: the --listen address parsed and opened,
 * the time limit put on the connections it accepts, and what to do when
 * accepting fails.  Everything here happens before the first request or
 * between requests; the request loop is fcgi_main.c's.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi.h"

/*
 * Splits s into *a.  A string that starts with '/' or '.', or holds no
 * colon, is a unix socket path; anything else is host:port, split at the
 * last colon.  The port is kept as the number parsed, so leading zeros
 * ("0009124") cost nothing however many there are.  Returns 0, or -1 when
 * the path does not fit a sockaddr_un, the host is empty or too long, or
 * the port is not a number from 1 to FCGI_LISTEN_PORT_MAX.
 */
int
fcgi_listen_parse(const char *s, struct fcgi_listen_addr *a)
{
	const char *colon, *host;
	size_t hostlen;
	long long port;

	memset(a, 0, sizeof(*a));
	if (s == NULL || s[0] == '\0')
		return -1;
	if (s[0] == '/' || s[0] == '.' || (colon = strrchr(s, ':')) == NULL) {
		if (strlen(s) >= sizeof(a->path))
			return -1;
		a->is_unix = 1;
		memcpy(a->path, s, strlen(s) + 1);
		return 0;
	}
	if (config_parse_number(colon + 1, 1, FCGI_LISTEN_PORT_MAX, &port) ==
	    -1)
		return -1;
	host = s;
	hostlen = (size_t)(colon - s);
	if (hostlen >= 2 && host[0] == '[' && host[hostlen - 1] == ']') {
		host++;
		hostlen -= 2;
	}
	/*
	 * Whoever reaches the socket is trusted with REMOTE_USER and all:
	 * listening on every address must be asked for by name (0.0.0.0).
	 */
	if (hostlen == 0 || hostlen > FCGI_LISTEN_HOST_MAX)
		return -1;
	memcpy(a->host, host, hostlen);
	a->host[hostlen] = '\0';
	a->port = (unsigned)port;
	return 0;
}

/*
 * Opens a listening unix socket at path, mode 0660: the web server's
 * group may connect, nobody else (umask 0117 around bind(2), since the
 * mode of a socket is set when it is bound).  A socket left there by a
 * process that is gone is replaced; one that still answers, or a file of
 * another kind, is not.  Returns the descriptor, or -1 with errno set.
 */
static int
fcgi_listen_unix(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t mask;
	int fd, probe, saved, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if ((probe = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			return -1;
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			(void)close(probe);
			errno = EADDRINUSE;
			return -1;
		}
		(void)close(probe);
		if (unlink(path) == -1)
			return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	mask = umask(FCGI_LISTEN_UMASK);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	(void)umask(mask);
	errno = saved;
	if (rc == -1 || listen(fd, FCGI_LISTEN_BACKLOG) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Opens a listening TCP socket on host and port.  IPv4 addresses are
 * tried before IPv6 ones, so "localhost" means 127.0.0.1 as it does to
 * most FastCGI clients.  Returns the descriptor, or -1 with *why set to a
 * static message.
 */
static int
fcgi_listen_inet(const char *host, unsigned port, const char **why)
{
	struct addrinfo hints, *res, *ai;
	char serv[sizeof("65535")];
	int fd = -1, on = 1, rc, pass;

	(void)snprintf(serv, sizeof(serv), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, serv, &hints, &res)) != 0) {
		*why = gai_strerror(rc);
		return -1;
	}
	*why = "no usable address";
	for (pass = 0; pass < 2 && fd == -1; pass++) {
		for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
			if ((ai->ai_family == AF_INET) != (pass == 0))
				continue;
			if ((fd = socket(ai->ai_family, ai->ai_socktype,
			    ai->ai_protocol)) == -1) {
				*why = strerror(errno);
				continue;
			}
			/* A restart must not wait for TIME_WAIT to pass. */
			if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
			    sizeof(on)) == -1 ||
			    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
			    listen(fd, FCGI_LISTEN_BACKLOG) == -1) {
				*why = strerror(errno);
				(void)close(fd);
				fd = -1;
			}
		}
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * Opens the listening socket of --listen, rather than through
 * FCGX_OpenSocket, which exits the process when bind(2) fails and copies
 * its argument into a fixed buffer.  Returns the descriptor, or -1 having
 * logged why.
 */
int
fcgi_listen_open(const struct fcgi_listen_addr *a)
{
	const char *why = NULL;
	int fd;

	if (a->is_unix) {
		if ((fd = fcgi_listen_unix(a->path)) == -1)
			log_event("cannot listen on %s: %s", a->path,
			    strerror(errno));
		return fd;
	}
	if ((fd = fcgi_listen_inet(a->host, a->port, &why)) == -1)
		log_event("cannot listen on %s:%u: %s", a->host, a->port, why);
	return fd;
}

/*
 * Readies the listening socket fd (ours, or the one a web server passed)
 * for the request loop.  Sets a receive and a send time limit of seconds
 * on it: Linux copies both into each TCP connection accept(2) returns, so
 * a peer that connects and says nothing, or stops half-way through a
 * request, costs that connection after seconds rather than the whole
 * responder, which serves one connection at a time.  accept(2) itself then
 * returns EAGAIN each time seconds pass without a connection, which
 * fcgi_listen_accept_error counts as a retry.  A unix-domain connection
 * does not inherit the limits (Linux creates it on the connecting side);
 * there libfcgi closes one that sends nothing within two seconds, and the
 * socket's mode keeps out everyone but the web server.
 *
 * libfcgi applies FCGI_WEB_SERVER_ADDRS to IPv4 peers only and lets any
 * IPv6 peer in, so a list on an IPv6 socket is refused rather than
 * silently ignored.  Returns 0, or -1 having logged why.
 */
int
fcgi_listen_prepare(int fd, unsigned seconds)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct timeval tv;
	const char *allow;

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		log_event("cannot inspect the FastCGI socket: %s",
		    strerror(errno));
		return -1;
	}
	allow = getenv("FCGI_WEB_SERVER_ADDRS");
	if (ss.ss_family == AF_INET6 && allow != NULL && allow[0] != '\0') {
		log_event("FCGI_WEB_SERVER_ADDRS holds IPv4 addresses, and "
		    "libfcgi does not apply it to an IPv6 socket: listen on "
		    "an IPv4 address or a unix socket");
		return -1;
	}
	memset(&tv, 0, sizeof(tv));
	tv.tv_sec = (time_t)seconds;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		log_event("cannot set a time limit on the FastCGI socket: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Says what the request loop does after accepting failed with err: an
 * errno value, or 0 when libfcgi gave no errno (FCGX_Accept_r's codes
 * below -1000).  Pure, so that it can be tested without a socket.
 *
 *  - FCGI_LISTEN_RETRY: the failure belonged to one connection, or to
 *    nothing (a signal, the listening socket's time limit): accept again.
 *    Linux reports a connection's pending network errors from accept(2)
 *    and asks that they be treated like EAGAIN (accept(2), NOTES).
 *  - FCGI_LISTEN_BACKOFF: out of descriptors or memory, which other
 *    processes or the closing of our own connections may free: wait
 *    (fcgi_listen_backoff_ms), then accept again.
 *  - FCGI_LISTEN_STOP: the socket was shut down (lighttpd does so as it
 *    stops): the end of work, exit 0.
 *  - FCGI_LISTEN_FATAL: the descriptor is not a usable listening socket,
 *    which no retry mends: exit 1.
 *
 * An errno not named here is taken as transient and backed off from: the
 * back-off bounds the cost of being wrong, and exiting would leave the
 * web server with nobody to talk to.
 */
enum fcgi_listen_verdict
fcgi_listen_accept_error(int err)
{
	if (err <= 0)
		return FCGI_LISTEN_FATAL;
	switch (err) {
	case EINTR:
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case ECONNABORTED:
	case ECONNRESET:
	case EPROTO:
	case ETIMEDOUT:
	case ENETDOWN:
	case ENETUNREACH:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case ENOPROTOOPT:
	case EOPNOTSUPP:
	case EPERM:		/* a firewall rule refused the connection */
		return FCGI_LISTEN_RETRY;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return FCGI_LISTEN_BACKOFF;
	case ENOTCONN:
		return FCGI_LISTEN_STOP;
	case EBADF:
	case ENOTSOCK:
	case EINVAL:
	case EFAULT:
		return FCGI_LISTEN_FATAL;
	default:
		return FCGI_LISTEN_BACKOFF;
	}
}

/*
 * Returns how many milliseconds to wait before the attempt-th retry in a
 * row (0 for the first) of a backed-off accept: FCGI_LISTEN_BACKOFF_MIN_MS
 * doubled each time, at most FCGI_LISTEN_BACKOFF_MAX_MS.
 */
unsigned
fcgi_listen_backoff_ms(unsigned attempt)
{
	unsigned ms = FCGI_LISTEN_BACKOFF_MIN_MS;

	while (attempt-- > 0 && ms < FCGI_LISTEN_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < FCGI_LISTEN_BACKOFF_MAX_MS ? ms :
	    FCGI_LISTEN_BACKOFF_MAX_MS;
}
