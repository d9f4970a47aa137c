/*
 * safetensors reader and writer.
 *
 * The reader trusts nothing in the file: the header length, the JSON, every
 * dtype, shape and offset are checked before a pointer into the data section
 * is handed out, so a consumer may read nbytes from pf_st_tensor.data without
 * further checks. Tensor pointers are aligned to their element size: files
 * whose tensors are not (old writers did not pad the header) get those
 * tensors copied, so that readers may cast data to float * and friends.
 */
#include "pf_safetensors.h"

#include "pf_mapfile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>

/* The reference implementation refuses headers above 100 MB; a larger length is
 * corruption, not a real model (the largest sharded checkpoints have ~1 MB). */
#define PF_ST_MAX_HEADER ((uint64_t)100 << 20)

typedef struct {
    const char *name;
    int idx;
} st_name_ix;

struct pf_st_file {
    char *label;
    pf_mapfile map;      /* when opened from a path */
    const uint8_t *base; /* the whole file */
    size_t size;
    pf_st_tensor *t;
    int n;
    st_name_ix *by_name; /* names sorted, for pf_st_find */
    void **copies;       /* aligned copies of misaligned tensors (n entries, mostly NULL) */
    char **meta_keys, **meta_values;
    int n_meta;
};

/* ---- dtypes ---- */

static const struct {
    const char *name;
    pf_dtype dt; /* PF_DTYPE_COUNT: a safetensors dtype pflow has no use for */
} st_dtypes[] = {
    {"F64", PF_F64},
    {"F32", PF_F32},
    {"F16", PF_F16},
    {"BF16", PF_BF16},
    {"I64", PF_I64},
    {"I32", PF_I32},
    {"U8", PF_U8},
    {"BOOL", PF_BOOL},
    {"I16", PF_DTYPE_COUNT},
    {"I8", PF_DTYPE_COUNT},
    {"U16", PF_DTYPE_COUNT},
    {"U32", PF_DTYPE_COUNT},
    {"U64", PF_DTYPE_COUNT},
    {"F8_E4M3", PF_DTYPE_COUNT},
    {"F8_E5M2", PF_DTYPE_COUNT},
};

static const char *st_dtype_name(pf_dtype dt) {
    for (size_t i = 0; i < PF_ARRAY_LEN(st_dtypes); i++)
        if (st_dtypes[i].dt == dt) return st_dtypes[i].name;
    return NULL;
}

/* ---- reading ---- */

void pf_st_close(pf_st_file *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) {
        free((char *)f->t[i].name);
        if (f->copies) pf_aligned_free(f->copies[i]);
    }
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->t);
    free(f->by_name);
    free(f->copies);
    free(f->meta_keys);
    free(f->meta_values);
    pf_mapfile_close(&f->map);
    free(f->label);
    free(f);
}

/* A JSON number that is a non-negative integer no larger than max. */
static bool json_uint(const cJSON *v, double max, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d != floor(d) || d > max) return false;
    *out = (uint64_t)d;
    return true;
}

static int cmp_by_name(const void *a, const void *b) {
    return strcmp(((const st_name_ix *)a)->name, ((const st_name_ix *)b)->name);
}

typedef struct {
    uint64_t begin, end;
    int idx;
} st_span;

