/*
 * Run when oauth.fcgi is built: compiles the sandbox's rules
 * (fcgi_sandbox_rules.c) with libseccomp into the BPF programs of every
 * mode, with and without PostgreSQL, and writes them to standard output
 * as the C source of fcgi_sandbox_filters (fcgi_sandbox_filters.h).  The
 * threads' program compares tgkill's pid with
 * FCGI_SANDBOX_PID_PLACEHOLDER, exactly once (none in a sanitizer build),
 * or nothing is written.  The programs are for the machine this runs on:
 * the build is native (a cross build would need this built for the
 * build machine and the target's architecture given to libseccomp).  A sanitizer build of this program
 * makes a sanitizer build's programs.
 */
#include <linux/filter.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi_sandbox_rules.h"

#if defined(__SANITIZE_ADDRESS__)
#define FCGI_SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FCGI_SANDBOX_SANITIZER 1
#endif
#endif
#ifndef FCGI_SANDBOX_SANITIZER
#define FCGI_SANDBOX_SANITIZER 0
#endif

static const char *const gen_mode_names[FCGI_SANDBOX_MODE__MAX] = {
	[FCGI_SANDBOX_CGI] = "FCGI_SANDBOX_CGI",
	[FCGI_SANDBOX_FASTCGI] = "FCGI_SANDBOX_FASTCGI",
	[FCGI_SANDBOX_THREADS] = "FCGI_SANDBOX_THREADS",
};

/*
 * The program of mode and postgresql, exported by libseccomp through a
 * temporary file, into *code (malloc'd) and *len.  Returns 0, or -1 having
 * said why.
 */
static int
gen_program(enum fcgi_sandbox_mode mode, int postgresql,
    struct sock_filter **code, size_t *len)
{
	scmp_filter_ctx ctx;
	FILE *tmp;
	long size;
	int rc;

	if ((ctx = fcgi_sandbox_rules(mode, postgresql,
	    FCGI_SANDBOX_PID_PLACEHOLDER, FCGI_SANDBOX_SANITIZER, &rc)) ==
	    NULL) {
		fprintf(stderr, "fcgi_sandbox_gen: libseccomp cannot make the "
		    "%s program: %s\n", gen_mode_names[mode], strerror(-rc));
		return -1;
	}
	if ((tmp = tmpfile()) == NULL) {
		perror("fcgi_sandbox_gen: tmpfile");
		seccomp_release(ctx);
		return -1;
	}
	rc = seccomp_export_bpf(ctx, fileno(tmp));
	seccomp_release(ctx);
	if (rc < 0 || (size = lseek(fileno(tmp), 0, SEEK_END)) <= 0 ||
	    size % (long)sizeof(**code) != 0 ||
	    size / (long)sizeof(**code) > BPF_MAXINSNS ||
	    lseek(fileno(tmp), 0, SEEK_SET) != 0 ||
	    (*code = malloc((size_t)size)) == NULL ||
	    read(fileno(tmp), *code, (size_t)size) != size) {
		fprintf(stderr, "fcgi_sandbox_gen: cannot export the %s "
		    "program\n", gen_mode_names[mode]);
		fclose(tmp);
		return -1;
	}
	fclose(tmp);
	*len = (size_t)size / sizeof(**code);
	return 0;
}

/* How many of the program's comparisons are with the placeholder pid. */
static size_t
gen_placeholders(const struct sock_filter *code, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (code[i].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
		    code[i].k == FCGI_SANDBOX_PID_PLACEHOLDER)
			n++;
	return n;
}

int
main(void)
{
	struct sock_filter *code;
	size_t len, i, want;
	int mode, pg;

	/*
	 * The programs only are made here, not loaded: libseccomp is not to
	 * ask this machine's kernel what it supports (a build chroot or
	 * container may have no seccomp at all), but to assume the API of
	 * the kernels the program runs on (level 3: SECCOMP_RET_KILL_PROCESS,
	 * Linux 4.14).
	 */
	if (seccomp_api_set(3) != 0) {
		fprintf(stderr, "fcgi_sandbox_gen: libseccomp has no API level "
		    "3\n");
		return 1;
	}

	printf("/* Made by fcgi_sandbox_gen from fcgi_sandbox_rules.c. */\n"
	    "#include \"fcgi_sandbox_filters.h\"\n\n");
	for (mode = 0; mode < FCGI_SANDBOX_MODE__MAX; mode++)
		for (pg = 0; pg < 2; pg++) {
			if (gen_program((enum fcgi_sandbox_mode)mode, pg, &code,
			    &len) == -1)
				return 1;
			/*
			 * A sanitizer build allows every tgkill (its
			 * runtime's list): no pid is compared there.
			 */
			want = mode == FCGI_SANDBOX_THREADS &&
			    !FCGI_SANDBOX_SANITIZER ? 1 : 0;
			if (gen_placeholders(code, len) != want) {
				fprintf(stderr, "fcgi_sandbox_gen: %s: the "
				    "placeholder pid is compared %zu times, "
				    "not %zu\n", gen_mode_names[mode],
				    gen_placeholders(code, len), want);
				free(code);
				return 1;
			}
			printf("static const struct sock_filter "
			    "fcgi_sandbox_%d_%d[%zu] = {\n", mode, pg, len);
			for (i = 0; i < len; i++)
				printf("\t{0x%04x, %u, %u, 0x%08x},\n",
				    code[i].code, code[i].jt, code[i].jf,
				    code[i].k);
			printf("};\n\n");
			free(code);
		}
	printf("const struct fcgi_sandbox_filter\n"
	    "    fcgi_sandbox_filters[FCGI_SANDBOX_MODE__MAX][2] = {\n");
	for (mode = 0; mode < FCGI_SANDBOX_MODE__MAX; mode++) {
		printf("\t[%s] = {\n", gen_mode_names[mode]);
		for (pg = 0; pg < 2; pg++)
			printf("\t\t{fcgi_sandbox_%d_%d, sizeof(fcgi_sandbox_%d_%d)"
			    " / sizeof(struct sock_filter)},\n", mode, pg, mode,
			    pg);
		printf("\t},\n");
	}
	printf("};\n");
	return fflush(stdout) == 0 ? 0 : 1;
}
