/*
 * export_yaml.h -- quoting for the YAML exports (prometheus-rules, openslo):
 * YAML double-quoted scalars, PromQL label matchers and Go text/template
 * literals, so that a configuration string (an SLA or service name) can
 * never break out of its place in the file. Knows nothing of any format's
 * structure and must not allocate.
 */
#ifndef IB_EXPORT_YAML_H
#define IB_EXPORT_YAML_H

#include <stdio.h>

/* Writes s as one YAML double-quoted scalar ("..."), escaping quotes,
 * backslashes, control characters and YAML's extra line breaks (NEL,
 * U+2028, U+2029); bytes of invalid UTF-8 are written as \xNN. */
void ib_yaml_put_string(FILE *out, const char *s);

/* Writes s as a PromQL double-quoted string literal ("..."). */
void ib_promql_put_string(FILE *out, const char *s);

/* Writes s so that Prometheus' Go templating of alert labels and
 * annotations yields s itself: as is when it holds no "{{", else as one
 * {{ "..." }} action. */
void ib_gotmpl_put_text(FILE *out, const char *s);

#endif /* IB_EXPORT_YAML_H */