static int cmp_span(const void *a, const void *b) {
    const st_span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

static pf_status parse_metadata(pf_st_file *f, const cJSON *m) {
    if (!cJSON_IsObject(m)) return pf_error(PF_ERR_FORMAT, "%s: __metadata__ is not an object", f->label);
    int n = cJSON_GetArraySize(m);
    f->meta_keys = pf_calloc((size_t)n, sizeof(char *), "safetensors metadata");
    f->meta_values = pf_calloc((size_t)n, sizeof(char *), "safetensors metadata");
    if (!f->meta_keys || !f->meta_values) return PF_ERR_OOM;
    for (const cJSON *e = m->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return pf_error(PF_ERR_FORMAT, "%s: __metadata__ value of '%s' is not a string", f->label, e->string);
        f->meta_keys[f->n_meta] = pf_strdup(e->string);
        f->meta_values[f->n_meta] = pf_strdup(e->valuestring);
        if (!f->meta_keys[f->n_meta] || !f->meta_values[f->n_meta]) return PF_ERR_OOM;
        f->n_meta++;
    }
    return PF_OK;
}

/* One tensor entry: dtype, shape, data_offsets, all checked against the data section. */
static pf_status parse_entry(pf_st_file *f, const cJSON *e, const uint8_t *data, size_t data_size, st_span *span) {
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': entry is not an object", f->label, name);
    pf_st_tensor *t = &f->t[f->n];
    t->name = pf_strdup(name);
    if (!t->name) return PF_ERR_OOM;
    f->n++; /* owned from here on, freed by pf_st_close */

    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(dt))
        return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': missing or non-string dtype", f->label, name);
    size_t k = 0;
    while (k < PF_ARRAY_LEN(st_dtypes) && strcmp(st_dtypes[k].name, dt->valuestring)) k++;
    if (k == PF_ARRAY_LEN(st_dtypes))
        return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", f->label, name, dt->valuestring);
    if (st_dtypes[k].dt == PF_DTYPE_COUNT)
        return pf_error(PF_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s is not supported by pflow", f->label, name,
                        st_dtypes[k].name);
    t->dtype = st_dtypes[k].dt;

    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    if (!cJSON_IsArray(sh))
        return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': missing or non-array shape", f->label, name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > PF_ST_MAX_DIMS)
        return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': %d dims, at most %d supported", f->label, name, nd,
                        PF_ST_MAX_DIMS);
    t->ndim = 0;
    uint64_t nelem = 1;
    bool zero = false, overflow = false;
    for (const cJSON *d = sh->child; d; d = d->next) {
        uint64_t v;
        /* 2^53: beyond it a JSON number is no longer an exact integer */
        if (!json_uint(d, 9007199254740992.0, &v))
            return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': shape entry %d is not a non-negative integer", f->label,
                            name, t->ndim);
        t->shape[t->ndim++] = (int64_t)v;
        if (v == 0)
            zero = true;
        else if (nelem > INT64_MAX / v)
            overflow = true;
        else
            nelem *= v;
    }
    if (zero)
        nelem = 0;
    else if (overflow)
        return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': shape has too many elements", f->label, name);

    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2)
        return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': data_offsets is not an array [begin, end]", f->label, name);
    uint64_t b, en;
    if (!json_uint(off->child, 1.8e19, &b) || !json_uint(off->child->next, 1.8e19, &en))
        return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': data_offsets are not non-negative integers", f->label, name);
    if (b > en)
        return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] end before they begin",
                        f->label, name, b, en);
    if (en > data_size)
        return pf_error(PF_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] run past the end of the data "
                        "(%zu bytes; truncated file?)",
                        f->label, name, b, en, data_size);
    size_t esize = pf_dtype_size(t->dtype);
    if (nelem > (uint64_t)SIZE_MAX / esize || nelem * esize != en - b) {
        char shp[128];
        size_t o = 0;
        shp[0] = '\0';
        for (int i = 0; i < t->ndim && o < sizeof shp; i++)
            o += (size_t)snprintf(shp + o, sizeof shp - o, "%s%" PRId64, i ? ", " : "", t->shape[i]);
        return pf_error(PF_ERR_FORMAT,
                        "%s: tensor '%s': %s [%s] needs %" PRIu64 " elements but data_offsets hold %" PRIu64 " bytes",
                        f->label, name, dt->valuestring, shp, nelem, en - b);
    }
    t->nbytes = (size_t)(en - b);
    t->data = data + b;
    span->begin = b;
    span->end = en;
    span->idx = f->n - 1;
    if (t->nbytes && (uintptr_t)t->data % esize) {
        f->copies[f->n - 1] = pf_aligned_alloc(t->nbytes, name);
        if (!f->copies[f->n - 1]) return PF_ERR_OOM;
        memcpy(f->copies[f->n - 1], t->data, t->nbytes);
        t->data = f->copies[f->n - 1];
    }
    return PF_OK;
}

