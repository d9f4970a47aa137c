/*
 * torch.save zip files: the zip container (end of central directory, ZIP64
 * records, central directory, local headers; stored entries only) and a small
 * pickle machine running data.pkl. Every length and offset read from the file
 * is bounded before use; the pickle machine keeps every object it creates in
 * one list and frees them together, so crafted references (cycles, shared
 * objects) cannot cause double frees and nothing recurses on file input.
 */
#include "pf_torchzip.h"

#include "pf_mapfile.h"

#include <inttypes.h>

/* ------------------------------------------------------------------------ */
/* zip container                                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
    char *name;
    const uint8_t *data; /* first byte of the (stored) contents */
    uint64_t csize;      /* bytes in the file */
    uint64_t usize;      /* uncompressed size */
    int method;          /* 0 stored, 8 deflate, ... */
} tz_entry;

typedef struct {
    const char *name;
    int idx;
} tz_name_ix;

struct pf_torchzip {
    char *label;
    pf_mapfile map;
    const uint8_t *base;
    size_t size;
    tz_entry *entries;
    int n_entries;
    pf_st_tensor *t;
    int n;
    tz_name_ix *by_name;
    void **copies; /* per tensor: materialised copy, or NULL when it points into the file */
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* [off, off + len) lies inside [0, size). */
static bool in_range(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

#define ZIP_EOCD_SIG 0x06054b50u
#define ZIP64_LOCATOR_SIG 0x07064b50u
#define ZIP64_EOCD_SIG 0x06064b50u
#define ZIP_CENTRAL_SIG 0x02014b50u
#define ZIP_LOCAL_SIG 0x04034b50u

static pf_status zip_read_directory(pf_torchzip *z) {
    const uint8_t *b = z->base;
    size_t size = z->size;
    if (size < 22)
        return pf_error(PF_ERR_FORMAT, "%s: not a torch zip file: %zu bytes is too short for a zip archive", z->label,
                        size);
    /* The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB. */
    size_t lo = size - 22 > 65535 ? size - 22 - 65535 : 0;
    size_t eocd = SIZE_MAX;
    for (size_t p = size - 22 + 1; p-- > lo;) {
        if (rd32(b + p) == ZIP_EOCD_SIG && (size_t)rd16(b + p + 20) <= size - p - 22) {
            eocd = p;
            break;
        }
    }
    if (eocd == SIZE_MAX) {
        if (size >= 2 && b[0] == 0x80 && b[1] <= 5)
            return pf_error(PF_ERR_UNSUPPORTED,
                            "%s: a raw pickle (the legacy torch.save format of torch < 1.6) is not supported; re-save "
                            "it with a current torch or convert it to safetensors",
                            z->label);
        return pf_error(PF_ERR_FORMAT, "%s: not a zip archive (no end of central directory record; truncated?)",
                        z->label);
    }
    uint64_t n_entries = rd16(b + eocd + 10), cd_size = rd32(b + eocd + 12), cd_off = rd32(b + eocd + 16);
    if (rd16(b + eocd + 4) != 0 || rd16(b + eocd + 6) != 0)
        return pf_error(PF_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported", z->label);
    /* ZIP64: the locator sits right before the classic record and points at the 64-bit one. */
    if (eocd >= 20 && rd32(b + eocd - 20) == ZIP64_LOCATOR_SIG) {
        uint64_t z64 = rd64(b + eocd - 20 + 8);
        if (!in_range(z64, 56, eocd - 20) || rd32(b + z64) != ZIP64_EOCD_SIG)
            return pf_error(PF_ERR_FORMAT, "%s: ZIP64 end of central directory record at %" PRIu64 " is invalid",
                            z->label, z64);
        n_entries = rd64(b + z64 + 32);
        cd_size = rd64(b + z64 + 40);
        cd_off = rd64(b + z64 + 48);
    } else if (n_entries == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu) {
        return pf_error(PF_ERR_FORMAT, "%s: zip needs ZIP64 records but has none", z->label);
    }
    if (!in_range(cd_off, cd_size, size))
        return pf_error(PF_ERR_FORMAT,
                        "%s: central directory [%" PRIu64 ", +%" PRIu64
                        ") lies outside the file (%zu bytes; truncated?)",
                        z->label, cd_off, cd_size, size);
    if (n_entries > cd_size / 46) /* 46: the smallest central directory entry */
        return pf_error(PF_ERR_FORMAT, "%s: central directory claims %" PRIu64 " entries in %" PRIu64 " bytes",
                        z->label, n_entries, cd_size);
    z->entries = pf_calloc((size_t)n_entries, sizeof *z->entries, "zip directory");
    if (!z->entries) return PF_ERR_OOM;
    const uint8_t *cd = b + cd_off;
    uint64_t pos = 0;
    for (uint64_t i = 0; i < n_entries; i++) {
        if (!in_range(pos, 46, cd_size) || rd32(cd + pos) != ZIP_CENTRAL_SIG)
            return pf_error(PF_ERR_FORMAT, "%s: central directory entry %" PRIu64 " is corrupt", z->label, i);
        const uint8_t *e = cd + pos;
        uint16_t flags = rd16(e + 8), method = rd16(e + 10);
        uint64_t csize = rd32(e + 20), usize = rd32(e + 24), loff = rd32(e + 42);
        uint16_t nl = rd16(e + 28), el = rd16(e + 30), cl = rd16(e + 32);
        if (!in_range(pos + 46, (uint64_t)nl + el + cl, cd_size))
            return pf_error(PF_ERR_FORMAT, "%s: central directory entry %" PRIu64 " runs past the directory", z->label,
                            i);
        tz_entry *ent = &z->entries[z->n_entries];
        ent->name = pf_malloc((size_t)nl + 1, "zip entry name");
        if (!ent->name) return PF_ERR_OOM;
        memcpy(ent->name, e + 46, nl);
        ent->name[nl] = '\0';
        z->n_entries++;
        if (flags & 1) return pf_error(PF_ERR_UNSUPPORTED, "%s: entry '%s' is encrypted", z->label, ent->name);
        /* ZIP64 extra field: 64-bit values for exactly the fields that hold 0xffffffff, in this order. */
        const uint8_t *x = e + 46 + nl, *xend = x + el;
        while (xend - x >= 4) {
            uint16_t id = rd16(x), xl = rd16(x + 2);
            if (xend - x - 4 < xl) break;
            if (id == 0x0001) {
                const uint8_t *q = x + 4, *qend = q + xl;
                uint64_t *fields[3] = {&usize, &csize, &loff};
                for (int k = 0; k < 3; k++) {
                    if (*fields[k] != 0xffffffffu) continue;
                    if (qend - q < 8)
                        return pf_error(PF_ERR_FORMAT, "%s: entry '%s': ZIP64 extra field too short", z->label,
                                        ent->name);
                    *fields[k] = rd64(q);
                    q += 8;
                }
            }
            x += 4 + xl;
        }
        /* The local header repeats the name and has its own extra field (torch uses it to align data). */
        if (!in_range(loff, 30, size) || rd32(b + loff) != ZIP_LOCAL_SIG)
            return pf_error(PF_ERR_FORMAT, "%s: entry '%s': local header at %" PRIu64 " is missing or corrupt",
                            z->label, ent->name, loff);
        uint64_t data_off = loff + 30 + rd16(b + loff + 26) + (uint64_t)rd16(b + loff + 28);
        if (!in_range(data_off, csize, size))
            return pf_error(PF_ERR_FORMAT,
                            "%s: entry '%s': %" PRIu64 " bytes at %" PRIu64
                            " run past the end of the file (%zu bytes; truncated?)",
                            z->label, ent->name, csize, data_off, size);
        ent->data = b + data_off;
        ent->csize = csize;
        ent->usize = usize;
        ent->method = method;
        pos += 46 + (uint64_t)nl + el + cl;
    }
    return PF_OK;
}

/* The contents of a stored entry, or an error naming the entry. */
static pf_status zip_entry_stored(const pf_torchzip *z, const tz_entry *e) {
    if (e->method != 0)
        return pf_error(PF_ERR_UNSUPPORTED,
                        "%s: entry '%s' is compressed (method %d%s); only stored entries are supported (torch.save "
                        "never compresses)",
                        z->label, e->name, e->method, e->method == 8 ? ", deflate" : "");
    if (e->csize != e->usize)
        return pf_error(PF_ERR_FORMAT, "%s: entry '%s' is stored but its sizes differ (%" PRIu64 " vs %" PRIu64 ")",
                        z->label, e->name, e->csize, e->usize);
    return PF_OK;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const tz_entry *)a)->name, ((const tz_entry *)b)->name);
}

