/*
 * The weight store: one name -> tensor table over the files of a model
 * component (one safetensors file, shards listed by an index, or a torch
 * zip), and the loader models use to place tensors on a backend.
 */
#include "pf_weights.h"

#include "pf_json.h"
#include "pf_torchzip.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <inttypes.h>

typedef struct {
    char *path;
    pf_st_file *st; /* exactly one of st / tz */
    pf_torchzip *tz;
} w_file;

typedef struct {
    const char *name;
    int idx;
} w_name_ix;

struct pf_weights {
    char *source;
    w_file *files;
    int n_files;
    pf_weight_info *info;
    const pf_st_tensor **src; /* parallel to info */
    int n, cap;
    w_name_ix *by_name;
};

/* ---- opening ---- */

void pf_weights_close(pf_weights *w) {
    if (!w) return;
    for (int i = 0; i < w->n_files; i++) {
        pf_st_close(w->files[i].st);
        pf_tz_close(w->files[i].tz);
        free(w->files[i].path);
    }
    free(w->files);
    free(w->info);
    free(w->src);
    free(w->by_name);
    free(w->source);
    free(w);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static bool is_torch_name(const char *path) {
    return ends_with(path, ".bin") || ends_with(path, ".pt") || ends_with(path, ".pth") || ends_with(path, ".ckpt");
}

/* Open one tensor file and append its tensors. *file_index gets its slot. */
static pf_status add_file(pf_weights *w, const char *path, int *file_index) {
    w_file *nf = pf_realloc(w->files, (size_t)(w->n_files + 1) * sizeof *nf, "weight files");
    if (!nf) return PF_ERR_OOM;
    w->files = nf;
    w_file *f = &w->files[w->n_files];
    memset(f, 0, sizeof *f);
    if (!(f->path = pf_strdup(path))) return PF_ERR_OOM;
    w->n_files++; /* owned from here on */
    if (file_index) *file_index = w->n_files - 1;
    int count;
    if (is_torch_name(path)) {
        PF_TRY(pf_tz_open(path, &f->tz));
        count = pf_tz_count(f->tz);
    } else {
        PF_TRY(pf_st_open(path, &f->st));
        count = pf_st_count(f->st);
    }
    if (w->n + count > w->cap) {
        int cap = PF_MAX(w->n + count, 2 * w->cap);
        pf_weight_info *ni = pf_realloc(w->info, (size_t)cap * sizeof *ni, "weight table");
        if (!ni) return PF_ERR_OOM;
        w->info = ni;
        const pf_st_tensor **ns = pf_realloc(w->src, (size_t)cap * sizeof *ns, "weight table");
        if (!ns) return PF_ERR_OOM;
        w->src = ns;
        w->cap = cap;
    }
    for (int i = 0; i < count; i++) {
        const pf_st_tensor *t = f->st ? pf_st_at(f->st, i) : pf_tz_at(f->tz, i);
        pf_weight_info *in = &w->info[w->n];
        in->name = t->name;
        in->dtype = t->dtype;
        in->ndim = t->ndim;
        for (int d = 0; d < PF_ST_MAX_DIMS; d++) in->shape[d] = d < t->ndim ? t->shape[d] : 1;
        in->file = f->path;
        w->src[w->n++] = t;
    }
    return PF_OK;
}

static int cmp_name_ix(const void *a, const void *b) {
    return strcmp(((const w_name_ix *)a)->name, ((const w_name_ix *)b)->name);
}

/* Build the lookup table; a name in two files is an error (which copy would be meant?). */
static pf_status build_index(pf_weights *w) {
    w->by_name = pf_calloc((size_t)w->n, sizeof *w->by_name, "weight index");
    if (!w->by_name) return PF_ERR_OOM;
    for (int i = 0; i < w->n; i++) w->by_name[i] = (w_name_ix){w->info[i].name, i};
    qsort(w->by_name, (size_t)w->n, sizeof *w->by_name, cmp_name_ix);
    for (int i = 1; i < w->n; i++)
        if (!strcmp(w->by_name[i].name, w->by_name[i - 1].name))
            return pf_error(PF_ERR_FORMAT, "%s: tensor '%s' is in both %s and %s", w->source, w->by_name[i].name,
                            w->info[w->by_name[i - 1].idx].file, w->info[w->by_name[i].idx].file);
    return PF_OK;
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return pf_strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = pf_malloc(n + 1, "path");
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor: shard file}}. */
static pf_status open_index(pf_weights *w, const char *path) {
    pf_json *j;
    PF_TRY(pf_json_load(path, &j));
    pf_status rc = PF_OK;
    char *dir = dir_of(path);
    const char **shards = NULL;
    int n_shards = 0;
    int *shard_file = NULL;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(pf_json_root(j), "weight_map");
    if (!dir) {
        rc = PF_ERR_OOM;
        goto done;
    }
    if (!cJSON_IsObject(wm)) {
        rc = pf_error(PF_ERR_FORMAT, "%s: no \"weight_map\" object (not a sharded checkpoint index?)", path);
        goto done;
    }
    int n_map = cJSON_GetArraySize(wm);
    if (n_map == 0) {
        rc = pf_error(PF_ERR_FORMAT, "%s: \"weight_map\" lists no tensors", path);
        goto done;
    }
    shards = pf_calloc((size_t)n_map, sizeof *shards, "shard list");
    shard_file = pf_calloc((size_t)n_map, sizeof *shard_file, "shard list");
    if (!shards || !shard_file) {
        rc = PF_ERR_OOM;
        goto done;
    }
    /* Shards in order of first mention, each opened once. */
    for (const cJSON *e = wm->child; e && rc == PF_OK; e = e->next) {
        if (!cJSON_IsString(e) || !e->valuestring[0]) {
            rc = pf_error(PF_ERR_FORMAT, "%s: weight_map entry '%s' is not a file name", path, e->string);
            break;
        }
        int k = 0;
        while (k < n_shards && strcmp(shards[k], e->valuestring)) k++;
        if (k < n_shards) continue;
        shards[n_shards++] = e->valuestring;
        char *sp = e->valuestring[0] == '/' ? pf_strdup(e->valuestring) : pf_path_join(dir, e->valuestring);
        if (!sp) {
            rc = PF_ERR_OOM;
            break;
        }
        if (!pf_file_exists(sp))
            rc = pf_error(PF_ERR_NOT_FOUND, "%s: shard '%s' (holding tensor '%s') is missing: %s not found", path,
                          e->valuestring, e->string, sp);
        else
            rc = add_file(w, sp, &shard_file[k]);
        free(sp);
    }
    if (rc == PF_OK) rc = build_index(w);
    /* Every tensor the index promises must be in the shard it names. */
    for (const cJSON *e = wm->child; e && rc == PF_OK; e = e->next) {
        const pf_weight_info *in = pf_weights_find(w, e->string);
        int k = 0;
        while (strcmp(shards[k], e->valuestring)) k++;
        if (!in || in->file != w->files[shard_file[k]].path)
            rc = pf_error(PF_ERR_FORMAT, "%s: tensor '%s' is listed in shard '%s' but not found there", path, e->string,
                          e->valuestring);
    }
done:
    free(shards);
    free(shard_file);
    free(dir);
    pf_json_free(j);
    return rc;
}