static pf_status parse_file(pf_st_file *f) {
    if (f->size < 8)
        return pf_error(PF_ERR_FORMAT, "%s: truncated: %zu bytes, too short for the 8-byte header length", f->label,
                        f->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | f->base[i]; /* little-endian on any host */
    if (hlen > PF_ST_MAX_HEADER)
        return pf_error(PF_ERR_FORMAT,
                        "%s: header length %" PRIu64 " is absurd (limit %" PRIu64 "; not a safetensors file?)",
                        f->label, hlen, PF_ST_MAX_HEADER);
    if (hlen > f->size - 8)
        return pf_error(PF_ERR_FORMAT,
                        "%s: header length %" PRIu64 " runs past the end of the file (%zu bytes; truncated?)", f->label,
                        hlen, f->size);
    if (hlen < 2)
        return pf_error(PF_ERR_FORMAT, "%s: header of %" PRIu64 " bytes is not a JSON object", f->label, hlen);
    /* cJSON parses a NUL-terminated copy, so it cannot read past the header whatever it holds. */
    char *hdr = pf_malloc((size_t)hlen + 1, f->label);
    if (!hdr) return PF_ERR_OOM;
    memcpy(hdr, f->base + 8, (size_t)hlen);
    hdr[hlen] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &end, false);
    size_t at = end && end >= hdr && end <= hdr + hlen ? (size_t)(end - hdr) : 0;
    free(hdr);
    if (!root)
        return pf_error(PF_ERR_FORMAT, "%s: header is not valid JSON (error near byte %zu of %" PRIu64 ")", f->label,
                        at, hlen);
    pf_status rc = PF_OK;
    /* Writers pad the header with spaces to keep the data 8-byte aligned; anything else is junk. */
    for (size_t i = at; i < hlen; i++) {
        uint8_t c = f->base[8 + i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            rc = pf_error(PF_ERR_FORMAT, "%s: unexpected bytes after the header JSON (at byte %zu)", f->label, i);
            goto done;
        }
    }
    if (!cJSON_IsObject(root)) {
        rc = pf_error(PF_ERR_FORMAT, "%s: header is not a JSON object", f->label);
        goto done;
    }
    const uint8_t *data = f->base + 8 + hlen;
    size_t data_size = f->size - 8 - (size_t)hlen;
    int n_entries = cJSON_GetArraySize(root);
    f->t = pf_calloc((size_t)n_entries, sizeof *f->t, "safetensors index");
    f->copies = pf_calloc((size_t)n_entries, sizeof *f->copies, "safetensors index");
    st_span *spans = pf_calloc((size_t)n_entries, sizeof *spans, "safetensors index");
    f->by_name = pf_calloc((size_t)n_entries, sizeof *f->by_name, "safetensors index");
    if (!f->t || !f->copies || !spans || !f->by_name) {
        free(spans);
        rc = PF_ERR_OOM;
        goto done;
    }
    int n_spans = 0;
    bool have_meta = false;
    for (const cJSON *e = root->child; e && rc == PF_OK; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            if (have_meta)
                rc = pf_error(PF_ERR_FORMAT, "%s: __metadata__ appears twice", f->label);
            else
                rc = parse_metadata(f, e);
            have_meta = true;
            continue;
        }
        rc = parse_entry(f, e, data, data_size, &spans[n_spans]);
        if (rc == PF_OK) n_spans++;
    }
    if (rc == PF_OK) {
        /* Two tensors sharing bytes would alias each other: a corrupt or hostile file. */
        qsort(spans, (size_t)n_spans, sizeof *spans, cmp_span);
        uint64_t prev_end = 0;
        int prev = -1;
        for (int i = 0; i < n_spans && rc == PF_OK; i++) {
            if (spans[i].begin == spans[i].end) continue;
            if (prev >= 0 && spans[i].begin < prev_end)
                rc = pf_error(PF_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the data section", f->label,
                              f->t[prev].name, f->t[spans[i].idx].name);
            prev_end = spans[i].end;
            prev = spans[i].idx;
        }
    }
    free(spans);
    if (rc == PF_OK) {
        for (int i = 0; i < f->n; i++) f->by_name[i] = (st_name_ix){f->t[i].name, i};
        qsort(f->by_name, (size_t)f->n, sizeof *f->by_name, cmp_by_name);
        for (int i = 1; i < f->n && rc == PF_OK; i++)
            if (!strcmp(f->by_name[i].name, f->by_name[i - 1].name))
                rc = pf_error(PF_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", f->label,
                              f->by_name[i].name);
    }
done:
    cJSON_Delete(root);
    return rc;
}