/* The entry named prefix + mid + key (entries are sorted by name after the directory is read:
 * a state dict has one storage entry per tensor, looked up once each). */
static const tz_entry *zip_find(const pf_torchzip *z, const char *prefix, const char *mid, const char *key) {
    size_t lp = strlen(prefix), lm = strlen(mid), lk = strlen(key);
    char small[256], *name = lp + lm + lk < sizeof small ? small : malloc(lp + lm + lk + 1);
    if (!name) return NULL;
    memcpy(name, prefix, lp);
    memcpy(name + lp, mid, lm);
    memcpy(name + lp + lm, key, lk + 1);
    tz_entry probe = {.name = name};
    const tz_entry *e =
        z->n_entries ? bsearch(&probe, z->entries, (size_t)z->n_entries, sizeof *z->entries, cmp_entry) : NULL;
    if (name != small) free(name);
    return e;
}

/* ------------------------------------------------------------------------ */
/* pickle machine                                                           */
/* ------------------------------------------------------------------------ */

typedef enum {
    V_NONE,
    V_BOOL,
    V_INT,
    V_FLOAT,
    V_STR,
    V_BYTES,
    V_TUPLE,
    V_LIST,
    V_DICT,
    V_GLOBAL,
    V_STORAGE,
    V_TENSOR
} tz_vtype;

static const char *const vtype_names[] = {"None",    "a bool", "an int", "a float",  "a str",     "bytes",
                                          "a tuple", "a list", "a dict", "a global", "a storage", "a tensor"};

typedef enum { G_ODICT, G_REBUILD_TENSOR, G_REBUILD_PARAM, G_STORAGE } tz_gkind;

typedef struct tz_val tz_val;
struct tz_val {
    tz_vtype type;
    int64_t i; /* V_INT, V_BOOL */
    char *s;   /* V_STR, V_BYTES, V_GLOBAL ("module.name"), V_STORAGE (key) */
    size_t slen;
    tz_val **items; /* V_TUPLE, V_LIST; V_DICT: key, value, key, value, ... */
    int n, cap;
    tz_gkind gkind;       /* V_GLOBAL */
    pf_dtype dtype;       /* V_GLOBAL (storage class), V_STORAGE */
    const uint8_t *sdata; /* V_STORAGE: the storage bytes */
    uint64_t snumel;      /* V_STORAGE: elements */
    tz_val *storage;      /* V_TENSOR */
    int64_t offset;
    int ndim;
    int64_t shape[PF_ST_MAX_DIMS], stride[PF_ST_MAX_DIMS];
};

typedef struct {
    pf_torchzip *z;
    const char *prefix;   /* "archive/" */
    const char *pkl_name; /* for messages */
    const uint8_t *p0, *p, *end;
    size_t op_off;
    int op; /* the opcode being run; -1 at the end of the data */
    tz_val **stack;
    int sp, scap;
    int *marks;
    int n_marks, mcap;
    tz_val **memo;
    size_t memo_cap;
    size_t memo_len; /* distinct indices stored: MEMOIZE's next index */
    tz_val **all;
    size_t n_all, all_cap;
} tz_vm;