static pf_status weights_new(const char *source, pf_weights **out) {
    pf_weights *w = pf_calloc(1, sizeof *w, "weights");
    if (!w) return PF_ERR_OOM;
    if (!(w->source = pf_strdup(source))) {
        free(w);
        return PF_ERR_OOM;
    }
    *out = w;
    return PF_OK;
}

pf_status pf_weights_open_file(const char *path, pf_weights **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_weights_open_file: NULL out");
    *out = NULL;
    if (!path) return pf_error(PF_ERR_INVALID_ARG, "pf_weights_open_file: NULL path");
    if (!pf_file_exists(path)) return pf_error(PF_ERR_NOT_FOUND, "%s: weight file not found", path);
    pf_weights *w;
    PF_TRY(weights_new(path, &w));
    pf_status rc;
    if (ends_with(path, ".json")) {
        rc = open_index(w, path);
        if (rc == PF_OK) {
            char buf[64];
            snprintf(buf, sizeof buf, " (%d shard%s)", w->n_files, w->n_files == 1 ? "" : "s");
            char *s = pf_malloc(strlen(path) + strlen(buf) + 1, "weights source");
            if (!s)
                rc = PF_ERR_OOM;
            else {
                strcpy(s, path);
                strcat(s, buf);
                free(w->source);
                w->source = s;
            }
        }
    } else {
        rc = add_file(w, path, NULL);
        if (rc == PF_OK) rc = build_index(w);
    }
    if (rc != PF_OK) {
        pf_weights_close(w);
        return rc;
    }
    *out = w;
    return PF_OK;
}

