/* Byte strings, id lists and UTF-8 helpers for the tokenizers. */
#include "tok_internal.h"

/* ---- byte string ---- */

pf_status pf_tok_buf_reserve(pf_tok_buf *b, size_t extra) {
    if (extra > SIZE_MAX / 2 - b->n) return pf_error(PF_ERR_OOM, "tokenizer: text too large");
    size_t need = b->n + extra + 1; /* + NUL */
    if (need <= b->cap) return PF_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *p = pf_realloc(b->p, cap, "tokenizer text");
    if (!p) return PF_ERR_OOM;
    b->p = p;
    b->cap = cap;
    return PF_OK;
}

pf_status pf_tok_buf_put(pf_tok_buf *b, const void *s, size_t n) {
    PF_TRY(pf_tok_buf_reserve(b, n));
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return PF_OK;
}

pf_status pf_tok_buf_put_cp(pf_tok_buf *b, int32_t cp) {
    char u[4];
    int n;
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) cp = 0xFFFD;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return pf_tok_buf_put(b, u, (size_t)n);
}

void pf_tok_buf_clear(pf_tok_buf *b) {
    b->n = 0;
    if (b->p) b->p[0] = '\0';
}

void pf_tok_buf_free(pf_tok_buf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ---- id list ---- */

pf_status pf_tok_ids_push(pf_tok_ids *a, int32_t id) { return pf_tok_ids_append(a, &id, 1); }

pf_status pf_tok_ids_append(pf_tok_ids *a, const int32_t *ids, int n) {
    if (n <= 0) return PF_OK;
    if (n > INT32_MAX / 2 - a->n) return pf_error(PF_ERR_OOM, "tokenizer: too many tokens");
    if (a->n + n > a->cap) {
        int cap = a->cap ? a->cap : 64;
        while (cap < a->n + n) cap *= 2;
        int32_t *v = pf_realloc(a->v, (size_t)cap * sizeof *v, "token ids");
        if (!v) return PF_ERR_OOM;
        a->v = v;
        a->cap = cap;
    }
    memcpy(a->v + a->n, ids, (size_t)n * sizeof *ids);
    a->n += n;
    return PF_OK;
}

void pf_tok_ids_free(pf_tok_ids *a) {
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* ---- UTF-8 ---- */

int pf_tok_utf8_len(unsigned char c) {
    if (c < 0x80) return 1;
    if (c < 0xE0) return 2;
    if (c < 0xF0) return 3;
    return 4;
}

int pf_tok_utf8_next(const char *s, size_t n, int32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0) {
        *cp = 0;
        return 1;
    }
    int len = pf_tok_utf8_len(u[0]);
    if ((size_t)len > n) { /* cannot happen on sanitized text; stay safe */
        *cp = 0xFFFD;
        return 1;
    }
    switch (len) {
    case 1: *cp = u[0]; break;
    case 2: *cp = ((int32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F); break;
    case 3: *cp = ((int32_t)(u[0] & 0x0F) << 12) | ((int32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F); break;
    default:
        *cp = ((int32_t)(u[0] & 0x07) << 18) | ((int32_t)(u[1] & 0x3F) << 12) | ((int32_t)(u[2] & 0x3F) << 6) |
              (u[3] & 0x3F);
    }
    return len;
}

/* Length of the well-formed sequence at u[0..n), or -(length of the maximal
 * ill-formed subpart) (Unicode 15 §3.9, table 3-7). */
static int utf8_check(const unsigned char *u, size_t n) {
    unsigned char c = u[0];
    if (c < 0x80) return 1;
    int len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return -1;
    }
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) return -i;
        unsigned char d = u[i];
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (d < l || d > h) return -i;
    }
    return len;
}

pf_status pf_tok_utf8_sanitize(const char *s, size_t n, pf_tok_buf *out) {
    const unsigned char *u = (const unsigned char *)s;
    PF_TRY(pf_tok_buf_reserve(out, n));
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        int k;
        while (j < n && (k = utf8_check(u + j, n - j)) > 0) j += (size_t)k;
        PF_TRY(pf_tok_buf_put(out, s + i, j - i));
        if (j >= n) break;
        k = -utf8_check(u + j, n - j);
        PF_TRY(pf_tok_buf_put(out, "\xEF\xBF\xBD", 3));
        i = j + (size_t)k;
    }
    if (!out->p) PF_TRY(pf_tok_buf_reserve(out, 0));
    return PF_OK;
}

bool pf_tok_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        int k = utf8_check(u + i, n - i);
        if (k < 0) return false;
        i += (size_t)k;
    }
    return true;
}

bool pf_tok_is_white_space(int32_t c) {
    if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
    if (c < 0x85) return false;
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

bool pf_tok_py_isspace(int32_t c) { return (c >= 0x1C && c <= 0x1F) || pf_tok_is_white_space(c); }