static pf_status PF_PRINTF(2, 3) vm_fail(tz_vm *vm, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (vm->op < 0)
        return pf_error(PF_ERR_FORMAT, "%s: %s: at offset %zu: %s", vm->z->label, vm->pkl_name, vm->op_off, msg);
    return pf_error(PF_ERR_FORMAT, "%s: %s: opcode 0x%02x at offset %zu: %s", vm->z->label, vm->pkl_name, vm->op,
                    vm->op_off, msg);
}

static tz_val *vm_new(tz_vm *vm, tz_vtype t) {
    if (vm->n_all == vm->all_cap) {
        size_t cap = vm->all_cap ? 2 * vm->all_cap : 256;
        tz_val **a = realloc(vm->all, cap * sizeof *a);
        if (!a) return NULL;
        vm->all = a;
        vm->all_cap = cap;
    }
    tz_val *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->type = t;
    vm->all[vm->n_all++] = v;
    return v;
}

static void vm_free(tz_vm *vm) {
    for (size_t i = 0; i < vm->n_all; i++) {
        free(vm->all[i]->s);
        free(vm->all[i]->items);
        free(vm->all[i]);
    }
    free(vm->all);
    free(vm->stack);
    free(vm->marks);
    free(vm->memo);
}

static pf_status vm_oom(tz_vm *vm) {
    return pf_error(PF_ERR_OOM, "%s: out of memory reading %s", vm->z->label, vm->pkl_name);
}

static pf_status vm_push(tz_vm *vm, tz_val *v) {
    if (!v) return vm_oom(vm);
    if (vm->sp == vm->scap) {
        int cap = vm->scap ? 2 * vm->scap : 64;
        tz_val **s = realloc(vm->stack, (size_t)cap * sizeof *s);
        if (!s) return vm_oom(vm);
        vm->stack = s;
        vm->scap = cap;
    }
    vm->stack[vm->sp++] = v;
    return PF_OK;
}

/* The lowest stack slot ops may pop: objects below the newest mark belong to an outer level. */
static int vm_fence(const tz_vm *vm) { return vm->n_marks ? vm->marks[vm->n_marks - 1] : 0; }

static pf_status vm_pop(tz_vm *vm, tz_val **out) {
    if (vm->sp <= vm_fence(vm)) return vm_fail(vm, "stack underflow");
    *out = vm->stack[--vm->sp];
    return PF_OK;
}

static pf_status vm_top(tz_vm *vm, tz_val **out) {
    if (vm->sp <= vm_fence(vm)) return vm_fail(vm, "stack underflow");
    *out = vm->stack[vm->sp - 1];
    return PF_OK;
}

/* Remove the newest mark; the objects above it are stack[*k .. sp). */
static pf_status vm_pop_mark(tz_vm *vm, int *k) {
    if (!vm->n_marks) return vm_fail(vm, "no MARK on the stack");
    *k = vm->marks[--vm->n_marks];
    return PF_OK;
}

static pf_status vm_need(tz_vm *vm, size_t n, const uint8_t **at) {
    if ((size_t)(vm->end - vm->p) < n)
        return vm_fail(vm, "truncated: needs %zu more bytes, %zu left", n, (size_t)(vm->end - vm->p));
    *at = vm->p;
    vm->p += n;
    return PF_OK;
}

static pf_status vm_append(tz_vm *vm, tz_val *c, tz_val *item) {
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        tz_val **it = realloc(c->items, (size_t)cap * sizeof *it);
        if (!it) return vm_oom(vm);
        c->items = it;
        c->cap = cap;
    }
    c->items[c->n++] = item;
    return PF_OK;
}

/* A tuple from stack[k .. sp), which is popped. */
static pf_status vm_make_tuple(tz_vm *vm, int k) {
    tz_val *t = vm_new(vm, V_TUPLE);
    if (!t) return vm_oom(vm);
    for (int i = k; i < vm->sp; i++) PF_TRY(vm_append(vm, t, vm->stack[i]));
    vm->sp = k;
    return vm_push(vm, t);
}

static pf_status vm_string(tz_vm *vm, tz_vtype type, uint64_t len) {
    if (len > (uint64_t)(vm->end - vm->p)) return vm_fail(vm, "string of %" PRIu64 " bytes runs past the end", len);
    const uint8_t *at;
    PF_TRY(vm_need(vm, (size_t)len, &at));
    tz_val *v = vm_new(vm, type);
    if (!v || !(v->s = malloc((size_t)len + 1))) return vm_oom(vm);
    memcpy(v->s, at, (size_t)len);
    v->s[len] = '\0';
    v->slen = (size_t)len;
    return vm_push(vm, v);
}

static pf_status vm_int(tz_vm *vm, int64_t x) {
    tz_val *v = vm_new(vm, V_INT);
    if (v) v->i = x;
    return vm_push(vm, v);
}

static const struct {
    const char *module, *name;
    tz_gkind kind;
    pf_dtype dtype; /* storages; PF_DTYPE_COUNT: a storage type pflow has no dtype for */
} known_globals[] = {
    {"collections", "OrderedDict", G_ODICT, PF_F32},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR, PF_F32},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAM, PF_F32},
    {"torch._utils", "_rebuild_parameter_with_state", G_REBUILD_PARAM, PF_F32},
    {"torch", "FloatStorage", G_STORAGE, PF_F32},
    {"torch", "HalfStorage", G_STORAGE, PF_F16},
    {"torch", "BFloat16Storage", G_STORAGE, PF_BF16},
    {"torch", "DoubleStorage", G_STORAGE, PF_F64},
    {"torch", "LongStorage", G_STORAGE, PF_I64},
    {"torch", "IntStorage", G_STORAGE, PF_I32},
    {"torch", "ByteStorage", G_STORAGE, PF_U8},
    {"torch", "BoolStorage", G_STORAGE, PF_BOOL},
    {"torch", "CharStorage", G_STORAGE, PF_DTYPE_COUNT},
    {"torch", "ShortStorage", G_STORAGE, PF_DTYPE_COUNT},
    {"torch", "ComplexFloatStorage", G_STORAGE, PF_DTYPE_COUNT},
    {"torch", "ComplexDoubleStorage", G_STORAGE, PF_DTYPE_COUNT},
};