/* Other *.safetensors in a folder (e.g. diffusion_pytorch_model.fp16.safetensors), used when the
 * standard names are absent and exactly one candidate exists. */
static pf_status find_single_safetensors(const char *dir, char **found) {
    *found = NULL;
    DIR *d = opendir(dir);
    if (!d) return PF_OK;
    int n = 0;
    char first[256] = "", second[256] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".safetensors")) continue;
        if (n == 0)
            snprintf(first, sizeof first, "%s", e->d_name);
        else if (n == 1)
            snprintf(second, sizeof second, "%s", e->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        return pf_error(PF_ERR_NOT_FOUND,
                        "%s: %d safetensors files (%s, %s, ...) and no index naming the model's: "
                        "pick one with a file path",
                        dir, n, first, second);
    if (n == 1 && !(*found = pf_path_join(dir, first))) return PF_ERR_OOM;
    return PF_OK;
}

pf_status pf_weights_open_dir(const char *dir, pf_weights **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_weights_open_dir: NULL out");
    *out = NULL;
    if (!dir) return pf_error(PF_ERR_INVALID_ARG, "pf_weights_open_dir: NULL dir");
    if (!pf_dir_exists(dir)) return pf_error(PF_ERR_NOT_FOUND, "%s: model folder not found", dir);
    static const char *const first[] = {
        "model.safetensors.index.json",
        "diffusion_pytorch_model.safetensors.index.json",
        "diffusion_pytorch_model.safetensors",
        "model.safetensors",
    };
    static const char *const last[] = {
        "diffusion_pytorch_model.bin.index.json",
        "pytorch_model.bin.index.json",
        "diffusion_pytorch_model.bin",
        "pytorch_model.bin",
    };
    for (size_t i = 0; i < PF_ARRAY_LEN(first); i++) {
        char *p = pf_path_join(dir, first[i]);
        if (!p) return PF_ERR_OOM;
        if (pf_file_exists(p)) {
            pf_status rc = pf_weights_open_file(p, out);
            free(p);
            return rc;
        }
        free(p);
    }
    char *single;
    PF_TRY(find_single_safetensors(dir, &single));
    if (single) {
        pf_status rc = pf_weights_open_file(single, out);
        free(single);
        return rc;
    }
    for (size_t i = 0; i < PF_ARRAY_LEN(last); i++) {
        char *p = pf_path_join(dir, last[i]);
        if (!p) return PF_ERR_OOM;
        if (pf_file_exists(p)) {
            pf_status rc = pf_weights_open_file(p, out);
            free(p);
            return rc;
        }
        free(p);
    }
    return pf_error(PF_ERR_NOT_FOUND,
                    "%s: no weights found (looked for *.safetensors, a *.safetensors.index.json and "
                    "diffusion_pytorch_model.bin / pytorch_model.bin)",
                    dir);
}

int pf_weights_count(const pf_weights *w) { return w ? w->n : 0; }
const pf_weight_info *pf_weights_at(const pf_weights *w, int i) { return w && i >= 0 && i < w->n ? &w->info[i] : NULL; }
const char *pf_weights_source(const pf_weights *w) { return w ? w->source : "(no weights)"; }

