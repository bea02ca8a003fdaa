/*
 * oauthctl: main, the table of commands and their help, and the one place
 * that turns a failure into a message on standard error.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

struct ctl_command {
	const char *name;	/* "client add": the words that select it */
	ctl_command_fn run;
	const char *synopsis;	/* what follows "oauthctl [--db PATH] " */
	const char *help;	/* what it does, then its options */
};

static const struct ctl_command ctl_commands[] = {
	{ "init", ctl_cmd_init, "init",
	    "Creates the database directory (mode 0700) and the LMDB\n"
	    "environment in it (files 0600), and prints where it is; or, for a\n"
	    "postgresql:// URI, creates the schema in that database, or\n"
	    "migrates it to this version.  Running it again on a database that\n"
	    "is up to date changes nothing.\n" },
	{ "client add", ctl_cmd_client_add,
	    "client add ID [--secret S | --public] [--scope \"a b\"]\n"
	    "                           [--grant-types LIST] "
	    "[--redirect-uri URI]...\n"
	    "                           [--audience AUD] [--introspect] "
	    "[--token-format opaque|jwt] [--dpop]\n"
	    "                           [--resource URI]... [--jwks FILE]\n"
	    "                           [--tls-subject DN | --tls-cert FILE] "
	    "[--json]",
	    "Registers a client and prints its secret, once.  ID is 1 to "
	    CTL_STR(CLIENT_ID_MAX) "\n"
	    "printable ASCII characters without space (RFC 6749 Appendix A).\n"
	    "\n"
	    "  --secret S         use S instead of a generated secret: 1 to "
	    CTL_STR(CLIENT_SECRET_MAX) "\n"
	    "                     printable ASCII characters; \"-\" reads it "
	    "from\n"
	    "                     standard input so that it stays out of ps.\n"
	    "                     Stored with PBKDF2, it costs a FastCGI "
	    "process\n"
	    "                     tens of milliseconds once, and a CGI one "
	    "every\n"
	    "                     request; a generated secret costs "
	    "microseconds\n"
	    "  --public           a public client: no secret, it "
	    "authenticates by\n"
	    "                     client_id alone and may not use "
	    "client_credentials\n"
	    "  --scope \"A B\"      the scopes the client may be granted "
	    "(default:\n"
	    "                     none)\n"
	    "  --grant-types LIST comma-separated client_credentials,\n"
	    "                     authorization_code, refresh_token "
	    "(default:\n"
	    "                     client_credentials; with --public\n"
	    "                     authorization_code,refresh_token)\n"
	    "  --redirect-uri URI an absolute URI without fragment; repeat "
	    "for up\n"
	    "                     to " CTL_STR(REDIRECT_URIS_MAX)
	    "; authorization_code needs at least one\n"
	    "  --audience AUD     the audience of the client's tokens\n"
	    "  --introspect       a resource server: may introspect every "
	    "token\n"
	    "  --token-format F   opaque or jwt (RFC 9068): what its access "
	    "tokens\n"
	    "                     are (default: OAUTH_ACCESS_TOKEN_FORMAT)\n"
	    "  --resource URI     a resource (RFC 8707) the client may ask "
	    "tokens\n"
	    "                     for, which is then their aud; an absolute "
	    "URI\n"
	    "                     without fragment; repeat for up to "
	    CTL_STR(RESOURCES_MAX) "\n"
	    "  --jwks FILE        the public keys (a JWK or a JWK Set) the "
	    "client\n"
	    "                     signs its assertions with: it then "
	    "authenticates\n"
	    "                     with private_key_jwt (RFC 7523) and has no "
	    "secret\n"
	    "  --tls-subject DN   the client authenticates with a TLS "
	    "certificate\n"
	    "                     a CA the web server trusts issued to this "
	    "subject\n"
	    "                     (tls_client_auth, RFC 8705), and its "
	    "tokens are\n"
	    "                     bound to the certificate\n"
	    "  --tls-cert FILE    the same with this self-signed certificate "
	    "(PEM)\n"
	    "                     (self_signed_tls_client_auth)\n"
	    "  --dpop             every token request must carry a DPoP "
	    "proof\n"
	    "                     (RFC 9449), so that all its tokens are "
	    "bound\n"
	    "                     to the client's key\n"
	    "  --json             print {\"client_id\": ..., "
	    "\"client_secret\": ...}\n" },
	{ "client list", ctl_cmd_client_list, "client list [--json]",
	    "Lists the clients, one a line: id, type, grant types and scope,\n"
	    "separated by tabs.\n"
	    "\n"
	    "  --json   print an array of objects as \"client show --json\" "
	    "does\n" },
	{ "client show", ctl_cmd_client_show, "client show ID [--json]",
	    "Shows everything about a client except its secret.\n"
	    "\n"
	    "  --json   print one object: client_id, public, scope, "
	    "grant_types,\n"
	    "           redirect_uris, resources, audience, introspect,\n"
	    "           token_format, dpop_bound_access_tokens,\n"
	    "           token_endpoint_auth_method, jwks, created_at\n" },
	{ "client remove", ctl_cmd_client_remove, "client remove ID",
	    "Removes a client together with every token, authorization code\n"
	    "and grant issued to it, in one transaction.\n" },
	{ "client secret", ctl_cmd_client_secret, "client secret ID [--json]",
	    "Gives a confidential client a new generated secret and prints it\n"
	    "once; the old secret stops working at once.  Tokens already\n"
	    "issued stay valid: revoke them or remove the client to end them.\n"
	    "\n"
	    "  --json   print {\"client_id\": ..., \"client_secret\": ...}\n" },
	{ "token revoke", ctl_cmd_token_revoke, "token revoke TOKEN",
	    "Revokes an access token, refresh token or authorization code.\n"
	    "Revoking a refresh token also ends the tokens of its grant.  A\n"
	    "TOKEN of \"-\" is read from standard input, so that it stays out\n"
	    "of ps.\n" },
	{ "purge", ctl_cmd_purge, "purge",
	    "Deletes expired tokens, authorization codes and grants, in short\n"
	    "transactions, and prints how many of each.  A redeemed code or a\n"
	    "rotated refresh token stays until its grant ends.  Works on a\n"
	    "full database, growing its map if it must.\n" },
	{ "key generate", ctl_cmd_key_generate,
	    "key generate [--alg RS256|ES256|EdDSA] [--json]",
	    "Makes a new signing key and prints its kid.  When a key of the\n"
	    "algorithm signs already, the new one is published in the JWKS\n"
	    "now and signs from " CTL_STR(JWKS_MAX_AGE) " seconds later, once "
	    "every cached JWKS\n"
	    "holds it.\n"
	    "\n"
	    "  --alg ALG   RS256 (default), ES256 or EdDSA (Ed25519)\n"
	    "  --json      print {\"kid\": ..., \"alg\": ..., \"sign_from\": ...}\n" },
	{ "key list", ctl_cmd_key_list, "key list [--json]",
	    "Lists the signing keys, one a line: kid, algorithm, state\n"
	    "(published, signing, retired, dropped) and times.  Never shows a\n"
	    "private key.\n"
	    "\n"
	    "  --json   print an array of objects\n" },
	{ "key rotate", ctl_cmd_key_rotate, "key rotate [--alg ALG]",
	    "Makes a new key of the algorithm (RS256 by default), published\n"
	    "now, that takes over signing once every cached JWKS holds it;\n"
	    "the keys it replaces stay published until every token they\n"
	    "signed has expired.\n" },
	{ "key retire", ctl_cmd_key_retire, "key retire KID",
	    "Stops KID signing now.  It stays in the JWKS until every token it\n"
	    "signed has expired.  A KID beginning with '-' is the KID, not an\n"
	    "option.\n" },
	{ "stats", ctl_cmd_stats, "stats [--json]",
	    "Counts clients, access tokens, refresh tokens, authorization "
	    "codes\n"
	    "and grants, split by state (active, expired, revoked, used).\n"
	    "\n"
	    "  --json   print one object\n" },
	{ "check", ctl_cmd_check, "check",
	    "Reads every record in one read transaction and verifies that it\n"
	    "decodes and that what it names exists: the client of every token,\n"
	    "code and grant, and the grant of every token that has one (an\n"
	    "expired token whose grant was purged is fine).  Prints how many\n"
	    "records of each kind it checked, and each problem on standard\n"
	    "error, naming tokens by their jti.  Exits 1 when there is any.\n" },
};

