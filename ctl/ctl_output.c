/*
 * What the commands print: JSON through cJSON, times, grant type names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

const struct ctl_grant ctl_grants[CTL_GRANT_COUNT] = {
	{ GRANT_CLIENT_CREDENTIALS, "client_credentials" },
	{ GRANT_AUTHORIZATION_CODE, "authorization_code" },
	{ GRANT_REFRESH_TOKEN, "refresh_token" },
};

/*
 * Wipes the string values at the top level of json, which may hold a
 * secret, before it is deleted.  Accepts NULL.
 */
void
ctl_json_wipe(cJSON *json)
{
	cJSON *item;

	if (json == NULL)
		return;
	for (item = json->child; item != NULL; item = item->next)
		if (cJSON_IsString(item) && item->valuestring != NULL)
			crypto_wipe(item->valuestring,
			    strlen(item->valuestring));
}

/*
 * Prints json unformatted on one line of standard output and deletes it.
 * When secret is set its strings and the printed text are wiped before
 * they are freed.  Returns CTL_EXIT_OK, or CTL_EXIT_FAIL when json is NULL
 * or memory runs out.
 */
enum ctl_exit
ctl_json_print(const struct ctl *ctl, cJSON *json, int secret)
{
	char *text;

	if (json == NULL)
		return ctl_fail(ctl, "out of memory");
	text = cJSON_PrintUnformatted(json);
	if (secret)
		ctl_json_wipe(json);
	cJSON_Delete(json);
	if (text == NULL)
		return ctl_fail(ctl, "out of memory");
	puts(text);
	if (secret)
		crypto_wipe(text, strlen(text));
	cJSON_free(text);
	return CTL_EXIT_OK;
}

/* Writes t as an ISO 8601 UTC time ("2024-01-31T12:00:00Z") into out. */
void
ctl_time_format(int64_t t, char out[CTL_TIME_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, CTL_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, CTL_TIME_MAX, "%lld", (long long)t);
}

/*
 * Appends the names of the grant types in bits to b, separated by sep.
 * Returns 0, or -1 when memory runs out.
 */
int
ctl_grant_join(unsigned bits, const char *sep, struct buf *b)
{
	size_t i;
	int first = 1;

	if (buf_puts(b, "") == -1)
		return -1;
	for (i = 0; i < CTL_GRANT_COUNT; i++) {
		if ((bits & ctl_grants[i].bit) == 0)
			continue;
		if ((!first && buf_puts(b, sep) == -1) ||
		    buf_puts(b, ctl_grants[i].name) == -1)
			return -1;
		first = 0;
	}
	return 0;
}
