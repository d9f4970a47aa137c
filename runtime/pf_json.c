/*
 * JSON documents (config.json, index files) on cJSON. Every getter names the
 * document and the key in its errors, so a wrong config gives
 * "dir/config.json: key 'num_layers' is a string, not an integer".
 */
#include "pf_json.h"

#include <cjson/cJSON.h>
#include <math.h>

struct pf_json {
    cJSON *root;
    char *label;
};

pf_status pf_json_parse(const char *text, size_t len, const char *label, pf_json **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_json_parse: NULL out");
    *out = NULL;
    if (!label) label = "(json)";
    if (!text && len) return pf_error(PF_ERR_INVALID_ARG, "%s: NULL text", label);
    /* cJSON gets a NUL-terminated copy: a parser bug can then never read past our bytes. */
    char *copy = pf_malloc(len + 1, label);
    if (!copy) return PF_ERR_OOM;
    if (len) memcpy(copy, text, len);
    copy[len] = '\0';
    const char *end = NULL;
    cJSON *root = len ? cJSON_ParseWithLengthOpts(copy, len, &end, false) : NULL;
    size_t at = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : 0;
    free(copy);
    if (!root) {
        /* Give a line and column: config files are edited by hand. */
        if (at > len) at = len;
        int line = 1, col = 1;
        for (size_t i = 0; i < at; i++) {
            if (text[i] == '\n')
                line++, col = 1;
            else
                col++;
        }
        return pf_error(PF_ERR_FORMAT, "%s: invalid JSON at line %d, column %d", label, line, col);
    }
    /* Only whitespace may follow the document. */
    for (size_t i = at; i < len; i++) {
        char c = text[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\0') {
            cJSON_Delete(root);
            return pf_error(PF_ERR_FORMAT, "%s: unexpected text after the JSON document (byte %zu)", label, i);
        }
    }
    pf_json *j = pf_calloc(1, sizeof *j, "json");
    if (!j || !(j->label = pf_strdup(label))) {
        free(j);
        cJSON_Delete(root);
        return PF_ERR_OOM;
    }
    j->root = root;
    *out = j;
    return PF_OK;
}

pf_status pf_json_load(const char *path, pf_json **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_json_load: NULL out");
    *out = NULL;
    if (!path) return pf_error(PF_ERR_INVALID_ARG, "pf_json_load: NULL path");
    char *text;
    size_t len;
    PF_TRY(pf_read_file(path, &text, &len));
    pf_status rc = pf_json_parse(text, len, path, out);
    free(text);
    return rc;
}

void pf_json_free(pf_json *j) {
    if (!j) return;
    cJSON_Delete(j->root);
    free(j->label);
    free(j);
}

const pf_json_node *pf_json_root(const pf_json *j) { return j ? j->root : NULL; }
const char *pf_json_label(const pf_json *j) { return j ? j->label : "(null)"; }

/* The node at a dotted path, or NULL when a component is absent (or a parent is not an object).
 * A root key that itself contains dots is found first. */
static const cJSON *lookup(const pf_json *j, const char *key) {
    if (!j || !key) return NULL;
    const cJSON *n = j->root;
    if (cJSON_IsObject(n)) {
        const cJSON *whole = cJSON_GetObjectItemCaseSensitive(n, key);
        if (whole) return whole;
    }
    char part[256];
    while (n) {
        const char *dot = strchr(key, '.');
        size_t len = dot ? (size_t)(dot - key) : strlen(key);
        if (len >= sizeof part || !cJSON_IsObject(n)) return NULL;
        memcpy(part, key, len);
        part[len] = '\0';
        n = cJSON_GetObjectItemCaseSensitive(n, part);
        if (!dot) return n;
        key = dot + 1;
    }
    return NULL;
}

static const char *type_name(const cJSON *n) {
    if (cJSON_IsNull(n)) return "null";
    if (cJSON_IsBool(n)) return "a boolean";
    if (cJSON_IsNumber(n)) return "a number";
    if (cJSON_IsString(n)) return "a string";
    if (cJSON_IsArray(n)) return "an array";
    if (cJSON_IsObject(n)) return "an object";
    return "invalid";
}

static pf_status missing(const pf_json *j, const char *key) {
    return pf_error(PF_ERR_NOT_FOUND, "%s: key '%s' is missing", pf_json_label(j), key ? key : "(null)");
}

static pf_status wrong(const pf_json *j, const char *key, const cJSON *n, const char *want) {
    return pf_error(PF_ERR_FORMAT, "%s: key '%s' is %s, not %s", pf_json_label(j), key, type_name(n), want);
}

/* An integer-valued number that fits in int64 (2^63 itself is out: it rounds up from INT64_MAX). */
static bool node_int(const cJSON *n, int64_t *out) {
    if (!cJSON_IsNumber(n)) return false;
    double d = n->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
    *out = (int64_t)d;
    return true;
}

bool pf_json_has(const pf_json *j, const char *key) { return lookup(j, key) != NULL; }

static pf_status get_int(const pf_json *j, const char *key, const cJSON *n, int64_t *out) {
    if (!node_int(n, out)) return wrong(j, key, n, "an integer");
    return PF_OK;
}

pf_status pf_json_int(const pf_json *j, const char *key, int64_t *out) {
    const cJSON *n = lookup(j, key);
    if (!n) return missing(j, key);
    return get_int(j, key, n, out);
}

