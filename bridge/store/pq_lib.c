/*
 * pq_lib.c -- libpq opened on first use (syslib.h): the PQ* functions the
 * PostgreSQL store and export call, defined here as forwarders to
 * libpq.so.5's own, so that a command on a SQLite store never maps libpq
 * and the libraries it needs. The functions that connect or parse a
 * connection string load the library; the others act only once it is
 * loaded (before that they answer as libpq does for a NULL connection or
 * result). ib_pq_load says why the library cannot be loaded. Must not
 * hold state besides the resolved symbols.
 */
#include "pq_lib.h"

#include <stddef.h>

enum {
  F_CLEAR,
  F_GETVALUE,
  F_RESULT_STATUS,
  F_NTUPLES,
  F_GETISNULL,
  F_EXEC,
  F_FREEMEM,
  F_ERROR_MESSAGE,
  F_GET_RESULT,
  F_FINISH,
  F_STATUS,
  F_RESULT_ERROR_FIELD,
  F_EXEC_PARAMS,
  F_TRANSACTION_STATUS,
  F_SEND_QUERY_PREPARED,
  F_PIPELINE_SYNC,
  F_EXIT_PIPELINE_MODE,
  F_ESCAPE_IDENTIFIER,
  F_ENTER_PIPELINE_MODE,
  F_CONNINFO_FREE,
  F_CONNECTDB_PARAMS,
  F_SET_SINGLE_ROW_MODE,
  F_SEND_PREPARE,
  F_PUT_COPY_END,
  F_PUT_COPY_DATA,
  F_PREPARE,
  F_PORT,
  F_HOST,
  F_GETLENGTH,
  F_GET_COPY_DATA,
  F_EXEC_PREPARED,
  F_DB,
  F_CONNINFO_PARSE,
  F_CONNECTDB,
  F_CMD_STATUS,
  F_COUNT
};

static const char *const names[F_COUNT + 1] = {"PQclear",
                                               "PQgetvalue",
                                               "PQresultStatus",
                                               "PQntuples",
                                               "PQgetisnull",
                                               "PQexec",
                                               "PQfreemem",
                                               "PQerrorMessage",
                                               "PQgetResult",
                                               "PQfinish",
                                               "PQstatus",
                                               "PQresultErrorField",
                                               "PQexecParams",
                                               "PQtransactionStatus",
                                               "PQsendQueryPrepared",
                                               "PQpipelineSync",
                                               "PQexitPipelineMode",
                                               "PQescapeIdentifier",
                                               "PQenterPipelineMode",
                                               "PQconninfoFree",
                                               "PQconnectdbParams",
                                               "PQsetSingleRowMode",
                                               "PQsendPrepare",
                                               "PQputCopyEnd",
                                               "PQputCopyData",
                                               "PQprepare",
                                               "PQport",
                                               "PQhost",
                                               "PQgetlength",
                                               "PQgetCopyData",
                                               "PQexecPrepared",
                                               "PQdb",
                                               "PQconninfoParse",
                                               "PQconnectdb",
                                               "PQcmdStatus",
                                               NULL};
static void *slots[F_COUNT];
static ib_syslib lib =
    IB_SYSLIB_INIT("libpq.so.5", "the PostgreSQL client library libpq",
                   "libpq5", names, slots);

int ib_pq_load(char *err, size_t errlen) {
  return ib_syslib_load(&lib, err, errlen);
}

/* The resolved function `f`, as a pointer of type T. */
#define FN(f, T) ((T)slots[f])

void PQclear(PGresult *res) {
  if (ib_syslib_loaded(&lib)) FN(F_CLEAR, void (*)(PGresult * res))(res);
}

char *PQgetvalue(const PGresult *res, int tup_num, int field_num) {
  return ib_syslib_loaded(&lib)
             ? FN(F_GETVALUE, char *(*)(const PGresult *res, int tup_num,
                                        int field_num))(res, tup_num, field_num)
             : NULL;
}

ExecStatusType PQresultStatus(const PGresult *res) {
  return ib_syslib_loaded(&lib)
             ? FN(F_RESULT_STATUS, ExecStatusType(*)(const PGresult *res))(res)
             : PGRES_FATAL_ERROR;
}