static pf_status vm_global(tz_vm *vm, const char *module, size_t lm, const char *name, size_t ln) {
    for (size_t i = 0; i < PF_ARRAY_LEN(known_globals); i++) {
        if (strlen(known_globals[i].module) != lm || memcmp(known_globals[i].module, module, lm) ||
            strlen(known_globals[i].name) != ln || memcmp(known_globals[i].name, name, ln))
            continue;
        if (known_globals[i].kind == G_STORAGE && known_globals[i].dtype == PF_DTYPE_COUNT)
            return vm_fail(vm, "storage type '%s.%s' has no pflow dtype", known_globals[i].module,
                           known_globals[i].name);
        tz_val *v = vm_new(vm, V_GLOBAL);
        if (!v || !(v->s = malloc(lm + ln + 2))) return vm_oom(vm);
        memcpy(v->s, module, lm);
        v->s[lm] = '.';
        memcpy(v->s + lm + 1, name, ln);
        v->s[lm + 1 + ln] = '\0';
        v->gkind = known_globals[i].kind;
        v->dtype = known_globals[i].dtype;
        return vm_push(vm, v);
    }
    return vm_fail(vm, "unsupported global '%.*s.%.*s' (only state dicts of tensors can be read)", (int)PF_MIN(lm, 200),
                   module, (int)PF_MIN(ln, 200), name);
}

/* GLOBAL's argument: a text line ended by '\n'. */
static pf_status vm_line(tz_vm *vm, const char **s, size_t *len) {
    const uint8_t *nl = memchr(vm->p, '\n', (size_t)(vm->end - vm->p));
    if (!nl) return vm_fail(vm, "truncated: unterminated GLOBAL name");
    *s = (const char *)vm->p;
    *len = (size_t)(nl - vm->p);
    vm->p = nl + 1;
    return PF_OK;
}

static pf_status vm_memo_put(tz_vm *vm, uint64_t idx) {
    tz_val *v = NULL;
    PF_TRY(vm_top(vm, &v));
    /* Python numbers memo entries densely; an index beyond the pickle's size cannot be real. */
    if (idx > (uint64_t)(vm->end - vm->p0)) return vm_fail(vm, "memo index %" PRIu64 " is absurd", idx);
    if (idx >= vm->memo_cap) {
        size_t cap = vm->memo_cap ? vm->memo_cap : 64;
        while (cap <= idx) cap *= 2;
        tz_val **m = realloc(vm->memo, cap * sizeof *m);
        if (!m) return vm_oom(vm);
        memset(m + vm->memo_cap, 0, (cap - vm->memo_cap) * sizeof *m);
        vm->memo = m;
        vm->memo_cap = cap;
    }
    if (!vm->memo[idx]) vm->memo_len++;
    vm->memo[idx] = v;
    return PF_OK;
}

static pf_status vm_memo_get(tz_vm *vm, uint64_t idx) {
    if (idx >= vm->memo_cap || !vm->memo[idx]) return vm_fail(vm, "memo index %" PRIu64 " was never stored", idx);
    return vm_push(vm, vm->memo[idx]);
}

/* BINPERSID: ('storage', storage_class, key, location, numel) -> the bytes of data/<key>. */
static pf_status vm_persistent_load(tz_vm *vm) {
    tz_val *pid = NULL;
    PF_TRY(vm_pop(vm, &pid));
    if (pid->type != V_TUPLE || pid->n != 5 || pid->items[0]->type != V_STR || strcmp(pid->items[0]->s, "storage"))
        return vm_fail(vm, "persistent id is not ('storage', type, key, location, numel)");
    tz_val *cls = pid->items[1], *key = pid->items[2], *numel = pid->items[4];
    if (cls->type != V_GLOBAL || cls->gkind != G_STORAGE)
        return vm_fail(vm, "persistent id names '%s', not a storage class",
                       cls->type == V_GLOBAL ? cls->s : vtype_names[cls->type]);
    if (key->type != V_STR || numel->type != V_INT || numel->i < 0)
        return vm_fail(vm, "persistent id has a malformed storage key or element count");
    const tz_entry *e = zip_find(vm->z, vm->prefix, "data/", key->s);
    if (!e) return vm_fail(vm, "storage '%s' is missing: no entry '%sdata/%s' in the zip", key->s, vm->prefix, key->s);
    pf_status rc = zip_entry_stored(vm->z, e);
    if (rc != PF_OK) return rc;
    size_t esize = pf_dtype_size(cls->dtype);
    if ((uint64_t)numel->i > e->csize / esize)
        return vm_fail(vm, "storage '%s' holds %" PRIu64 " bytes, too small for its %" PRId64 " %s elements", key->s,
                       e->csize, numel->i, pf_dtype_name(cls->dtype));
    tz_val *v = vm_new(vm, V_STORAGE);
    if (!v || !(v->s = pf_strdup(key->s))) return vm_oom(vm);
    v->dtype = cls->dtype;
    v->sdata = e->data;
    v->snumel = (uint64_t)numel->i;
    return vm_push(vm, v);
}

static pf_status vm_int_tuple(tz_vm *vm, const tz_val *t, const char *what, int64_t *out, int *n) {
    if (t->type != V_TUPLE) return vm_fail(vm, "tensor %s is %s, not a tuple", what, vtype_names[t->type]);
    if (t->n > PF_ST_MAX_DIMS)
        return vm_fail(vm, "tensor %s has %d dims, at most %d supported", what, t->n, PF_ST_MAX_DIMS);
    for (int i = 0; i < t->n; i++) {
        if (t->items[i]->type != V_INT || t->items[i]->i < 0)
            return vm_fail(vm, "tensor %s entry %d is not a non-negative integer", what, i);
        out[i] = t->items[i]->i;
    }
    *n = t->n;
    return PF_OK;
}