static pf_status st_new(const char *label, pf_st_file **out) {
    pf_st_file *f = pf_calloc(1, sizeof *f, "safetensors file");
    if (!f) return PF_ERR_OOM;
    f->label = pf_strdup(label ? label : "(memory)");
    if (!f->label) {
        free(f);
        return PF_ERR_OOM;
    }
    *out = f;
    return PF_OK;
}

pf_status pf_st_open_memory(const void *data, size_t size, const char *label, pf_st_file **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_st_open_memory: NULL out");
    *out = NULL;
    if (!data && size) return pf_error(PF_ERR_INVALID_ARG, "pf_st_open_memory: NULL data");
    pf_st_file *f;
    PF_TRY(st_new(label, &f));
    f->base = data;
    f->size = size;
    pf_status rc = parse_file(f);
    if (rc != PF_OK) {
        pf_st_close(f);
        return rc;
    }
    *out = f;
    return PF_OK;
}

pf_status pf_st_open(const char *path, pf_st_file **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_st_open: NULL out");
    *out = NULL;
    if (!path) return pf_error(PF_ERR_INVALID_ARG, "pf_st_open: NULL path");
    pf_st_file *f;
    PF_TRY(st_new(path, &f));
    pf_status rc = pf_mapfile_open(path, &f->map);
    if (rc == PF_OK) {
        f->base = f->map.data;
        f->size = f->map.size;
        rc = parse_file(f);
    }
    if (rc != PF_OK) {
        pf_st_close(f);
        return rc;
    }
    *out = f;
    return PF_OK;
}

const char *pf_st_path(const pf_st_file *f) { return f->label; }
int pf_st_count(const pf_st_file *f) { return f->n; }
const pf_st_tensor *pf_st_at(const pf_st_file *f, int i) { return i >= 0 && i < f->n ? &f->t[i] : NULL; }

const pf_st_tensor *pf_st_find(const pf_st_file *f, const char *name) {
    if (!name) return NULL;
    int lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(f->by_name[mid].name, name);
        if (c == 0) return &f->t[f->by_name[mid].idx];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

const char *pf_st_metadata(const pf_st_file *f, const char *key) {
    if (!key) return NULL;
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_keys[i], key)) return f->meta_values[i];
    return NULL;
}

/* ---- writing ---- */

typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} st_buf;

static void buf_put(st_buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void buf_str(st_buf *b, const char *s) { buf_put(b, s, strlen(s)); }

static void PF_PRINTF(2, 3) buf_fmt(st_buf *b, const char *fmt, ...) {
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) buf_put(b, tmp, (size_t)PF_MIN((size_t)n, sizeof tmp - 1));
}

/* A JSON string literal: quotes, backslashes and control characters escaped; other bytes as is (UTF-8). */
static void buf_json_str(st_buf *b, const char *s) {
    buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            buf_put(b, e, 2);
        } else if (*p < 0x20) {
            buf_fmt(b, "\\u%04x", *p);
        } else {
            buf_put(b, (const char *)p, 1);
        }
    }
    buf_put(b, "\"", 1);
}

