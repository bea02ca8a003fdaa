/*
 * The arguments of one command: options before or after the operands,
 * "--opt VALUE" or "--opt=VALUE", "--" to end the options, and reading a
 * credential from standard input when the operator writes "-".
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct ctl_option ctl_args_json_opt[] = {
	{ "--json", 0, 0 },
};

static int ctl_args_lookup(const struct ctl_args *, const char *, size_t);

/* Prepares a walk over argv[0..argc) with the given options. */
void
ctl_args_init(struct ctl_args *a, struct ctl *ctl,
    const struct ctl_option *options, size_t count, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->ctl = ctl;
	a->options = options;
	a->option_count = count < CTL_OPTS_MAX ? count : CTL_OPTS_MAX;
	a->argc = argc;
	a->argv = argv;
}

/* The index of the option named by the len bytes at name, or -1. */
static int
ctl_args_lookup(const struct ctl_args *a, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < a->option_count; i++)
		if (strlen(a->options[i].name) == len &&
		    memcmp(a->options[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/*
 * Returns the index of the next option, its argument (if it takes one) in
 * *value; or CTL_ARGS_OPERAND with the operand in *value ("-" alone is an
 * operand); CTL_ARGS_HELP for --help or -h; CTL_ARGS_END; or
 * CTL_ARGS_ERROR once an unknown, repeated or incomplete option has been
 * reported.  Messages name the option but never echo a value, which may be
 * a secret.
 */
int
ctl_args_next(struct ctl_args *a, char **value)
{
	const struct ctl_option *o;
	char *arg, *eq;
	size_t len;
	int i;

	*value = NULL;
	for (;;) {
		if (a->next >= a->argc)
			return CTL_ARGS_END;
		arg = a->argv[a->next++];
		if (a->options_done || arg[0] != '-' || arg[1] == '\0') {
			*value = arg;
			return CTL_ARGS_OPERAND;
		}
		if (strcmp(arg, "--") != 0)
			break;
		a->options_done = 1;
	}
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
		return CTL_ARGS_HELP;

	eq = strchr(arg, '=');
	len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	if ((i = ctl_args_lookup(a, arg, len)) == -1) {
		if (a->dash_operands) {
			*value = arg;
			return CTL_ARGS_OPERAND;
		}
		ctl_usage_error(a->ctl, "unknown option '%.*s'", (int)len, arg);
		return CTL_ARGS_ERROR;
	}
	o = &a->options[i];
	if ((a->seen & (1u << i)) != 0 && !o->repeatable) {
		ctl_usage_error(a->ctl, "%s given twice", o->name);
		return CTL_ARGS_ERROR;
	}
	a->seen |= 1u << i;
	if (!o->takes_arg) {
		if (eq != NULL) {
			ctl_usage_error(a->ctl, "%s takes no value", o->name);
			return CTL_ARGS_ERROR;
		}
		return i;
	}
	if (eq != NULL) {
		*value = eq + 1;
		return i;
	}
	/*
	 * "--scope --json" most likely lost its value: take the next word
	 * only when it is not one of our own options.
	 */
	if (a->next >= a->argc ||
	    (!a->options_done && a->argv[a->next][0] == '-' &&
	    (ctl_args_lookup(a, a->argv[a->next],
	    strlen(a->argv[a->next])) != -1 ||
	    strcmp(a->argv[a->next], "--help") == 0))) {
		ctl_usage_error(a->ctl, "%s needs a value", o->name);
		return CTL_ARGS_ERROR;
	}
	*value = a->argv[a->next++];
	return i;
}

/*
 * Stores an operand in the first empty slot of slots[0..count).  Returns
 * CTL_EXIT_OK, or CTL_EXIT_USAGE (reported) when all are taken; the extra
 * operand is not echoed since it may be a token.
 */
enum ctl_exit
ctl_args_operand(const struct ctl *ctl, const char **slots, size_t count,
    const char *value)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (slots[i] == NULL) {
			slots[i] = value;
			return CTL_EXIT_OK;
		}
	}
	return ctl_usage_error(ctl, "too many arguments");
}

/*
 * Reads the command line of a command that takes one operand when what
 * names it ("client ID", used in "missing client ID"), none when what is
 * NULL, and no option but --json when flags has CTL_LINE_JSON.  With
 * CTL_LINE_DASH an unknown "-word" is the operand.  Returns CTL_EXIT_OK
 * with l filled; CTL_EXIT_OK with l->helped set once --help has been
 * answered; CTL_EXIT_USAGE once reported.
 */
enum ctl_exit
ctl_args_line(struct ctl *ctl, int argc, char **argv, unsigned flags,
    const char *what, struct ctl_line *l)
{
	struct ctl_args a;
	char *v;
	int o;

	memset(l, 0, sizeof(*l));
	ctl_args_init(&a, ctl, ctl_args_json_opt,
	    (flags & CTL_LINE_JSON) != 0 ? 1 : 0, argc, argv);
	a.dash_operands = (flags & CTL_LINE_DASH) != 0;
	while ((o = ctl_args_next(&a, &v)) != CTL_ARGS_END) {
		switch (o) {
		case 0:
			l->json = 1;
			break;
		case CTL_ARGS_OPERAND:
			if (what == NULL)
				return ctl_usage_error(ctl, "too many arguments");
			if (ctl_args_operand(ctl, &l->operand, 1, v) !=
			    CTL_EXIT_OK)
				return CTL_EXIT_USAGE;
			break;
		case CTL_ARGS_HELP:
			l->helped = 1;
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (what != NULL && l->operand == NULL)
		return ctl_usage_error(ctl, "missing %s", what);
	return CTL_EXIT_OK;
}

/*
 * Reads one line of at most size - 1 bytes from standard input into buf,
 * without its "\n" or "\r\n", and NUL-terminates it; *len gets its length.
 * what names the value in messages.  Returns CTL_EXIT_OK; CTL_EXIT_USAGE
 * for an empty, over-long or NUL-bearing line; CTL_EXIT_FAIL on a read
 * error.  buf is wiped on failure: it may hold part of a secret.
 */
enum ctl_exit
ctl_read_line(const struct ctl *ctl, const char *what, char *buf,
    size_t size, size_t *len)
{
	size_t n = 0;
	int c;

	/* Unbuffered: no copy of the secret is left in a stdio buffer. */
	(void)setvbuf(stdin, NULL, _IONBF, 0);
	while ((c = getchar()) != EOF && c != '\n') {
		if (c == '\0' || n + 1 >= size) {
			crypto_wipe(buf, size);
			return ctl_usage_error(ctl, "%s on standard input: %s",
			    what, c == '\0' ? "contains a NUL byte" :
			    "too long");
		}
		buf[n++] = (char)c;
	}
	if (ferror(stdin)) {
		crypto_wipe(buf, size);
		return ctl_fail(ctl, "reading %s from standard input failed",
		    what);
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0)
		return ctl_usage_error(ctl, "%s on standard input is empty",
		    what);
	*len = n;
	return CTL_EXIT_OK;
}
