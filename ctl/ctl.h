/*
 * oauthctl: the administration tool of fcgi-oauth.  It works on the LMDB
 * environment through storage/ and the helpers of common/ only; it never
 * sees FastCGI.  Every command that changes something does it in one write
 * transaction and prints only after that transaction has committed.
 */
#ifndef CTL_H
#define CTL_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "../common/common.h"
#include "../storage/store.h"

/* Exit statuses: the contract of oauthctl(8). */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,	/* the command could not be carried out */
	CTL_EXIT_USAGE = 2,	/* the command line is wrong */
	CTL_EXIT__MAX
};

#define CTL_XSTR(x) #x
#define CTL_STR(x) CTL_XSTR(x)	/* a named limit, in a message */

#define CTL_OPTS_MAX 16		/* options one command knows */
#define CTL_SECRET_STRING_MAX 64 /* base64url of SECRET_RANDOM_LEN, NUL */
#define CTL_TIME_MAX 32		/* an ISO 8601 UTC time and its NUL */

/*
 * What every command runs with.  The store is opened by ctl_open once the
 * command line has been checked, and closed by main.
 */
struct ctl {
	const char *db_arg;	/* --db, or NULL: the configuration decides */
	const char *command;	/* "client add": used in messages */
	struct config config;	/* zeroed until ctl_open loads it */
	struct store *store;
	int64_t now;
};

/* One option a command accepts. */
struct ctl_option {
	const char *name;	/* "--scope" */
	int takes_arg;
	int repeatable;
};

/*
 * The walk over a command's arguments.  Options may come before or after
 * positional arguments; "--" ends the options.
 */
struct ctl_args {
	struct ctl *ctl;
	const struct ctl_option *options;
	size_t option_count;
	int argc;
	char **argv;
	int next;
	int options_done;
	int dash_operands;	/* an unknown "-word" is an operand */
	unsigned seen;		/* bit i: options[i] was given */
};

/* What ctl_args_next found when it returns no option index. */
#define CTL_ARGS_END (-1)	/* no more arguments */
#define CTL_ARGS_OPERAND (-2)	/* a positional argument */
#define CTL_ARGS_HELP (-3)	/* --help: print usage, exit 0 */
#define CTL_ARGS_ERROR (-4)	/* a usage error, already reported */

/* How ctl_args_line reads a command line: bits of its flags. */
#define CTL_LINE_JSON 0x01u	/* --json is an option */
#define CTL_LINE_DASH 0x02u	/* an unknown "-word" is the operand */

/* A command line of at most one operand and no option but --json. */
struct ctl_line {
	const char *operand;	/* an argv string; NULL when none is taken */
	int json;
	int helped;		/* --help was given and answered */
};

/* The commands, each one a function of (ctl, arguments after its name). */
typedef enum ctl_exit (*ctl_command_fn)(struct ctl *, int, char **);

/*
 * What a command does inside its one transaction (ctl_txn): it reports its
 * own failures and returns CTL_EXIT_OK for the transaction to commit.
 */
typedef enum ctl_exit (*ctl_txn_fn)(const struct ctl *, struct store_txn *,
    void *);

/* What "client remove" removes: the client, and what it deleted. */
struct ctl_drop {
	const char *client_id;
	struct store_purged dropped;
};

/* A grant type and its name (RFC 6749 §4.1, §4.4, §6). */
struct ctl_grant {
	unsigned bit;		/* GRANT_* */
	const char *name;
};

#define CTL_GRANT_COUNT 3

/* oauthctl.c */
enum ctl_exit ctl_usage_error(const struct ctl *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
enum ctl_exit ctl_fail(const struct ctl *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
enum ctl_exit ctl_store_fail(const struct ctl *, const char *,
    enum store_status);
enum ctl_exit ctl_help(const struct ctl *);

/* ctl_args.c */
void ctl_args_init(struct ctl_args *, struct ctl *,
    const struct ctl_option *, size_t, int, char **);
int ctl_args_next(struct ctl_args *, char **);
enum ctl_exit ctl_args_operand(const struct ctl *, const char **, size_t,
    const char *);
enum ctl_exit ctl_args_line(struct ctl *, int, char **, unsigned,
    const char *, struct ctl_line *);
enum ctl_exit ctl_read_line(const struct ctl *, const char *, char *,
    size_t, size_t *);

/* ctl_output.c */
extern const struct ctl_grant ctl_grants[CTL_GRANT_COUNT];
void ctl_json_wipe(cJSON *);
enum ctl_exit ctl_json_print(const struct ctl *, cJSON *, int);
void ctl_time_format(int64_t, char[CTL_TIME_MAX]);
int ctl_grant_join(unsigned, const char *, struct buf *);

/* ctl_db.c */
enum ctl_exit ctl_open(struct ctl *, int);
enum ctl_exit ctl_txn(struct ctl *, int, ctl_txn_fn, void *);
enum ctl_exit ctl_cmd_init(struct ctl *, int, char **);

/* ctl_client.c */
enum ctl_exit ctl_cmd_client_add(struct ctl *, int, char **);
enum ctl_exit ctl_cmd_client_list(struct ctl *, int, char **);
enum ctl_exit ctl_cmd_client_show(struct ctl *, int, char **);
enum ctl_exit ctl_cmd_client_remove(struct ctl *, int, char **);
enum ctl_exit ctl_cmd_client_secret(struct ctl *, int, char **);

/* ctl_token.c */
enum ctl_exit ctl_cmd_token_revoke(struct ctl *, int, char **);
enum ctl_exit ctl_cmd_purge(struct ctl *, int, char **);

/* ctl_key.c */
enum ctl_exit ctl_key_make(const struct ctl *, enum jose_alg, int64_t,
    struct key *);
enum ctl_exit ctl_key_init(struct ctl *);
enum ctl_exit ctl_cmd_key_generate(struct ctl *, int, char **);
enum ctl_exit ctl_cmd_key_list(struct ctl *, int, char **);
enum ctl_exit ctl_cmd_key_rotate(struct ctl *, int, char **);
enum ctl_exit ctl_cmd_key_retire(struct ctl *, int, char **);

/* ctl_stats.c */
enum ctl_exit ctl_cmd_stats(struct ctl *, int, char **);

/* ctl_check.c */
enum ctl_exit ctl_cmd_check(struct ctl *, int, char **);

/* ctl_jwks.c */
enum ctl_exit ctl_jwks_read(const struct ctl *, const char *, char **);
enum ctl_exit ctl_cert_read(const struct ctl *, const char *, char **);

#endif /* CTL_H */
