/*
 * Helpers for tests that write files at run time: temporary folders, raw
 * files, safetensors headers written by hand, stored zip archives and pickle
 * byte code. Header-only so each test executable stays one file.
 */
#ifndef PF_TEST_FILES_H
#define PF_TEST_FILES_H

#include "pf_common.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh folder under $TMPDIR (or /tmp); NULL on failure. Free with pf_test_rmtree + free. */
static inline char *pf_test_tmpdir(const char *tag) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    size_t n = strlen(base) + strlen(tag) + 32;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s/pflow-%s-XXXXXX", base, tag);
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

static inline int pf_test_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Remove a folder and everything in it, then free the string. */
static inline void pf_test_rmtree(char *dir) {
    if (!dir) return;
    nftw(dir, pf_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* snprintf into buf, returning buf (paths of test files). */
static inline const char *PF_PRINTF(3, 4) pf_test_fmt(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return buf;
}

static inline bool pf_test_write(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static inline bool pf_test_write_str(const char *path, const char *s) { return pf_test_write(path, s, strlen(s)); }

/* ---- growable byte buffer ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} pf_tbuf;

static inline void tb_put(pf_tbuf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) abort(); /* test code: out of memory ends the test run */
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}
static inline void tb_u8(pf_tbuf *b, unsigned v) { uint8_t x = (uint8_t)v; tb_put(b, &x, 1); }
static inline void tb_u16(pf_tbuf *b, unsigned v) { tb_u8(b, v & 0xff); tb_u8(b, (v >> 8) & 0xff); }
static inline void tb_u32(pf_tbuf *b, uint32_t v) { tb_u16(b, v & 0xffff); tb_u16(b, v >> 16); }
static inline void tb_u64(pf_tbuf *b, uint64_t v) { tb_u32(b, (uint32_t)v); tb_u32(b, (uint32_t)(v >> 32)); }
static inline void tb_str(pf_tbuf *b, const char *s) { tb_put(b, s, strlen(s)); }
static inline void tb_free(pf_tbuf *b) { free(b->p); memset(b, 0, sizeof *b); }

/* ---- safetensors written by hand: u64 header length, the header as given, then data ---- */

static inline bool pf_test_write_st_raw(const char *path, const char *header, const void *data, size_t n_data) {
    pf_tbuf b = {0};
    tb_u64(&b, strlen(header));
    tb_str(&b, header);
    tb_put(&b, data, n_data);
    bool ok = pf_test_write(path, b.p, b.n);
    tb_free(&b);
    return ok;
}

/* ---- zip archives (stored entries unless method says otherwise) ---- */

typedef struct {
    const char *name;
    const void *data;
    size_t n;
    int method; /* 0 stored; 8 claims deflate (the bytes are not really compressed) */
} pf_tzip_entry;

static inline uint32_t pf_test_crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* Build a zip in memory; zip64 adds the ZIP64 end records as torch writes them. */
static inline void pf_test_zip(pf_tbuf *b, const pf_tzip_entry *e, int n, bool zip64) {
    uint32_t *offs = calloc((size_t)n + 1, sizeof *offs);
    if (!offs) abort();
    for (int i = 0; i < n; i++) {
        offs[i] = (uint32_t)b->n;
        tb_u32(b, 0x04034b50u);
        tb_u16(b, 20);
        tb_u16(b, 0);
        tb_u16(b, (unsigned)e[i].method);
        tb_u16(b, 0);
        tb_u16(b, 0);
        tb_u32(b, pf_test_crc32(e[i].data, e[i].n));
        tb_u32(b, (uint32_t)e[i].n);
        tb_u32(b, (uint32_t)e[i].n);
        tb_u16(b, (unsigned)strlen(e[i].name));
        tb_u16(b, 0);
        tb_str(b, e[i].name);
        tb_put(b, e[i].data, e[i].n);
    }
    size_t cd = b->n;
    for (int i = 0; i < n; i++) {
        tb_u32(b, 0x02014b50u);
        tb_u16(b, 20);
        tb_u16(b, 20);
        tb_u16(b, 0);
        tb_u16(b, (unsigned)e[i].method);
        tb_u16(b, 0);
        tb_u16(b, 0);
        tb_u32(b, pf_test_crc32(e[i].data, e[i].n));
        tb_u32(b, (uint32_t)e[i].n);
        tb_u32(b, (uint32_t)e[i].n);
        tb_u16(b, (unsigned)strlen(e[i].name));
        tb_u16(b, 0);
        tb_u16(b, 0);
        tb_u16(b, 0);
        tb_u16(b, 0);
        tb_u32(b, 0);
        tb_u32(b, offs[i]);
        tb_str(b, e[i].name);
    }
    size_t cd_size = b->n - cd;
    if (zip64) {
        size_t z64 = b->n;
        tb_u32(b, 0x06064b50u);
        tb_u64(b, 44);
        tb_u16(b, 45);
        tb_u16(b, 45);
        tb_u32(b, 0);
        tb_u32(b, 0);
        tb_u64(b, (uint64_t)n);
        tb_u64(b, (uint64_t)n);
        tb_u64(b, cd_size);
        tb_u64(b, cd);
        tb_u32(b, 0x07064b50u);
        tb_u32(b, 0);
        tb_u64(b, z64);
        tb_u32(b, 1);
    }
    tb_u32(b, 0x06054b50u);
    tb_u16(b, 0);
    tb_u16(b, 0);
    tb_u16(b, zip64 ? 0xffff : (unsigned)n);
    tb_u16(b, zip64 ? 0xffff : (unsigned)n);
    tb_u32(b, zip64 ? 0xffffffffu : (uint32_t)cd_size);
    tb_u32(b, zip64 ? 0xffffffffu : (uint32_t)cd);
    tb_u16(b, 0);
    free(offs);
}

/* ---- pickle byte code (protocol 2, as torch.save writes it) ---- */

static inline void pk_op(pf_tbuf *b, unsigned op) { tb_u8(b, op); }
static inline void pk_global(pf_tbuf *b, const char *module, const char *name) {
    tb_u8(b, 'c');
    tb_str(b, module);
    tb_u8(b, '\n');
    tb_str(b, name);
    tb_u8(b, '\n');
}
static inline void pk_str(pf_tbuf *b, const char *s) {
    tb_u8(b, 'X');
    tb_u32(b, (uint32_t)strlen(s));
    tb_str(b, s);
}
static inline void pk_int(pf_tbuf *b, int64_t v) {
    if (v >= 0 && v < 256) {
        tb_u8(b, 'K');
        tb_u8(b, (unsigned)v);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        tb_u8(b, 'J');
        tb_u32(b, (uint32_t)(int32_t)v);
    } else {
        tb_u8(b, 0x8a); /* LONG1, 8 bytes two's complement */
        tb_u8(b, 8);
        tb_u64(b, (uint64_t)v);
    }
}

/* One tensor of a hand-written state dict. */
typedef struct {
    const char *name;
    const char *storage; /* "FloatStorage", ... */
    const char *key;     /* storage entry data/<key> */
    int64_t numel;       /* storage elements */
    int64_t offset;
    int ndim;
    int64_t shape[8], stride[8];
} pf_tpk_tensor;

/* The pickle torch.save writes for an OrderedDict of these tensors (without the STOP when
 * stop is false, so tests can append or corrupt the tail). */
static inline void pk_state_dict(pf_tbuf *b, const pf_tpk_tensor *t, int n, bool stop) {
    tb_u8(b, 0x80);
    tb_u8(b, 2);
    pk_global(b, "collections", "OrderedDict");
    pk_op(b, ')');
    pk_op(b, 'R');
    pk_op(b, '(');
    for (int i = 0; i < n; i++) {
        pk_str(b, t[i].name);
        pk_global(b, "torch._utils", "_rebuild_tensor_v2");
        pk_op(b, '(');
        pk_op(b, '(');
        pk_str(b, "storage");
        pk_global(b, "torch", t[i].storage);
        pk_str(b, t[i].key);
        pk_str(b, "cpu");
        pk_int(b, t[i].numel);
        pk_op(b, 't');
        pk_op(b, 'Q');
        pk_int(b, t[i].offset);
        pk_op(b, '(');
        for (int d = 0; d < t[i].ndim; d++) pk_int(b, t[i].shape[d]);
        pk_op(b, 't');
        pk_op(b, '(');
        for (int d = 0; d < t[i].ndim; d++) pk_int(b, t[i].stride[d]);
        pk_op(b, 't');
        pk_op(b, 0x89);
        pk_global(b, "collections", "OrderedDict");
        pk_op(b, ')');
        pk_op(b, 'R');
        pk_op(b, 't');
        pk_op(b, 'R');
    }
    pk_op(b, 'u');
    if (stop) pk_op(b, '.');
}

#endif /* PF_TEST_FILES_H */