#define CTL_COMMAND_COUNT (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

static void ctl_vmessage(const struct ctl *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));
static void ctl_main_usage(FILE *);
static const struct ctl_command *ctl_lookup(const char *, const char *,
    int *);
static int ctl_is_group(const char *);
static int ctl_is_help(const char *);
static void ctl_group_help(const char *);
static enum ctl_exit ctl_flush(const struct ctl *);

/* Writes "oauthctl: [command: ]message" to standard error. */
static void
ctl_vmessage(const struct ctl *ctl, const char *fmt, va_list ap)
{
	fputs("oauthctl: ", stderr);
	if (ctl != NULL && ctl->command != NULL)
		fprintf(stderr, "%s: ", ctl->command);
	vfprintf(stderr, fmt, ap);
}

/*
 * Reports a usage error on one line, with a pointer to the help of the
 * command at hand.  Returns CTL_EXIT_USAGE for the caller to pass up.
 */
enum ctl_exit
ctl_usage_error(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmessage(ctl, fmt, ap);
	va_end(ap);
	if (ctl != NULL && ctl->command != NULL)
		fprintf(stderr, " (see 'oauthctl %s --help')\n", ctl->command);
	else
		fputs(" (see 'oauthctl --help')\n", stderr);
	return CTL_EXIT_USAGE;
}