pf_status pf_st_write(const char *path, const pf_st_write_tensor *tensors, int n, const char *const *meta_keys,
                      const char *const *meta_values, int n_meta) {
    if (!path) return pf_error(PF_ERR_INVALID_ARG, "pf_st_write: NULL path");
    if (n < 0 || (n > 0 && !tensors) || n_meta < 0 || (n_meta > 0 && (!meta_keys || !meta_values)))
        return pf_error(PF_ERR_INVALID_ARG, "%s: pf_st_write: bad tensor or metadata list", path);
    size_t *nbytes = pf_calloc((size_t)n, sizeof *nbytes, "safetensors writer");
    if (!nbytes) return PF_ERR_OOM;
    pf_status rc = PF_OK;
    /* Validate everything before touching the file. */
    for (int i = 0; i < n && rc == PF_OK; i++) {
        const pf_st_write_tensor *t = &tensors[i];
        const char *nm = t->name ? t->name : "(null)";
        if (!t->name || !strcmp(t->name, "__metadata__"))
            rc = pf_error(PF_ERR_INVALID_ARG, "%s: tensor %d: invalid name '%s'", path, i, nm);
        else if ((unsigned)t->dtype >= PF_DTYPE_COUNT || !st_dtype_name(t->dtype))
            rc = pf_error(PF_ERR_INVALID_ARG, "%s: tensor '%s': invalid dtype %d", path, nm, (int)t->dtype);
        else if (t->ndim < 0 || t->ndim > PF_ST_MAX_DIMS || (t->ndim > 0 && !t->shape))
            rc = pf_error(PF_ERR_INVALID_ARG, "%s: tensor '%s': invalid number of dims %d", path, nm, t->ndim);
        if (rc != PF_OK) break;
        uint64_t ne = 1;
        for (int d = 0; d < t->ndim && rc == PF_OK; d++) {
            if (t->shape[d] < 0)
                rc = pf_error(PF_ERR_INVALID_ARG, "%s: tensor '%s': negative dim", path, nm);
            else if (t->shape[d] && ne > (uint64_t)(INT64_MAX / 8) / (uint64_t)t->shape[d])
                rc = pf_error(PF_ERR_INVALID_ARG, "%s: tensor '%s': too many elements", path, nm);
            else
                ne *= (uint64_t)t->shape[d];
        }
        if (rc != PF_OK) break;
        nbytes[i] = (size_t)ne * pf_dtype_size(t->dtype);
        if (nbytes[i] && !t->data) rc = pf_error(PF_ERR_INVALID_ARG, "%s: tensor '%s': NULL data", path, nm);
        for (int j = 0; j < i && rc == PF_OK; j++)
            if (!strcmp(tensors[j].name, t->name))
                rc = pf_error(PF_ERR_INVALID_ARG, "%s: tensor '%s' given twice", path, nm);
    }
    for (int i = 0; i < n_meta && rc == PF_OK; i++)
        if (!meta_keys[i] || !meta_values[i])
            rc = pf_error(PF_ERR_INVALID_ARG, "%s: metadata entry %d is NULL", path, i);
    if (rc != PF_OK) {
        free(nbytes);
        return rc;
    }

    st_buf h = {0};
    buf_str(&h, "{");
    if (n_meta > 0) {
        buf_str(&h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) buf_str(&h, ",");
            buf_json_str(&h, meta_keys[i]);
            buf_str(&h, ":");
            buf_json_str(&h, meta_values[i]);
        }
        buf_str(&h, "}");
    }
    uint64_t pos = 0;
    for (int i = 0; i < n; i++) {
        const pf_st_write_tensor *t = &tensors[i];
        if (i || n_meta > 0) buf_str(&h, ",");
        buf_json_str(&h, t->name);
        buf_fmt(&h, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) buf_fmt(&h, "%s%" PRId64, d ? "," : "", t->shape[d]);
        pos = PF_ALIGN_UP(pos, 8); /* every tensor starts 8-byte aligned, the gap zero-filled */
        buf_fmt(&h, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", pos, pos + nbytes[i]);
        pos += nbytes[i];
    }
    buf_str(&h, "}");
    while (!h.oom && h.len % 8) buf_str(&h, " "); /* keeps the data section 8-byte aligned */
    if (h.oom) {
        free(h.s);
        free(nbytes);
        return pf_error(PF_ERR_OOM, "%s: out of memory building the header", path);
    }

    FILE *fp = fopen(path, "wb");
    if (!fp) {
        rc = pf_error(PF_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        free(h.s);
        free(nbytes);
        return rc;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    bool ok = fwrite(len8, 1, 8, fp) == 8 && fwrite(h.s, 1, h.len, fp) == h.len;
    static const uint8_t zeros[8] = {0};
    pos = 0;
    for (int i = 0; i < n && ok; i++) {
        uint64_t a = PF_ALIGN_UP(pos, 8);
        if (a > pos) ok = fwrite(zeros, 1, (size_t)(a - pos), fp) == (size_t)(a - pos);
        if (ok && nbytes[i]) ok = fwrite(tensors[i].data, 1, nbytes[i], fp) == nbytes[i];
        pos = a + nbytes[i];
    }
    int err = errno;
    if (fclose(fp) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        remove(path);
        rc = pf_error(PF_ERR_IO, "%s: write failed: %s", path, strerror(err));
    }
    free(h.s);
    free(nbytes);
    return rc;
}
