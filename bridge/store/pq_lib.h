/*
 * pq_lib.h -- libpq, opened on first use (pq_lib.c). Include this instead
 * of <libpq-fe.h>: the API is libpq's own.
 */
#ifndef IB_PQ_LIB_H
#define IB_PQ_LIB_H

#include <libpq-fe.h>
#include <stddef.h>

#include "syslib.h"

/* Loads libpq now: 0, or -1 with one line in err (which library, why,
 * which package to install). PQconnectdb, PQconnectdbParams and
 * PQconninfoParse load it too, and fail as libpq does on no memory when
 * they cannot. */
int ib_pq_load(char *err, size_t errlen);

#endif /* IB_PQ_LIB_H */