pf_status pf_json_num(const pf_json *j, const char *key, double *out) {
    const cJSON *n = lookup(j, key);
    if (!n) return missing(j, key);
    if (!cJSON_IsNumber(n)) return wrong(j, key, n, "a number");
    *out = n->valuedouble;
    return PF_OK;
}

pf_status pf_json_bool(const pf_json *j, const char *key, bool *out) {
    const cJSON *n = lookup(j, key);
    if (!n) return missing(j, key);
    if (!cJSON_IsBool(n)) return wrong(j, key, n, "a boolean");
    *out = cJSON_IsTrue(n);
    return PF_OK;
}

pf_status pf_json_str(const pf_json *j, const char *key, const char **out) {
    const cJSON *n = lookup(j, key);
    if (!n) return missing(j, key);
    if (!cJSON_IsString(n)) return wrong(j, key, n, "a string");
    *out = n->valuestring;
    return PF_OK;
}

/* Shared by the array getters: the array node, its length checked against cap. */
static pf_status get_array(const pf_json *j, const char *key, int cap, int *n, const cJSON **arr) {
    const cJSON *a = lookup(j, key);
    if (!a) return missing(j, key);
    if (!cJSON_IsArray(a)) return wrong(j, key, a, "an array");
    int len = cJSON_GetArraySize(a);
    if (len > cap)
        return pf_error(PF_ERR_FORMAT, "%s: key '%s' has %d entries, at most %d expected", pf_json_label(j), key, len,
                        cap);
    *arr = a;
    if (n) *n = len;
    return PF_OK;
}

static pf_status bad_entry(const pf_json *j, const char *key, int i, const cJSON *e, const char *want) {
    return pf_error(PF_ERR_FORMAT, "%s: key '%s': entry %d is %s, not %s", pf_json_label(j), key, i, type_name(e),
                    want);
}

pf_status pf_json_int_array(const pf_json *j, const char *key, int64_t *out, int cap, int *n) {
    const cJSON *a;
    PF_TRY(get_array(j, key, cap, n, &a));
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++)
        if (!node_int(e, &out[i])) return bad_entry(j, key, i, e, "an integer");
    return PF_OK;
}

pf_status pf_json_bool_array(const pf_json *j, const char *key, bool *out, int cap, int *n) {
    const cJSON *a;
    PF_TRY(get_array(j, key, cap, n, &a));
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsBool(e)) return bad_entry(j, key, i, e, "a boolean");
        out[i] = cJSON_IsTrue(e);
    }
    return PF_OK;
}

pf_status pf_json_str_array(const pf_json *j, const char *key, const char **out, int cap, int *n) {
    const cJSON *a;
    PF_TRY(get_array(j, key, cap, n, &a));
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e)) return bad_entry(j, key, i, e, "a string");
        out[i] = e->valuestring;
    }
    return PF_OK;
}

/* Optional getters: a missing key (or an explicit null, as configs write for "not set") gives the
 * default; a present key of the wrong type is an error recorded in *rc (the first one is kept). */
static bool opt_first(const pf_status *rc) { return rc && *rc == PF_OK; }

int64_t pf_json_opt_int(const pf_json *j, const char *key, int64_t def, pf_status *rc) {
    const cJSON *n = lookup(j, key);
    int64_t v;
    if (!n || cJSON_IsNull(n)) return def;
    if (!node_int(n, &v)) {
        if (opt_first(rc)) *rc = wrong(j, key, n, "an integer");
        return def;
    }
    return v;
}

pf_status pf_json_int_in(const pf_json *j, const char *key, bool required, int64_t def, int64_t lo, int64_t hi,
                         int *out) {
    const cJSON *n = lookup(j, key);
    int64_t v = def;
    if (n && !cJSON_IsNull(n)) PF_TRY(get_int(j, key, n, &v));
    else if (required) return pf_error(PF_ERR_FORMAT, "%s: missing key \"%s\"", pf_json_label(j), key);
    if (v < lo || v > hi)
        return pf_error(PF_ERR_FORMAT, "%s: \"%s\" is %lld, expected %lld..%lld", pf_json_label(j), key, (long long)v,
                        (long long)lo, (long long)hi);
    *out = (int)v;
    return PF_OK;
}

double pf_json_opt_num(const pf_json *j, const char *key, double def, pf_status *rc) {
    const cJSON *n = lookup(j, key);
    if (!n || cJSON_IsNull(n)) return def;
    if (!cJSON_IsNumber(n)) {
        if (opt_first(rc)) *rc = wrong(j, key, n, "a number");
        return def;
    }
    return n->valuedouble;
}

bool pf_json_opt_bool(const pf_json *j, const char *key, bool def, pf_status *rc) {
    const cJSON *n = lookup(j, key);
    if (!n || cJSON_IsNull(n)) return def;
    if (!cJSON_IsBool(n)) {
        if (opt_first(rc)) *rc = wrong(j, key, n, "a boolean");
        return def;
    }
    return cJSON_IsTrue(n);
}

const char *pf_json_opt_str(const pf_json *j, const char *key, const char *def, pf_status *rc) {
    const cJSON *n = lookup(j, key);
    if (!n || cJSON_IsNull(n)) return def;
    if (!cJSON_IsString(n)) {
        if (opt_first(rc)) *rc = wrong(j, key, n, "a string");
        return def;
    }
    return n->valuestring;
}
