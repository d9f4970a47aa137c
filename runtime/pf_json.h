/*
 * config.json and other JSON documents, through cJSON. Getters name the file
 * and the key in their errors; "opt" getters return a default when the key is
 * absent (but still fail on a wrong type).
 */
#ifndef PF_JSON_H
#define PF_JSON_H

#include "pf_common.h"

typedef struct pf_json pf_json;      /* a parsed document (owns the tree) */
typedef struct cJSON pf_json_node;   /* a node inside it */

pf_status pf_json_load(const char *path, pf_json **out);
pf_status pf_json_parse(const char *text, size_t len, const char *label, pf_json **out);
void pf_json_free(pf_json *j);
const pf_json_node *pf_json_root(const pf_json *j);
const char *pf_json_label(const pf_json *j);

/* Lookups on the root object (key may be "a.b.c" for nested objects). */
bool pf_json_has(const pf_json *j, const char *key);
pf_status pf_json_int(const pf_json *j, const char *key, int64_t *out);
pf_status pf_json_num(const pf_json *j, const char *key, double *out);
pf_status pf_json_bool(const pf_json *j, const char *key, bool *out);
pf_status pf_json_str(const pf_json *j, const char *key, const char **out); /* owned by j */
/* Integer array into out[0..cap), *n set to its length (error if longer than cap). */
pf_status pf_json_int_array(const pf_json *j, const char *key, int64_t *out, int cap, int *n);
pf_status pf_json_bool_array(const pf_json *j, const char *key, bool *out, int cap, int *n);
pf_status pf_json_str_array(const pf_json *j, const char *key, const char **out, int cap, int *n);

int64_t pf_json_opt_int(const pf_json *j, const char *key, int64_t def, pf_status *rc);
double pf_json_opt_num(const pf_json *j, const char *key, double def, pf_status *rc);
bool pf_json_opt_bool(const pf_json *j, const char *key, bool def, pf_status *rc);
const char *pf_json_opt_str(const pf_json *j, const char *key, const char *def, pf_status *rc);

/* An integer key into *out, checked to lie in [lo, hi] (lo and hi within int). Absent or
 * null: `def`, or PF_ERR_FORMAT "missing key" when `required`. Errors name the file and the key. */
pf_status pf_json_int_in(const pf_json *j, const char *key, bool required, int64_t def, int64_t lo, int64_t hi,
                         int *out);

#endif /* PF_JSON_H */
