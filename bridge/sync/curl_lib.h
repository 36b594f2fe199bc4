/*
 * curl_lib.h -- libcurl, opened on first use (curl_lib.c). Include this
 * instead of <curl/curl.h>: the API is libcurl's own.
 */
#ifndef IB_CURL_LIB_H
#define IB_CURL_LIB_H

#include <curl/curl.h>
#include <stddef.h>

#include "syslib.h"

/* Loads libcurl now: 0, or -1 with one line in err (which library, why,
 * which package to install). Every curl_* function loads it too, and
 * returns libcurl's failure value when it cannot. */
int ib_curl_load(char *err, size_t errlen);

#endif /* IB_CURL_LIB_H */
