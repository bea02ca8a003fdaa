/*
 * The PostgreSQL backend's own pieces, shared by store_pg.c and
 * store_pg_schema.c.
 */
#ifndef STORE_PG_H
#define STORE_PG_H

#include <libpq-fe.h>

#include "store_backend.h"

/* store_pg.c */
void store_pg_say(const PGconn *, const PGresult *, char *, size_t);

/* store_pg_schema.c */
int store_pg_schema_version(void);
enum store_status store_pg_schema_ensure(PGconn *, int, char *, size_t);

#endif /* STORE_PG_H */
