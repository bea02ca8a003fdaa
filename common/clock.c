/*
 * The wall clock of both programs.  Tests pin it with OAUTH_TEST_NOW
 * (seconds since the epoch) so that no test depends on how long a second
 * lasts; nothing else should set that variable.
 */
#include <stdlib.h>
#include <time.h>

#include "common.h"

/*
 * Returns the current time in seconds since the epoch, or the value of
 * OAUTH_TEST_NOW when it is set to a number from 0 to CLOCK_PIN_MAX.  The
 * variable is read once per process; a malformed value is ignored.
 */
int64_t
clock_now(void)
{
	static int loaded;
	static int pinned;
	static int64_t pin;
	const char *s;
	long long v;

	if (!loaded) {
		loaded = 1;
		if ((s = getenv("OAUTH_TEST_NOW")) != NULL && *s != '\0' &&
		    config_parse_number(s, 0, CLOCK_PIN_MAX, &v) == 0) {
			pinned = 1;
			pin = (int64_t)v;
		}
	}
	return pinned ? pin : (int64_t)time(NULL);
}