int PQntuples(const PGresult *res) {
  return ib_syslib_loaded(&lib)
             ? FN(F_NTUPLES, int (*)(const PGresult *res))(res)
             : 0;
}

int PQgetisnull(const PGresult *res, int tup_num, int field_num) {
  return ib_syslib_loaded(&lib)
             ? FN(F_GETISNULL, int (*)(const PGresult *res, int tup_num,
                                       int field_num))(res, tup_num, field_num)
             : 1;
}

PGresult *PQexec(PGconn *conn, const char *query) {
  return ib_syslib_loaded(&lib)
             ? FN(F_EXEC, PGresult * (*)(PGconn * conn, const char *query))(
                   conn, query)
             : NULL;
}

void PQfreemem(void *ptr) {
  if (ib_syslib_loaded(&lib)) FN(F_FREEMEM, void (*)(void *ptr))(ptr);
}

char *PQerrorMessage(const PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_ERROR_MESSAGE, char *(*)(const PGconn *conn))(conn)
             : (char *)"libpq is not loaded\n"; /* never NULL, as libpq's */
}

PGresult *PQgetResult(PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_GET_RESULT, PGresult * (*)(PGconn * conn))(conn)
             : NULL;
}

void PQfinish(PGconn *conn) {
  if (ib_syslib_loaded(&lib)) FN(F_FINISH, void (*)(PGconn * conn))(conn);
}

ConnStatusType PQstatus(const PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_STATUS, ConnStatusType(*)(const PGconn *conn))(conn)
             : CONNECTION_BAD;
}

char *PQresultErrorField(const PGresult *res, int fieldcode) {
  return ib_syslib_loaded(&lib)
             ? FN(F_RESULT_ERROR_FIELD,
                  char *(*)(const PGresult *res, int fieldcode))(res, fieldcode)
             : NULL;
}

PGresult *PQexecParams(PGconn *conn, const char *command, int nParams,
                       const Oid *paramTypes, const char *const *paramValues,
                       const int *paramLengths, const int *paramFormats,
                       int resultFormat) {
  return ib_syslib_loaded(&lib)
             ? FN(F_EXEC_PARAMS,
                  PGresult *
                      (*)(PGconn * conn, const char *command, int nParams,
                          const Oid *paramTypes, const char *const *paramValues,
                          const int *paramLengths, const int *paramFormats,
                          int resultFormat))(conn, command, nParams, paramTypes,
                                             paramValues, paramLengths,
                                             paramFormats, resultFormat)
             : NULL;
}

PGTransactionStatusType PQtransactionStatus(const PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_TRANSACTION_STATUS,
                  PGTransactionStatusType(*)(const PGconn *conn))(conn)
             : PQTRANS_UNKNOWN;
}

int PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams,
                        const char *const *paramValues, const int *paramLengths,
                        const int *paramFormats, int resultFormat) {
  return ib_syslib_loaded(&lib)
             ? FN(F_SEND_QUERY_PREPARED,
                  int (*)(PGconn * conn, const char *stmtName, int nParams,
                          const char *const *paramValues,
                          const int *paramLengths, const int *paramFormats,
                          int resultFormat))(conn, stmtName, nParams,
                                             paramValues, paramLengths,
                                             paramFormats, resultFormat)
             : 0;
}

int PQpipelineSync(PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_PIPELINE_SYNC, int (*)(PGconn * conn))(conn)
             : 0;
}

int PQexitPipelineMode(PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_EXIT_PIPELINE_MODE, int (*)(PGconn * conn))(conn)
             : 0;
}

char *PQescapeIdentifier(PGconn *conn, const char *str, size_t len) {
  return ib_syslib_loaded(&lib)
             ? FN(F_ESCAPE_IDENTIFIER, char *(*)(PGconn * conn, const char *str,
                                                 size_t len))(conn, str, len)
             : NULL;
}

int PQenterPipelineMode(PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_ENTER_PIPELINE_MODE, int (*)(PGconn * conn))(conn)
             : 0;
}

void PQconninfoFree(PQconninfoOption *connOptions) {
  if (ib_syslib_loaded(&lib))
    FN(F_CONNINFO_FREE, void (*)(PQconninfoOption * connOptions))(connOptions);
}