static pf_status vm_reduce(tz_vm *vm) {
    tz_val *args = NULL, *fn = NULL;
    PF_TRY(vm_pop(vm, &args));
    PF_TRY(vm_pop(vm, &fn));
    if (fn->type != V_GLOBAL) return vm_fail(vm, "REDUCE of %s, not a known global", vtype_names[fn->type]);
    if (args->type != V_TUPLE) return vm_fail(vm, "REDUCE arguments are %s, not a tuple", vtype_names[args->type]);
    switch (fn->gkind) {
    case G_ODICT:
        if (args->n != 0) return vm_fail(vm, "collections.OrderedDict with arguments is not supported");
        return vm_push(vm, vm_new(vm, V_DICT));
    case G_REBUILD_TENSOR: {
        /* (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
        if (args->n < 6 || args->n > 7)
            return vm_fail(vm, "_rebuild_tensor_v2 takes 6 or 7 arguments, got %d", args->n);
        if (args->items[0]->type != V_STORAGE) return vm_fail(vm, "_rebuild_tensor_v2: argument 1 is not a storage");
        if (args->items[1]->type != V_INT || args->items[1]->i < 0)
            return vm_fail(vm, "_rebuild_tensor_v2: storage offset is not a non-negative integer");
        tz_val *t = vm_new(vm, V_TENSOR);
        if (!t) return vm_oom(vm);
        int ns = 0, nt = 0;
        PF_TRY(vm_int_tuple(vm, args->items[2], "size", t->shape, &ns));
        PF_TRY(vm_int_tuple(vm, args->items[3], "stride", t->stride, &nt));
        if (ns != nt) return vm_fail(vm, "tensor size has %d dims but stride %d", ns, nt);
        t->ndim = ns;
        t->storage = args->items[0];
        t->offset = args->items[1]->i;
        return vm_push(vm, t);
    }
    case G_REBUILD_PARAM:
        /* (data, requires_grad, backward_hooks[, state]): a Parameter is its tensor here. */
        if (args->n < 1 || args->items[0]->type != V_TENSOR) return vm_fail(vm, "_rebuild_parameter without a tensor");
        return vm_push(vm, args->items[0]);
    case G_STORAGE: return vm_fail(vm, "REDUCE of storage class '%s' is not supported", fn->s);
    }
    return vm_fail(vm, "REDUCE of '%s' is not supported", fn->s);
}

/* Opcodes (pickletools names). */
enum {
    OP_MARK = '(',
    OP_STOP = '.',
    OP_POP = '0',
    OP_POP_MARK = '1',
    OP_DUP = '2',
    OP_BINFLOAT = 'G',
    OP_BININT = 'J',
    OP_BININT1 = 'K',
    OP_BININT2 = 'M',
    OP_NONE = 'N',
    OP_BINPERSID = 'Q',
    OP_REDUCE = 'R',
    OP_BINSTRING = 'T',
    OP_SHORT_BINSTRING = 'U',
    OP_BINUNICODE = 'X',
    OP_APPEND = 'a',
    OP_BUILD = 'b',
    OP_GLOBAL = 'c',
    OP_DICT = 'd',
    OP_EMPTY_DICT = '}',
    OP_APPENDS = 'e',
    OP_BINGET = 'h',
    OP_LONG_BINGET = 'j',
    OP_LIST = 'l',
    OP_EMPTY_LIST = ']',
    OP_BINPUT = 'q',
    OP_LONG_BINPUT = 'r',
    OP_SETITEM = 's',
    OP_TUPLE = 't',
    OP_EMPTY_TUPLE = ')',
    OP_SETITEMS = 'u',
    OP_BINBYTES = 'B',
    OP_SHORT_BINBYTES = 'C',
    OP_PROTO = 0x80,
    OP_TUPLE1 = 0x85,
    OP_TUPLE2 = 0x86,
    OP_TUPLE3 = 0x87,
    OP_NEWTRUE = 0x88,
    OP_NEWFALSE = 0x89,
    OP_LONG1 = 0x8a,
    OP_LONG4 = 0x8b,
    OP_SHORT_BINUNICODE = 0x8c,
    OP_BINUNICODE8 = 0x8d,
    OP_BINBYTES8 = 0x8e,
    OP_STACK_GLOBAL = 0x93,
    OP_MEMOIZE = 0x94,
    OP_FRAME = 0x95,
};

static pf_status vm_setitems(tz_vm *vm, tz_val *d, int from) {
    if (d->type != V_DICT) return vm_fail(vm, "SETITEM(S) on %s, not a dict", vtype_names[d->type]);
    if ((vm->sp - from) % 2) return vm_fail(vm, "SETITEMS with an odd number of objects");
    for (int i = from; i < vm->sp; i++) PF_TRY(vm_append(vm, d, vm->stack[i]));
    vm->sp = from;
    return PF_OK;
}

static pf_status vm_step(tz_vm *vm, bool *stop) {
    const uint8_t *a = NULL;
    tz_val *x = NULL, *y = NULL;
    int k = 0;
    vm->op_off = (size_t)(vm->p - vm->p0);
    PF_TRY(vm_need(vm, 1, &a));
    vm->op = a[0];
    switch (vm->op) {
    case OP_PROTO:
        PF_TRY(vm_need(vm, 1, &a));
        if (a[0] > 5) return vm_fail(vm, "pickle protocol %d is not supported", a[0]);
        return PF_OK;
    case OP_FRAME: return vm_need(vm, 8, &a); /* framing only groups opcodes for buffering */
    case OP_STOP: *stop = true; return PF_OK;
    case OP_MARK:
        if (vm->n_marks == vm->mcap) {
            int cap = vm->mcap ? 2 * vm->mcap : 32;
            int *m = realloc(vm->marks, (size_t)cap * sizeof *m);
            if (!m) return vm_oom(vm);
            vm->marks = m;
            vm->mcap = cap;
        }
        vm->marks[vm->n_marks++] = vm->sp;
        return PF_OK;
    case OP_POP: return vm_pop(vm, &x);
    case OP_POP_MARK:
        PF_TRY(vm_pop_mark(vm, &k));
        vm->sp = k;
        return PF_OK;
    case OP_DUP: PF_TRY(vm_top(vm, &x)); return vm_push(vm, x);
    case OP_NONE: return vm_push(vm, vm_new(vm, V_NONE));
    case OP_NEWTRUE:
    case OP_NEWFALSE:
        x = vm_new(vm, V_BOOL);
        if (x) x->i = vm->op == OP_NEWTRUE;
        return vm_push(vm, x);
    case OP_BININT: PF_TRY(vm_need(vm, 4, &a)); return vm_int(vm, (int32_t)rd32(a));
    case OP_BININT1: PF_TRY(vm_need(vm, 1, &a)); return vm_int(vm, a[0]);
    case OP_BININT2: PF_TRY(vm_need(vm, 2, &a)); return vm_int(vm, rd16(a));
    case OP_LONG1:
    case OP_LONG4: {
        uint64_t n;
        if (vm->op == OP_LONG1) {
            PF_TRY(vm_need(vm, 1, &a));
            n = a[0];
        } else {
            PF_TRY(vm_need(vm, 4, &a));
            n = rd32(a);
        }
        if (n > 8) return vm_fail(vm, "integer of %" PRIu64 " bytes does not fit in 64 bits", n);
        PF_TRY(vm_need(vm, (size_t)n, &a));
        uint64_t u = 0;
        for (uint64_t i = 0; i < n; i++) u |= (uint64_t)a[i] << (8 * i);
        if (n > 0 && n < 8 && (a[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n); /* two's complement sign */
        int64_t sv;
        memcpy(&sv, &u, sizeof sv);
        return vm_int(vm, sv);
    }
    case OP_BINFLOAT: /* big-endian IEEE double; only ever an argument we ignore */
        PF_TRY(vm_need(vm, 8, &a));
        return vm_push(vm, vm_new(vm, V_FLOAT));
    case OP_SHORT_BINUNICODE: PF_TRY(vm_need(vm, 1, &a)); return vm_string(vm, V_STR, a[0]);
    case OP_BINUNICODE: PF_TRY(vm_need(vm, 4, &a)); return vm_string(vm, V_STR, rd32(a));
    case OP_BINUNICODE8: PF_TRY(vm_need(vm, 8, &a)); return vm_string(vm, V_STR, rd64(a));
    case OP_SHORT_BINSTRING: PF_TRY(vm_need(vm, 1, &a)); return vm_string(vm, V_STR, a[0]);
    case OP_BINSTRING: PF_TRY(vm_need(vm, 4, &a)); return vm_string(vm, V_STR, rd32(a));
    case OP_SHORT_BINBYTES: PF_TRY(vm_need(vm, 1, &a)); return vm_string(vm, V_BYTES, a[0]);
    case OP_BINBYTES: PF_TRY(vm_need(vm, 4, &a)); return vm_string(vm, V_BYTES, rd32(a));
    case OP_BINBYTES8: PF_TRY(vm_need(vm, 8, &a)); return vm_string(vm, V_BYTES, rd64(a));
    case OP_EMPTY_TUPLE: return vm_make_tuple(vm, vm->sp);
    case OP_TUPLE: PF_TRY(vm_pop_mark(vm, &k)); return vm_make_tuple(vm, k);
    case OP_TUPLE1:
    case OP_TUPLE2:
    case OP_TUPLE3:
        k = vm->sp - (vm->op - OP_TUPLE1 + 1);
        if (k < vm_fence(vm)) return vm_fail(vm, "stack underflow");
        return vm_make_tuple(vm, k);
    case OP_EMPTY_LIST: return vm_push(vm, vm_new(vm, V_LIST));
    case OP_EMPTY_DICT: return vm_push(vm, vm_new(vm, V_DICT));
    case OP_LIST:
    case OP_DICT: {
        PF_TRY(vm_pop_mark(vm, &k));
        x = vm_new(vm, vm->op == OP_LIST ? V_LIST : V_DICT);
        if (!x) return vm_oom(vm);
        if (vm->op == OP_DICT && (vm->sp - k) % 2) return vm_fail(vm, "DICT with an odd number of objects");
        for (int i = k; i < vm->sp; i++) PF_TRY(vm_append(vm, x, vm->stack[i]));
        vm->sp = k;
        return vm_push(vm, x);
    }
    case OP_APPEND:
        PF_TRY(vm_pop(vm, &y));
        PF_TRY(vm_top(vm, &x));
        if (x->type != V_LIST) return vm_fail(vm, "APPEND to %s, not a list", vtype_names[x->type]);
        return vm_append(vm, x, y);
    case OP_APPENDS:
        PF_TRY(vm_pop_mark(vm, &k));
        if (k <= vm_fence(vm)) return vm_fail(vm, "stack underflow");
        x = vm->stack[k - 1];
        if (x->type != V_LIST) return vm_fail(vm, "APPENDS to %s, not a list", vtype_names[x->type]);
        for (int i = k; i < vm->sp; i++) PF_TRY(vm_append(vm, x, vm->stack[i]));
        vm->sp = k;
        return PF_OK;
    case OP_SETITEM:
        if (vm->sp - 3 < vm_fence(vm)) return vm_fail(vm, "stack underflow");
        return vm_setitems(vm, vm->stack[vm->sp - 3], vm->sp - 2);
    case OP_SETITEMS:
        PF_TRY(vm_pop_mark(vm, &k));
        if (k <= vm_fence(vm)) return vm_fail(vm, "stack underflow");
        return vm_setitems(vm, vm->stack[k - 1], k);
    case OP_BINPUT: PF_TRY(vm_need(vm, 1, &a)); return vm_memo_put(vm, a[0]);
    case OP_LONG_BINPUT: PF_TRY(vm_need(vm, 4, &a)); return vm_memo_put(vm, rd32(a));
    case OP_MEMOIZE: return vm_memo_put(vm, vm->memo_len); /* protocol 4: index = len(memo) */
    case OP_BINGET: PF_TRY(vm_need(vm, 1, &a)); return vm_memo_get(vm, a[0]);
    case OP_LONG_BINGET: PF_TRY(vm_need(vm, 4, &a)); return vm_memo_get(vm, rd32(a));
    case OP_GLOBAL: {
        const char *m = NULL, *n = NULL;
        size_t lm = 0, ln = 0;
        PF_TRY(vm_line(vm, &m, &lm));
        PF_TRY(vm_line(vm, &n, &ln));
        return vm_global(vm, m, lm, n, ln);
    }
    case OP_STACK_GLOBAL:
        PF_TRY(vm_pop(vm, &y));
        PF_TRY(vm_pop(vm, &x));
        if (x->type != V_STR || y->type != V_STR) return vm_fail(vm, "STACK_GLOBAL needs two strings");
        return vm_global(vm, x->s, x->slen, y->s, y->slen);
    case OP_BINPERSID: return vm_persistent_load(vm);
    case OP_REDUCE: return vm_reduce(vm);
    case OP_BUILD:
        /* State set on the object: OrderedDict._metadata of a state dict, tensor attributes. Not needed. */
        PF_TRY(vm_pop(vm, &y));
        PF_TRY(vm_top(vm, &x));
        if (x->type != V_DICT && x->type != V_TENSOR) return vm_fail(vm, "BUILD on %s", vtype_names[x->type]);
        return PF_OK;
    default:
        if (vm->op >= 0x20 && vm->op < 0x7f) return vm_fail(vm, "unsupported pickle opcode '%c'", vm->op);
        return vm_fail(vm, "unsupported pickle opcode");
    }
}

/* ------------------------------------------------------------------------ */
/* tensors                                                                  */
/* ------------------------------------------------------------------------ */

static pf_status tz_add_tensor(pf_torchzip *z, const char *name, const tz_val *v) {
    pf_st_tensor *t = &z->t[z->n];
    t->name = pf_strdup(name);
    if (!t->name) return PF_ERR_OOM;
    z->n++;
    const tz_val *s = v->storage;
    t->dtype = s->dtype;
    t->ndim = v->ndim;
    size_t esize = pf_dtype_size(s->dtype);
    uint64_t numel = 1, last = (uint64_t)v->offset; /* last: storage index of the last element */
    bool empty = false, overflow = false;
    for (int d = 0; d < v->ndim; d++) {
        t->shape[d] = v->shape[d];
        uint64_t n = (uint64_t)v->shape[d];
        if (n == 0)
            empty = true;
        else if (numel > (uint64_t)INT64_MAX / n)
            overflow = true;
        else
            numel *= n;
        if (n > 1) {
            if ((uint64_t)v->stride[d] > (uint64_t)INT64_MAX / (n - 1))
                overflow = true;
            else if (last > (uint64_t)INT64_MAX - (n - 1) * (uint64_t)v->stride[d])
                overflow = true;
            else
                last += (n - 1) * (uint64_t)v->stride[d];
        }
    }
    if (empty) {
        t->data = s->sdata;
        t->nbytes = 0;
        return PF_OK;
    }
    if (overflow || numel > SIZE_MAX / esize)
        return pf_error(PF_ERR_FORMAT, "%s: tensor '%s': shape or strides too large", z->label, name);
    if (last >= s->snumel)
        return pf_error(PF_ERR_FORMAT,
                        "%s: tensor '%s': storage '%s' holds %" PRIu64 " elements, too small for the tensor (it reads "
                        "element %" PRIu64 ")",
                        z->label, name, s->s, s->snumel, last);
    t->nbytes = (size_t)numel * esize;
    const uint8_t *src = s->sdata;
    bool contiguous = true;
    int64_t expect = 1;
    for (int d = v->ndim - 1; d >= 0; d--) {
        if (v->shape[d] != 1 && v->stride[d] != expect) contiguous = false;
        expect *= v->shape[d];
    }
    const uint8_t *first = src + (size_t)v->offset * esize;
    if (contiguous && (uintptr_t)first % esize == 0) {
        t->data = first;
        return PF_OK;
    }
    /* Views saved as such (transposes, slices, expanded dims): gather into row-major order. */
    uint8_t *dst = pf_aligned_alloc(t->nbytes, name);
    if (!dst) return PF_ERR_OOM;
    z->copies[z->n - 1] = dst;
    int64_t idx[PF_ST_MAX_DIMS] = {0};
    uint64_t off = (uint64_t)v->offset;
    for (uint64_t e = 0; e < numel; e++) {
        memcpy(dst + e * esize, src + off * esize, esize);
        for (int d = v->ndim - 1; d >= 0; d--) {
            if (++idx[d] < v->shape[d]) {
                off += (uint64_t)v->stride[d];
                break;
            }
            off -= (uint64_t)(idx[d] - 1) * (uint64_t)v->stride[d];
            idx[d] = 0;
        }
    }
    t->data = dst;
    return PF_OK;
}

static int cmp_name_ix(const void *a, const void *b) {
    return strcmp(((const tz_name_ix *)a)->name, ((const tz_name_ix *)b)->name);
}

static pf_status tz_collect(pf_torchzip *z, const tz_val *root, const char *pkl) {
    if (root->type != V_DICT)
        return pf_error(PF_ERR_FORMAT, "%s: %s holds %s, not a state dict", z->label, pkl, vtype_names[root->type]);
    int n = root->n / 2;
    z->t = pf_calloc((size_t)n, sizeof *z->t, "torch tensors");
    z->copies = pf_calloc((size_t)n, sizeof *z->copies, "torch tensors");
    z->by_name = pf_calloc((size_t)n, sizeof *z->by_name, "torch tensors");
    if (!z->t || !z->copies || !z->by_name) return PF_ERR_OOM;
    for (int i = 0; i < n; i++) {
        const tz_val *k = root->items[2 * i], *v = root->items[2 * i + 1];
        if (k->type != V_STR || strlen(k->s) != k->slen)
            return pf_error(PF_ERR_FORMAT, "%s: %s: state dict key %d is not a string", z->label, pkl, i);
        if (v->type != V_TENSOR)
            return pf_error(PF_ERR_FORMAT, "%s: %s: '%s' is %s, not a tensor", z->label, pkl, k->s,
                            vtype_names[v->type]);
        PF_TRY(tz_add_tensor(z, k->s, v));
    }
    for (int i = 0; i < z->n; i++) z->by_name[i] = (tz_name_ix){z->t[i].name, i};
    qsort(z->by_name, (size_t)z->n, sizeof *z->by_name, cmp_name_ix);
    for (int i = 1; i < z->n; i++)
        if (!strcmp(z->by_name[i].name, z->by_name[i - 1].name))
            return pf_error(PF_ERR_FORMAT, "%s: %s: tensor '%s' appears twice", z->label, pkl, z->by_name[i].name);
    return PF_OK;
}

static pf_status tz_load(pf_torchzip *z) {
    PF_TRY(zip_read_directory(z));
    qsort(z->entries, (size_t)z->n_entries, sizeof *z->entries, cmp_entry);
    for (int i = 1; i < z->n_entries; i++)
        if (!strcmp(z->entries[i].name, z->entries[i - 1].name))
            return pf_error(PF_ERR_FORMAT, "%s: zip entry '%s' appears twice", z->label, z->entries[i].name);
    const tz_entry *pkl = NULL;
    for (int i = 0; i < z->n_entries && !pkl; i++) {
        const char *nm = z->entries[i].name, *slash = strchr(nm, '/');
        if (slash && slash > nm && !strcmp(slash, "/data.pkl")) pkl = &z->entries[i];
    }
    if (!pkl)
        return pf_error(PF_ERR_FORMAT, "%s: no '<archive>/data.pkl' entry: a zip, but not written by torch.save",
                        z->label);
    PF_TRY(zip_entry_stored(z, pkl));
    size_t lp = (size_t)(strchr(pkl->name, '/') - pkl->name) + 1;
    char *prefix = pf_malloc(lp + 1, "torch archive prefix");
    if (!prefix) return PF_ERR_OOM;
    memcpy(prefix, pkl->name, lp);
    prefix[lp] = '\0';
    const tz_entry *bo = zip_find(z, prefix, "", "byteorder");
    if (bo && zip_entry_stored(z, bo) == PF_OK && bo->csize >= 3 && !memcmp(bo->data, "big", 3)) {
        free(prefix);
        return pf_error(PF_ERR_UNSUPPORTED, "%s: saved on a big-endian machine; not supported", z->label);
    }
    tz_vm vm = {.z = z,
                .prefix = prefix,
                .pkl_name = pkl->name,
                .p0 = pkl->data,
                .p = pkl->data,
                .end = pkl->data + pkl->csize};
    pf_status rc = PF_OK;
    bool stop = false;
    while (rc == PF_OK && !stop) {
        if (vm.p == vm.end) {
            vm.op_off = (size_t)(vm.p - vm.p0);
            vm.op = -1;
            rc = vm_fail(&vm, "truncated: the pickle ends without STOP");
            break;
        }
        rc = vm_step(&vm, &stop);
    }
    if (rc == PF_OK) {
        tz_val *root = NULL;
        rc = vm_pop(&vm, &root);
        if (rc == PF_OK) rc = tz_collect(z, root, pkl->name);
    }
    vm_free(&vm);
    free(prefix);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* public                                                                   */
/* ------------------------------------------------------------------------ */

void pf_tz_close(pf_torchzip *z) {
    if (!z) return;
    for (int i = 0; i < z->n_entries; i++) free(z->entries[i].name);
    for (int i = 0; i < z->n; i++) {
        free((char *)z->t[i].name);
        if (z->copies) pf_aligned_free(z->copies[i]);
    }
    free(z->entries);
    free(z->t);
    free(z->copies);
    free(z->by_name);
    pf_mapfile_close(&z->map);
    free(z->label);
    free(z);
}

static pf_status tz_new(const char *label, pf_torchzip **out) {
    pf_torchzip *z = pf_calloc(1, sizeof *z, "torch zip");
    if (!z) return PF_ERR_OOM;
    z->label = pf_strdup(label ? label : "(memory)");
    if (!z->label) {
        free(z);
        return PF_ERR_OOM;
    }
    *out = z;
    return PF_OK;
}

pf_status pf_tz_open_memory(const void *data, size_t size, const char *label, pf_torchzip **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_tz_open_memory: NULL out");
    *out = NULL;
    if (!data && size) return pf_error(PF_ERR_INVALID_ARG, "pf_tz_open_memory: NULL data");
    pf_torchzip *z;
    PF_TRY(tz_new(label, &z));
    z->base = data;
    z->size = size;
    pf_status rc = tz_load(z);
    if (rc != PF_OK) {
        pf_tz_close(z);
        return rc;
    }
    *out = z;
    return PF_OK;
}

pf_status pf_tz_open(const char *path, pf_torchzip **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_tz_open: NULL out");
    *out = NULL;
    if (!path) return pf_error(PF_ERR_INVALID_ARG, "pf_tz_open: NULL path");
    pf_torchzip *z;
    PF_TRY(tz_new(path, &z));
    pf_status rc = pf_mapfile_open(path, &z->map);
    if (rc == PF_OK) {
        z->base = z->map.data;
        z->size = z->map.size;
        rc = tz_load(z);
    }
    if (rc != PF_OK) {
        pf_tz_close(z);
        return rc;
    }
    *out = z;
    return PF_OK;
}

const char *pf_tz_path(const pf_torchzip *z) { return z->label; }
int pf_tz_count(const pf_torchzip *z) { return z->n; }
const pf_st_tensor *pf_tz_at(const pf_torchzip *z, int i) { return i >= 0 && i < z->n ? &z->t[i] : NULL; }

const pf_st_tensor *pf_tz_find(const pf_torchzip *z, const char *name) {
    if (!name) return NULL;
    int lo = 0, hi = z->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(z->by_name[mid].name, name);
        if (c == 0) return &z->t[z->by_name[mid].idx];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}