/* Reports a failure on one line.  Returns CTL_EXIT_FAIL. */
enum ctl_exit
ctl_fail(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmessage(ctl, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_FAIL;
}

/* Reports a storage failure as "what: store_strerror".  CTL_EXIT_FAIL. */
enum ctl_exit
ctl_store_fail(const struct ctl *ctl, const char *what, enum store_status st)
{
	const char *detail = ctl->store != NULL ? store_detail(ctl->store) : "";

	/* What PostgreSQL said, when it said something: never a secret. */
	if (*detail != '\0' && (st == STORE_IOERR || st == STORE_FULL ||
	    st == STORE_UNAVAILABLE))
		return ctl_fail(ctl, "%s: %s: %s", what, store_strerror(st),
		    detail);
	return ctl_fail(ctl, "%s: %s", what, store_strerror(st));
}

static void
ctl_main_usage(FILE *f)
{
	size_t i;

	fputs("usage: oauthctl [--db PATH] COMMAND [ARG ...]\n", f);
	for (i = 0; i < CTL_COMMAND_COUNT; i++)
		fprintf(f, "       oauthctl [--db PATH] %s\n",
		    ctl_commands[i].synopsis);
	fputs("       oauthctl --help | --version\n"
	    "       oauthctl COMMAND --help\n"
	    "\n"
	    "Administers the clients and tokens of fcgi-oauth.\n"
	    "\n"
	    "  --db PATH   the LMDB directory or a postgresql:// URI (default:\n"
	    "              OAUTH_DB, from the environment or the file named by\n"
	    "              OAUTH_CONFIG)\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.\n", f);
}

/* Prints the usage and help of ctl->command on stdout.  CTL_EXIT_OK. */
enum ctl_exit
ctl_help(const struct ctl *ctl)
{
	size_t i;

	for (i = 0; i < CTL_COMMAND_COUNT; i++) {
		if (strcmp(ctl_commands[i].name, ctl->command) != 0)
			continue;
		printf("usage: oauthctl [--db PATH] %s\n\n%s",
		    ctl_commands[i].synopsis, ctl_commands[i].help);
		return CTL_EXIT_OK;
	}
	ctl_main_usage(stdout);
	return CTL_EXIT_OK;
}

/* Whether word names a group of commands ("client", "token"). */
static int
ctl_is_group(const char *word)
{
	size_t i, len = strlen(word);

	for (i = 0; i < CTL_COMMAND_COUNT; i++)
		if (strncmp(ctl_commands[i].name, word, len) == 0 &&
		    ctl_commands[i].name[len] == ' ')
			return 1;
	return 0;
}

/*
 * Finds the command named by word (and, for a group, sub).  *used is set
 * to the number of words the name took.  Returns NULL when there is none.
 */
static const struct ctl_command *
ctl_lookup(const char *word, const char *sub, int *used)
{
	size_t i, len = strlen(word);

	for (i = 0; i < CTL_COMMAND_COUNT; i++) {
		const char *name = ctl_commands[i].name;

		if (strcmp(name, word) == 0) {
			*used = 1;
			return &ctl_commands[i];
		}
		if (sub != NULL && strncmp(name, word, len) == 0 &&
		    name[len] == ' ' && strcmp(name + len + 1, sub) == 0) {
			*used = 2;
			return &ctl_commands[i];
		}
	}
	return NULL;
}

/* Whether arg asks for help. */
static int
ctl_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Prints the commands of a group on stdout. */
static void
ctl_group_help(const char *group)
{
	size_t i, len = strlen(group);
	const char *lead = "usage: ";

	for (i = 0; i < CTL_COMMAND_COUNT; i++) {
		if (strncmp(ctl_commands[i].name, group, len) != 0 ||
		    ctl_commands[i].name[len] != ' ')
			continue;
		printf("%soauthctl [--db PATH] %s\n", lead,
		    ctl_commands[i].synopsis);
		lead = "       ";
	}
	printf("\nRun 'oauthctl %s COMMAND --help' for one of them.\n",
	    group);
}

/*
 * Makes sure everything printed reached standard output: a secret that
 * was lost on a full disk must not pass for printed.
 */
static enum ctl_exit
ctl_flush(const struct ctl *ctl)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		return ctl_fail(ctl, "standard output: %s", strerror(errno));
	return CTL_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	struct ctl ctl;
	const struct ctl_command *cmd;
	enum ctl_exit rv;
	int i, used = 0, want_help = 0;
	const char *arg, *sub;

	memset(&ctl, 0, sizeof(ctl));
	/* Whatever we create holds credentials: ours alone. */
	umask(077);

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (ctl_is_help(arg)) {
			ctl_main_usage(stdout);
			return ctl_flush(&ctl);
		}
		if (strcmp(arg, "--version") == 0) {
			printf("oauthctl %s\n", OAUTH_VERSION);
			return ctl_flush(&ctl);
		}
		if (strcmp(arg, "--db") == 0) {
			if (++i == argc)
				return ctl_usage_error(&ctl, "--db needs a "
				    "PATH");
			ctl.db_arg = argv[i];
		} else if (strncmp(arg, "--db=", 5) == 0)
			ctl.db_arg = arg + 5;
		else
			return ctl_usage_error(&ctl, "unknown option '%.*s'",
			    (int)strcspn(arg, "="), arg);
		if (*ctl.db_arg == '\0')
			return ctl_usage_error(&ctl, "--db needs a PATH");
	}
	if (i == argc)
		return ctl_usage_error(&ctl, "no command given");
	/* "help COMMAND" is "COMMAND --help". */
	if (strcmp(argv[i], "help") == 0) {
		want_help = 1;
		if (++i == argc) {
			ctl_main_usage(stdout);
			return ctl_flush(&ctl);
		}
	}
	sub = i + 1 < argc ? argv[i + 1] : NULL;
	cmd = ctl_lookup(argv[i], sub, &used);
	if (cmd == NULL && ctl_is_group(argv[i])) {
		if (sub == NULL ? want_help : ctl_is_help(sub)) {
			ctl_group_help(argv[i]);
			return ctl_flush(&ctl);
		}
		if (sub == NULL)
			return ctl_usage_error(&ctl, "%s: missing command",
			    argv[i]);
		return ctl_usage_error(&ctl, "unknown command '%s %s'",
		    argv[i], sub);
	}
	if (cmd == NULL)
		return ctl_usage_error(&ctl, "unknown command '%s'", argv[i]);
	ctl.command = cmd->name;
	if (want_help) {
		ctl_help(&ctl);
		return ctl_flush(&ctl);
	}

	if (jose_init(1) == -1)
		return ctl_fail(&ctl, "OpenSSL cannot start or has no SHA-256");
	ctl.now = clock_now();

	rv = cmd->run(&ctl, argc - i - used, argv + i + used);
	if (rv == CTL_EXIT_OK)
		rv = ctl_flush(&ctl);
	store_close(ctl.store);
	config_free(&ctl.config);
	return rv;
}
