/*
 * A main for the fuzz harnesses when no fuzzer is linked in: every file
 * named on the command line, or found directly inside a directory named
 * there, is read and handed to LLVMFuzzerTestOneInput once.  With no
 * arguments, standard input is the one input.  Each input gets a buffer of
 * exactly its size, so a sanitizer sees any read past the end.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int replay_stream(FILE *, const char *);
static int replay_file(const char *);
static int replay_dir(const char *, size_t *);

/*
 * Reads all of fp and runs it as one input.  Returns 0, or -1 with a
 * message naming name when reading fails.
 */
static int
replay_stream(FILE *fp, const char *name)
{
	unsigned char *data = NULL, *p;
	size_t len = 0, cap = 0, n;

	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			if ((p = realloc(data, cap)) == NULL) {
				fprintf(stderr, "replay: %s: out of memory\n",
				    name);
				free(data);
				return -1;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", name);
		free(data);
		return -1;
	}
	/* An exact copy: no slack after the input for a parser to read. */
	if ((p = malloc(len > 0 ? len : 1)) == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", name);
		free(data);
		return -1;
	}
	if (len > 0)
		memcpy(p, data, len);
	free(data);
	(void)LLVMFuzzerTestOneInput(p, len);
	free(p);
	return 0;
}

/* Runs the file at path as one input.  Returns 0 or -1 as above. */
static int
replay_file(const char *path)
{
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = replay_stream(fp, path);
	fclose(fp);
	return rc;
}

/*
 * Runs every regular file directly inside dir, adding their number to
 * *count.  Returns 0, or -1 when the directory or one of its files could
 * not be read; the other files still run.
 */
static int
replay_dir(const char *dir, size_t *count)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char path[4096];
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", dir,
			    de->d_name);
			rc = -1;
			continue;
		}
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(path) == -1)
			rc = -1;
		else
			(*count)++;
	}
	closedir(d);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct stat st;
	size_t count = 0;
	int i, rc = 0;

	if (argc < 2) {
		if (replay_stream(stdin, "<stdin>") == -1)
			return 1;
		printf("replayed 1 inputs\n");
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count) == -1)
				rc = 1;
		} else if (replay_file(argv[i]) == -1)
			rc = 1;
		else
			count++;
	}
	printf("replayed %zu inputs\n", count);
	return rc;
}