PGconn *PQconnectdbParams(const char *const *keywords,
                          const char *const *values, int expand_dbname) {
  return ib_syslib_ready(&lib)
             ? FN(F_CONNECTDB_PARAMS,
                  PGconn * (*)(const char *const *keywords,
                               const char *const *values, int expand_dbname))(
                   keywords, values, expand_dbname)
             : NULL;
}

int PQsetSingleRowMode(PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_SET_SINGLE_ROW_MODE, int (*)(PGconn * conn))(conn)
             : 0;
}

int PQsendPrepare(PGconn *conn, const char *stmtName, const char *query,
                  int nParams, const Oid *paramTypes) {
  return ib_syslib_loaded(&lib)
             ? FN(F_SEND_PREPARE, int (*)(PGconn * conn, const char *stmtName,
                                          const char *query, int nParams,
                                          const Oid *paramTypes))(
                   conn, stmtName, query, nParams, paramTypes)
             : 0;
}

int PQputCopyEnd(PGconn *conn, const char *errormsg) {
  return ib_syslib_loaded(&lib)
             ? FN(F_PUT_COPY_END, int (*)(PGconn * conn, const char *errormsg))(
                   conn, errormsg)
             : -1;
}

int PQputCopyData(PGconn *conn, const char *buffer, int nbytes) {
  return ib_syslib_loaded(&lib)
             ? FN(F_PUT_COPY_DATA, int (*)(PGconn * conn, const char *buffer,
                                           int nbytes))(conn, buffer, nbytes)
             : -1;
}

PGresult *PQprepare(PGconn *conn, const char *stmtName, const char *query,
                    int nParams, const Oid *paramTypes) {
  return ib_syslib_loaded(&lib)
             ? FN(F_PREPARE, PGresult * (*)(PGconn * conn, const char *stmtName,
                                            const char *query, int nParams,
                                            const Oid *paramTypes))(
                   conn, stmtName, query, nParams, paramTypes)
             : NULL;
}

char *PQport(const PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_PORT, char *(*)(const PGconn *conn))(conn)
             : NULL;
}

char *PQhost(const PGconn *conn) {
  return ib_syslib_loaded(&lib)
             ? FN(F_HOST, char *(*)(const PGconn *conn))(conn)
             : NULL;
}

int PQgetlength(const PGresult *res, int tup_num, int field_num) {
  return ib_syslib_loaded(&lib)
             ? FN(F_GETLENGTH, int (*)(const PGresult *res, int tup_num,
                                       int field_num))(res, tup_num, field_num)
             : 0;
}

int PQgetCopyData(PGconn *conn, char **buffer, int async) {
  return ib_syslib_loaded(&lib)
             ? FN(F_GET_COPY_DATA, int (*)(PGconn * conn, char **buffer,
                                           int async))(conn, buffer, async)
             : -2;
}

PGresult *PQexecPrepared(PGconn *conn, const char *stmtName, int nParams,
                         const char *const *paramValues,
                         const int *paramLengths, const int *paramFormats,
                         int resultFormat) {
  return ib_syslib_loaded(&lib)
             ? FN(F_EXEC_PREPARED,
                  PGresult * (*)(PGconn * conn, const char *stmtName,
                                 int nParams, const char *const *paramValues,
                                 const int *paramLengths,
                                 const int *paramFormats, int resultFormat))(
                   conn, stmtName, nParams, paramValues, paramLengths,
                   paramFormats, resultFormat)
             : NULL;
}

char *PQdb(const PGconn *conn) {
  return ib_syslib_loaded(&lib) ? FN(F_DB, char *(*)(const PGconn *conn))(conn)
                                : NULL;
}

PQconninfoOption *PQconninfoParse(const char *conninfo, char **errmsg) {
  return ib_syslib_ready(&lib)
             ? FN(F_CONNINFO_PARSE,
                  PQconninfoOption * (*)(const char *conninfo, char **errmsg))(
                   conninfo, errmsg)
             : NULL;
}

PGconn *PQconnectdb(const char *conninfo) {
  return ib_syslib_ready(&lib)
             ? FN(F_CONNECTDB, PGconn * (*)(const char *conninfo))(conninfo)
             : NULL;
}

char *PQcmdStatus(PGresult *res) {
  return ib_syslib_loaded(&lib)
             ? FN(F_CMD_STATUS, char *(*)(PGresult * res))(res)
             : NULL;
}