static int find_index(const pf_weights *w, const char *name) {
    if (!w || !name || !w->by_name) return -1;
    int lo = 0, hi = w->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(w->by_name[mid].name, name);
        if (c == 0) return w->by_name[mid].idx;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

const pf_weight_info *pf_weights_find(const pf_weights *w, const char *name) {
    int i = find_index(w, name);
    return i < 0 ? NULL : &w->info[i];
}

/* ---- reading ---- */

static int64_t info_nelem(const pf_weight_info *in) {
    int64_t n = 1;
    for (int d = 0; d < in->ndim; d++) n *= in->shape[d]; /* fits: the reader bounded it by the file size */
    return n;
}

static bool is_int_dtype(pf_dtype t) { return t == PF_I32 || t == PF_I64 || t == PF_U8 || t == PF_BOOL; }

static bool int_fits(int64_t v, pf_dtype t) {
    switch (t) {
    case PF_I64: return true;
    case PF_I32: return v >= INT32_MIN && v <= INT32_MAX;
    case PF_U8: return v >= 0 && v <= 255;
    case PF_BOOL: return v == 0 || v == 1;
    default: return false;
    }
}

static int64_t int_load(const void *p, pf_dtype t, size_t i) {
    switch (t) {
    case PF_I64: return ((const int64_t *)p)[i];
    case PF_I32: return ((const int32_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
    }
}

static void int_store(void *p, pf_dtype t, size_t i, int64_t v) {
    switch (t) {
    case PF_I64: ((int64_t *)p)[i] = v; break;
    case PF_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    default: ((uint8_t *)p)[i] = (uint8_t)v; break;
    }
}

/* Convert a whole tensor: any float to any float, any integer to any integer that holds its values. */
static pf_status convert_tensor(const pf_weights *w, const pf_weight_info *in, const pf_st_tensor *src, pf_dtype dt,
                                void *dst, size_t n) {
    if (src->dtype == dt) {
        memcpy(dst, src->data, src->nbytes);
        return PF_OK;
    }
    if (pf_dtype_is_float(src->dtype) && pf_dtype_is_float(dt)) {
        pf_convert(dst, dt, src->data, src->dtype, n);
        return PF_OK;
    }
    if (is_int_dtype(src->dtype) && is_int_dtype(dt)) {
        for (size_t i = 0; i < n; i++) {
            int64_t v = int_load(src->data, src->dtype, i);
            if (!int_fits(v, dt))
                return pf_error(PF_ERR_SHAPE, "%s: tensor '%s': value %" PRId64 " at %zu does not fit in %s", in->file,
                                in->name, v, i, pf_dtype_name(dt));
            int_store(dst, dt, i, v);
        }
        return PF_OK;
    }
    (void)w;
    return pf_error(PF_ERR_SHAPE, "%s: tensor '%s' is %s, cannot be read as %s", in->file, in->name,
                    pf_dtype_name(src->dtype), pf_dtype_name(dt));
}

pf_status pf_weights_read(const pf_weights *w, const char *name, pf_dtype dt, void *dst, size_t n) {
    if (!w || !name || (n && !dst) || (unsigned)dt >= PF_DTYPE_COUNT)
        return pf_error(PF_ERR_INVALID_ARG, "pf_weights_read: bad arguments");
    int i = find_index(w, name);
    if (i < 0) return pf_error(PF_ERR_NOT_FOUND, "%s: tensor '%s' not found", w->source, name);
    const pf_weight_info *in = &w->info[i];
    if ((int64_t)n != info_nelem(in))
        return pf_error(PF_ERR_SHAPE, "%s: tensor '%s' has %" PRId64 " elements, %zu requested", in->file, name,
                        info_nelem(in), n);
    return convert_tensor(w, in, w->src[i], dt, dst, n);
}

/* ---- the loader ---- */

static const char *shape_str(int ndim, const int64_t *shape, char *buf, size_t n) {
    size_t o = 0;
    o += (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && o < n; d++)
        o += (size_t)snprintf(buf + o, n - o, "%s%" PRId64, d ? ", " : "", shape[d]);
    if (o < n) snprintf(buf + o, n - o, "]");
    return buf;
}

static void PF_PRINTF(3, 4) loader_record(pf_loader *L, pf_status s, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (L->n_errors == 0) L->first_status = s;
    L->n_errors++;
    size_t len = strlen(line);
    char *e = realloc(L->errors, L->errors_len + len + 2);
    if (!e) return; /* the count still says something went wrong */
    L->errors = e;
    memcpy(L->errors + L->errors_len, line, len);
    L->errors_len += len;
    L->errors[L->errors_len++] = '\n';
    L->errors[L->errors_len] = '\0';
}

void pf_loader_init(pf_loader *L, const pf_weights *w, pf_pool *pool, pf_dtype dtype, const char *what) {
    if (!L) return;
    memset(L, 0, sizeof *L);
    L->w = w;
    L->pool = pool;
    L->dtype = dtype;
    L->what = what ? what : "weights";
    L->first_status = PF_OK;
    if (!pf_dtype_is_float(dtype) || dtype == PF_F64)
        loader_record(L, PF_ERR_INVALID_ARG, "weights requested as %s; only f32, bf16 or f16 are supported",
                      pf_dtype_name(dtype));
}

void pf_loader_fail(pf_loader *L, const char *fmt, ...) {
    if (!L) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    loader_record(L, PF_ERR_FORMAT, "%s", line);
}

/* Check name/shape/dtype; on success return the info (and its index). */
static const pf_weight_info *loader_check(pf_loader *L, pf_dtype dt, const char *name, int ndim, const int64_t *shape,
                                          int *index) {
    char want[128], have[128];
    if (!L->w) {
        loader_record(L, PF_ERR_INVALID_ARG, "no weights opened (tensor '%s')", name);
        return NULL;
    }
    if (ndim < 0 || ndim > PF_MAX_DIMS || (ndim > 0 && !shape)) {
        loader_record(L, PF_ERR_INVALID_ARG, "tensor '%s': invalid expected shape (%d dims)", name, ndim);
        return NULL;
    }
    int i = find_index(L->w, name);
    if (i < 0) {
        loader_record(L, PF_ERR_NOT_FOUND, "missing tensor '%s' (expected %s)", name,
                      shape_str(ndim, shape, want, sizeof want));
        return NULL;
    }
    const pf_weight_info *in = &L->w->info[i];
    bool same = in->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = in->shape[d] == shape[d];
    if (!same) {
        /* The file is named in the summary; per line only when the weights span several files. */
        loader_record(L, PF_ERR_SHAPE, "tensor '%s': shape %s%s%s, expected %s", name,
                      shape_str(in->ndim, in->shape, have, sizeof have), L->w->n_files > 1 ? " in " : "",
                      L->w->n_files > 1 ? in->file : "", shape_str(ndim, shape, want, sizeof want));
        return NULL;
    }
    bool ok = pf_dtype_is_float(dt) ? pf_dtype_is_float(in->dtype) : is_int_dtype(in->dtype) && is_int_dtype(dt);
    if (!ok) {
        loader_record(L, PF_ERR_SHAPE, "tensor '%s': dtype %s%s%s, cannot be loaded as %s", name,
                      pf_dtype_name(in->dtype), L->w->n_files > 1 ? " in " : "", L->w->n_files > 1 ? in->file : "",
                      pf_dtype_name(dt));
        return NULL;
    }
    *index = i;
    return in;
}

pf_tensor *pf_load_as(pf_loader *L, pf_dtype dt, const char *name, int ndim, const int64_t *shape) {
    if (!L) return NULL;
    if (!name) {
        loader_record(L, PF_ERR_INVALID_ARG, "tensor with a NULL name requested");
        return NULL;
    }
    if ((unsigned)dt >= PF_DTYPE_COUNT || dt == PF_F64) {
        loader_record(L, PF_ERR_INVALID_ARG, "tensor '%s' requested as dtype %d", name, (int)dt);
        return NULL;
    }
    int i;
    const pf_weight_info *in = loader_check(L, dt, name, ndim, shape, &i);
    if (!in) return NULL;
    int64_t n = info_nelem(in);
    L->n_params += n;
    if (!L->pool) return NULL; /* check-only mode */
    pf_tensor *t = pf_pool_tensor(L->pool, dt, ndim, shape, name);
    if (!t) {
        loader_record(L, PF_ERR_OOM, "tensor '%s': %s", name, pf_last_error());
        return NULL;
    }
    const pf_st_tensor *src = L->w->src[i];
    pf_status rc;
    if (src->dtype == dt) {
        rc = pf_tensor_set(t, src->data, src->nbytes); /* straight from the mapping */
    } else if (pf_dtype_is_float(dt)) {
        /* the meta backend keeps sizes only: converting would read the whole file for nothing
         * (pf_model_open validates a model folder there without loading it) */
        rc = pf_backend_is_meta(pf_pool_backend(L->pool)) ? PF_OK
                                                          : pf_tensor_set_as(t, src->data, src->dtype, (size_t)n);
    } else {
        void *tmp = pf_malloc(pf_nbytes(t), name);
        rc = tmp ? convert_tensor(L->w, in, src, dt, tmp, (size_t)n) : PF_ERR_OOM;
        if (rc == PF_OK) rc = pf_tensor_set(t, tmp, pf_nbytes(t));
        free(tmp);
    }
    if (rc != PF_OK) {
        loader_record(L, rc, "tensor '%s': %s", name, pf_last_error());
        return NULL;
    }
    return t;
}

pf_tensor *pf_load(pf_loader *L, const char *name, int ndim, ...) {
    if (!L) return NULL;
    int64_t shape[PF_MAX_DIMS] = {0};
    va_list ap;
    va_start(ap, ndim);
    for (int d = 0; d < ndim && d < PF_MAX_DIMS; d++) shape[d] = va_arg(ap, int64_t);
    va_end(ap);
    return pf_load_as(L, L->dtype, name, ndim, ndim > PF_MAX_DIMS ? NULL : shape);
}

pf_tensor *pf_loadf(pf_loader *L, int ndim, const int64_t *shape, const char *fmt, ...) {
    if (!L) return NULL;
    char name[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof name) {
        loader_record(L, PF_ERR_INVALID_ARG, "tensor name '%.64s...' too long", name);
        return NULL;
    }
    return pf_load_as(L, L->dtype, name, ndim, shape);
}

pf_tensor *pf_load_alt(pf_loader *L, int ndim, const int64_t *shape, const char *const *names, int n_names) {
    if (!L) return NULL;
    for (int k = 0; k < n_names; k++)
        if (names[k] && find_index(L->w, names[k]) >= 0) return pf_load_as(L, L->dtype, names[k], ndim, shape);
    char list[400] = "", want[128];
    for (int k = 0; k < n_names && names; k++) {
        size_t o = strlen(list);
        snprintf(list + o, sizeof list - o, "%s'%s'", k ? ", " : "", names[k] ? names[k] : "(null)");
    }
    loader_record(L, PF_ERR_NOT_FOUND, "missing tensor: none of %s (expected %s)", list,
                  ndim >= 0 && ndim <= PF_MAX_DIMS && shape ? shape_str(ndim, shape, want, sizeof want) : "?");
    return NULL;
}

bool pf_load_host(pf_loader *L, const char *name, int ndim, const int64_t *shape, float *dst) {
    if (!L) return false;
    if (!name) {
        loader_record(L, PF_ERR_INVALID_ARG, "tensor with a NULL name requested");
        return false;
    }
    int i;
    const pf_weight_info *in = loader_check(L, PF_F32, name, ndim, shape, &i);
    if (!in) return false;
    int64_t n = info_nelem(in);
    L->n_params += n;
    if (!dst) return true;
    pf_status rc = convert_tensor(L->w, in, L->w->src[i], PF_F32, dst, (size_t)n);
    if (rc != PF_OK) {
        loader_record(L, rc, "tensor '%s': %s", name, pf_last_error());
        return false;
    }
    return true;
}

/* One error for everything recorded: the component, the source, then one problem per line.
 * The message buffer holds 2 KiB, so a long list ends with a count of the rest. */
pf_status pf_loader_finish(pf_loader *L) {
    if (!L) return pf_error(PF_ERR_INVALID_ARG, "pf_loader_finish: NULL loader");
    if (L->n_errors == 0) {
        free(L->errors);
        L->errors = NULL;
        L->errors_len = 0;
        return PF_OK;
    }
    char msg[1900];
    size_t o = (size_t)snprintf(msg, sizeof msg, "%s: %d problem%s with the weights in %s:", L->what, L->n_errors,
                                L->n_errors == 1 ? "" : "s", pf_weights_source(L->w));
    if (o >= sizeof msg) o = sizeof msg - 1;
    int shown = 0;
    const char *line = L->errors;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (o + len + 4 + 40 >= sizeof msg) break; /* room for this line and the "... and N more" */
        o += (size_t)snprintf(msg + o, sizeof msg - o, "\n  %.*s", (int)len, line);
        shown++;
        line = nl ? nl + 1 : NULL;
    }
    if (shown < L->n_errors && o < sizeof msg)
        snprintf(msg + o, sizeof msg - o, "\n  ... and %d more", L->n_errors - shown);
    pf_status s = L->first_status != PF_OK ? L->first_status : PF_ERR_FORMAT;
    free(L->errors);
    L->errors = NULL;
    L->errors_len = 0;
    L->n_errors = 0;
    return pf_error(s, "%s", msg);
}
