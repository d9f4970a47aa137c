/*
 * ftfy's fix_encoding (ftfy 6.3): repair text that was UTF-8 decoded with a
 * single-byte encoding ("cafÃ©" -> "café"). Called by fix_text for every
 * segment (tok_clip_clean.c).
 *
 * One step, repeated until nothing changes:
 *   - ASCII text, or text the is_bad() heuristic does not flag, is left alone;
 *   - for each encoding ftfy knows (latin-1, sloppy windows-125x, ...), if the
 *     text can be encoded in it: encode, put back 0xA0 bytes that became
 *     spaces (restore_byte_a0), mark bytes lost by a sloppy codec
 *     (replace_lossy_sequences), and if the bytes decode as UTF-8 (or
 *     CESU-8/Java variants when 0xED/0xC0 occur), that is the fix;
 *   - else fix UTF-8-looking runs inside the text on their own
 *     (decode_inconsistent_utf8);
 *   - else Latin-1 text with C1 controls is re-read as Windows-1252;
 *   - else C1 controls are mapped to Windows-1252 (fix_c1_controls).
 * The heuristic and the character classes follow ftfy.badness and
 * ftfy.chardata (tables in tok_ftfy_tables.c).
 */
#include "tok_clip_internal.h"
#include "tok_ftfy_tables.h"

#include <utf8proc.h>

#define FIX_ENCODING_MAX_STEPS 64

static uint32_t cls(int32_t c) {
    int lo = 0, hi = pf_ftfy_n_classes - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if ((int32_t)pf_ftfy_classes[mid].cp == c) return pf_ftfy_classes[mid].mask;
        if ((int32_t)pf_ftfy_classes[mid].cp < c)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

/* ---- is_bad(): does BADNESS_RE match anywhere ---- */

typedef struct txt {
    const int32_t *v;
    size_t n;
} txt;

static int32_t at(const txt *t, size_t i) { return i < t->n ? t->v[i] : -1; }
static bool has(const txt *t, size_t i, uint32_t mask) { return i < t->n && (cls(t->v[i]) & mask); }
static bool one_of(int32_t c, const int32_t *set, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (set[k] == c) return true;
    return false;
}
#define ONE_OF(c, ...) one_of((c), (const int32_t[]){__VA_ARGS__}, sizeof((const int32_t[]){__VA_ARGS__}) / 4)

static bool lower_az(int32_t c) { return c >= 'a' && c <= 'z'; }
static bool alpha_az(int32_t c) { return lower_az(c) || (c >= 'A' && c <= 'Z'); }
static bool py_word(int32_t c) { /* Python re \w */
    if (c < 0) return false;
    utf8proc_category_t k = utf8proc_category(c);
    return c == '_' || (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

#define ACCENTED (FT_LOWER_ACC | FT_UPPER_ACC)
#define PUNCT (FT_START | FT_END)

static bool bad_at(const txt *t, size_t i) {
    int32_t c = t->v[i], d = at(t, i + 1), e = at(t, i + 2);
    if (has(t, i, FT_C1)) return true;
    if (has(t, i, FT_BAD | ACCENTED | FT_BOX | PUNCT | FT_CURRENCY | FT_NUMERIC | FT_LAW) && has(t, i + 1, FT_BAD))
        return true;
    if (alpha_az(c) && has(t, i + 1, FT_LOWER_COMMON | FT_UPPER_COMMON) && has(t, i + 2, FT_BAD)) return true;
    if (has(t, i, FT_BAD) && has(t, i + 1, ACCENTED | FT_BOX | PUNCT | FT_CURRENCY | FT_NUMERIC | FT_LAW)) return true;
    if (has(t, i, FT_LOWER_ACC | FT_LOWER_COMMON | FT_BOX | FT_END | FT_CURRENCY | FT_NUMERIC) &&
        has(t, i + 1, FT_UPPER_ACC))
        return true;
    if (has(t, i, FT_BOX | FT_END | FT_CURRENCY | FT_NUMERIC) && has(t, i + 1, FT_LOWER_ACC)) return true;
    if (has(t, i, FT_LOWER_ACC | FT_BOX | FT_END) && has(t, i + 1, FT_CURRENCY)) return true;
    if (pf_tok_py_isspace(c) && has(t, i + 1, FT_UPPER_ACC) && has(t, i + 2, FT_CURRENCY)) return true;
    if (has(t, i, FT_UPPER_ACC | FT_BOX) && has(t, i + 1, FT_NUMERIC | FT_LAW)) return true;
    if (has(t, i, ACCENTED | FT_BOX | FT_CURRENCY | FT_END) && has(t, i + 1, FT_START) && has(t, i + 2, FT_NUMERIC))
        return true;
    if (has(t, i, ACCENTED | FT_CURRENCY | FT_NUMERIC | FT_BOX | FT_LAW) && has(t, i + 1, FT_END) &&
        has(t, i + 2, FT_START))
        return true;
    if (has(t, i, FT_CURRENCY | FT_NUMERIC | FT_BOX) && has(t, i + 1, FT_START)) return true;
    if (lower_az(c) && has(t, i + 1, FT_UPPER_ACC) && has(t, i + 2, FT_START | FT_CURRENCY)) return true;
    if (has(t, i, FT_BOX) && has(t, i + 1, FT_KAOMOJI)) return true;
    if (has(t, i, ACCENTED | FT_CURRENCY | FT_NUMERIC | PUNCT | FT_LAW) && has(t, i + 1, FT_BOX)) return true;
    if (has(t, i, FT_BOX) && has(t, i + 1, FT_END)) return true;
    if (has(t, i, ACCENTED) && has(t, i + 1, PUNCT) && py_word(e)) return true;
    if ((c == 0x152 || c == 0x153) && d >= 0 && !alpha_az(d)) return true; /* [Œœ][^A-Za-z] */
    if (has(t, i, FT_UPPER_ACC) && d == 0xB0) return true;
    if (ONE_OF(c, 0xC2, 0xC3, 0xCE, 0xD0) && d >= 0 &&
        (ONE_OF(d, 0x20AC, 0x153, 0x160, 0x161, 0xA2, 0xA3, 0x178, 0x17E, 0xA0, 0xAD, 0xAE, 0xA9, 0xB0, 0xB7, 0xBB,
                0x2013, 0x2014, 0xB4) ||
         has(t, i + 1, PUNCT)))
        return true;
    if (c == 0xD7 && (d == 0xB2 || d == 0xB3)) return true;
    if (c == 0xD8 || c == 0xD9) { /* Arabic in Windows-1252: four characters */
        uint32_t m = FT_COMMON | FT_CURRENCY | FT_BAD | FT_NUMERIC | FT_START;
        bool x1 = has(t, i + 1, m) || ONE_OF(d, 0x178, 0x160, 0xAE, 0xB0, 0xB5, 0xBB);
        int32_t g = at(t, i + 3);
        bool x3 = has(t, i + 3, m) || ONE_OF(g, 0x178, 0x160, 0xAE, 0xB0, 0xB5, 0xBB);
        if (x1 && (e == 0xD8 || e == 0xD9) && x3) return true;
    }
    if (c == 0xE0 && ONE_OF(d, 0xB2, 0xB5, 0xB9, 0xBC, 0xBD, 0xBE)) return true;
    if (c == 0x221A && ONE_OF(d, 0xB1, 0x2202, 0x2020, 0x2260, 0xAE, 0x2122, 0xB4, 0x2264, 0x2265, 0xA5, 0xB5, 0xF8))
        return true;
    if (c == 0x2248 && (d == 0xB0 || d == 0xA2)) return true;
    if (c == 0x201A && d == 0xC4 && ONE_OF(e, 0xEC, 0xEE, 0xEF, 0xF2, 0xF4, 0xFA, 0xF9, 0xFB, 0x2020, 0xB0, 0xA2, 0x3C0))
        return true;
    if (c == 0x201A && (d == 0xE2 || d == 0xF3) && ONE_OF(e, 0xE0, 0xE4, 0xB0, 0xEA)) return true;
    if (c == 0x432 && d == 0x402) return true; /* вЂ */
    if (ONE_OF(c, 0x412, 0x413, 0x420, 0x421) &&
        (has(t, i + 1, FT_C1 | FT_BAD | PUNCT | FT_CURRENCY) || d == 0xB0 || d == 0xB5) &&
        ONE_OF(e, 0x412, 0x413, 0x420, 0x421))
        return true;
    if (c == 0x413 && d == 0x45E && e == 0x412 && at(t, i + 3) == 0x402 && at(t, i + 4) == 0x412 && i + 5 < t->n &&
        t->v[i + 5] != '\n' && (alpha_az(at(t, i + 6)) || at(t, i + 6) == ' '))
        return true; /* ГўВЂВ.[A-Za-z ] */
    if (c == 0xC3 && (d == 0xA0 || d == 0xA1)) return true;
    if (lower_az(c) && (((d == 0xC3 || d == 0xC2) && e == ' ') ||
                        (pf_tok_py_isspace(d) && (e == 0xC3 || e == 0xC2) && at(t, i + 3) == ' ')))
        return true;
    if (i == 0 && (c == 0xC3 || c == 0xC2) && d == ' ') return true;
    if ((lower_az(c) || ONE_OF(c, '.', ',', '?', '!') || has(t, i, FT_END)) && d == 0xC2 &&
        (e == ' ' || has(t, i + 2, PUNCT)))
        return true;
    if (c == 0x3B2 && d == 0x20AC && ONE_OF(e, 0x2122, 0xA0, 0x386, 0xAD, 0xAE, 0xB0)) return true;
    if (ONE_OF(c, 0x392, 0x393, 0x39E, 0x39F) && (has(t, i + 1, FT_C1 | FT_BAD | PUNCT | FT_CURRENCY) || d == 0xB0) &&
        ONE_OF(e, 0x392, 0x393, 0x39E, 0x39F))
        return true;
    if (c == 0x101 && d == 0x20AC) return true; /* ā€ */
    return false;
}

static bool is_bad(const int32_t *v, size_t n) {
    txt t = {v, n};
    for (size_t i = 0; i < n; i++)
        if (bad_at(&t, i)) return true;
    return false;
}

/* ---- single-byte encodings ---- */

static int encode_char(const pf_ftfy_encoding *e, int32_t c) {
    if (e->sloppy && c == 0xFFFD) return 0x1A;
    if (c >= 0 && c < 0x80) return e->sloppy && c == 0x1A ? -1 : c;
    for (int b = 0; b < 128; b++)
        if (e->hi[b] == c) return 0x80 + b;
    return -1;
}

static bool encode(const pf_ftfy_encoding *e, const int32_t *v, size_t n, pf_tok_buf *out) {
    pf_tok_buf_clear(out);
    for (size_t i = 0; i < n; i++) {
        int b = encode_char(e, v[i]);
        if (b < 0) return false;
        char ch = (char)b;
        if (pf_tok_buf_put(out, &ch, 1) != PF_OK) return false;
    }
    return true;
}

/* ---- byte-level transcoders (restore_byte_a0, replace_lossy_sequences) ---- */

static bool cont_no85_a0(uint8_t b) { return (b >= 0x80 && b <= 0x84) || (b >= 0x86 && b <= 0x9F) || (b >= 0xA1 && b <= 0xBF); }
static bool cont(uint8_t b) { return b >= 0x80 && b <= 0xBF; }

/* Length of an ALTERED_UTF8_RE match at p[0..n), 0 if none. */
static size_t altered_utf8(const uint8_t *p, size_t n) {
    if (n >= 2 && ONE_OF(p[0], 0xC2, 0xC3, 0xC5, 0xCE, 0xD0, 0xD9) && p[1] == ' ') return 2;
    if (n >= 3 && (p[0] == 0xE2 || p[0] == 0xE3) && p[1] == ' ' && cont_no85_a0(p[2])) return 3;
    if (n >= 3 && p[0] >= 0xE0 && p[0] <= 0xE3 && cont_no85_a0(p[1]) && p[2] == ' ') return 3;
    if (n >= 4 && p[0] == 0xF0 && p[1] == ' ' && cont(p[2]) && cont(p[3])) return 4;
    if (n >= 4 && p[0] == 0xF0 && cont(p[1]) && p[2] == ' ' && cont(p[3])) return 4;
    if (n >= 4 && p[0] == 0xF0 && cont(p[1]) && cont(p[2]) && p[3] == ' ') return 4;
    return 0;
}

static bool starts(const uint8_t *p, size_t n, const char *s) {
    size_t l = strlen(s);
    return n >= l && !memcmp(p, s, l);
}

static pf_status restore_byte_a0(pf_tok_buf *b) {
    pf_tok_buf t = {0};
    const uint8_t *p = (const uint8_t *)b->p;
    size_t n = b->n;
    pf_status st = PF_OK;
    /* A_GRAVE_WORD_RE: "\xc3 " not followed by " ", "quele", "quela", "quilo", "s " -> "\xc3\xa0 " */
    for (size_t i = 0; i < n && st == PF_OK;) {
        if (p[i] == 0xC3 && i + 1 < n && p[i + 1] == ' ' && !starts(p + i + 2, n - i - 2, " ") &&
            !starts(p + i + 2, n - i - 2, "quele") && !starts(p + i + 2, n - i - 2, "quela") &&
            !starts(p + i + 2, n - i - 2, "quilo") && !starts(p + i + 2, n - i - 2, "s ")) {
            st = pf_tok_buf_put(&t, "\xC3\xA0 ", 3);
            i += 2;
        } else {
            st = pf_tok_buf_put(&t, p + i, 1);
            i++;
        }
    }
    /* ALTERED_UTF8_RE matches get their spaces turned back into 0xA0 */
    pf_tok_buf_clear(b);
    p = (const uint8_t *)t.p;
    n = t.n;
    for (size_t i = 0; i < n && st == PF_OK;) {
        size_t m = altered_utf8(p + i, n - i);
        if (m) {
            for (size_t k = 0; k < m && st == PF_OK; k++) st = pf_tok_buf_put(b, p[i + k] == ' ' ? "\xA0" : (const char *)p + i + k, 1);
            i += m;
        } else {
            st = pf_tok_buf_put(b, p + i, 1);
            i++;
        }
    }
    pf_tok_buf_free(&t);
    return st;
}

static bool sub1a(uint8_t b) { return b == 0x1A; }
static bool sub1a_q(uint8_t b) { return b == 0x1A || b == '?'; }
static bool sub1a_c(uint8_t b) { return b == 0x1A || cont(b); }
static bool sub1a_qc(uint8_t b) { return b == 0x1A || b == '?' || cont(b); }

/* Length of a LOSSY_UTF8_RE match at p[0..n), 0 if none. */
static size_t lossy_utf8(const uint8_t *p, size_t n) {
    uint8_t a = p[0];
    if (n >= 2 && a >= 0xC2 && a <= 0xDF && sub1a(p[1])) return 2;
    if (n >= 2 && (a == 0xC2 || a == 0xC3) && p[1] == '?') return 2;
    if (n >= 6 && a == 0xED && p[1] >= 0xA0 && p[1] <= 0xAF && sub1a_q(p[2]) && p[3] == 0xED && p[4] >= 0xB0 &&
        p[4] <= 0xBF && sub1a_qc(p[5]))
        return 6;
    if (n >= 6 && a == 0xED && p[1] >= 0xA0 && p[1] <= 0xAF && sub1a_qc(p[2]) && p[3] == 0xED && p[4] >= 0xB0 &&
        p[4] <= 0xBF && sub1a_q(p[5]))
        return 6;
    if (n >= 3 && a >= 0xE0 && a <= 0xEF && sub1a_q(p[1]) && sub1a_c(p[2])) return 3;
    if (n >= 3 && a >= 0xE0 && a <= 0xEF && sub1a_c(p[1]) && sub1a_q(p[2])) return 3;
    if (n >= 4 && a >= 0xF0 && a <= 0xF4) {
        if (sub1a_q(p[1]) && sub1a_c(p[2]) && sub1a_c(p[3])) return 4;
        if (sub1a_c(p[1]) && sub1a_q(p[2]) && sub1a_c(p[3])) return 4;
        if (sub1a_c(p[1]) && sub1a_c(p[2]) && sub1a_q(p[3])) return 4;
    }
    if (a == 0x1A) return 1;
    return 0;
}

static pf_status replace_lossy_sequences(pf_tok_buf *b) {
    pf_tok_buf t = {0};
    pf_status st = PF_OK;
    const uint8_t *p = (const uint8_t *)b->p;
    for (size_t i = 0; i < b->n && st == PF_OK;) {
        size_t m = lossy_utf8(p + i, b->n - i);
        st = m ? pf_tok_buf_put(&t, "\xEF\xBF\xBD", 3) : pf_tok_buf_put(&t, p + i, 1);
        i += m ? m : 1;
    }
    if (st == PF_OK) {
        pf_tok_buf_clear(b);
        st = pf_tok_buf_put(b, t.p ? t.p : "", t.n);
    }
    pf_tok_buf_free(&t);
    return st;
}

/* Strict UTF-8 (Python's decoder), or ftfy's "utf-8-variants" which also
 * reads CESU-8 surrogate pairs and Java's C0 80 for U+0000. */
static bool decode_utf8(const pf_tok_buf *b, bool variants, pf_tok_cps *out) {
    const uint8_t *p = (const uint8_t *)b->p;
    size_t n = b->n, i = 0;
    out->n = 0;
    while (i < n) {
        if (variants && i + 1 < n && p[i] == 0xC0 && p[i + 1] == 0x80) {
            if (pf_tok_cps_push(out, 0) != PF_OK) return false;
            i += 2;
            continue;
        }
        if (variants && i + 5 < n && p[i] == 0xED && p[i + 1] >= 0xA0 && p[i + 1] <= 0xAF && cont(p[i + 2]) &&
            p[i + 3] == 0xED && p[i + 4] >= 0xB0 && p[i + 4] <= 0xBF && cont(p[i + 5])) {
            int32_t hi = 0xD000 | (p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F);
            int32_t lo = 0xD000 | (p[i + 4] & 0x3F) << 6 | (p[i + 5] & 0x3F);
            if (pf_tok_cps_push(out, 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)) != PF_OK) return false;
            i += 6;
            continue;
        }
        size_t k = i;
        while (k < n && p[k] < 0x80) k++;
        if (k == i) {
            int l = pf_tok_utf8_len(p[i]);
            if (p[i] < 0xC2 || p[i] > 0xF4 || (size_t)l > n - i || !pf_tok_utf8_valid((const char *)p + i, (size_t)l))
                return false;
            k = i + (size_t)l;
        }
        if (pf_tok_cps_from_utf8(out, (const char *)p + i, k - i) != PF_OK) return false;
        i = k;
    }
    return true;
}

/* ---- UTF8_DETECTOR_RE and decode_inconsistent_utf8 ---- */

/* Length of a (first_of_2 cont | first_of_3 cont{2} | first_of_4 cont{3})+ match at v[i]. */
static size_t utf8_run(const int32_t *v, size_t n, size_t i) {
    size_t j = i;
    for (;;) {
        txt t = {v, n};
        if (has(&t, j, FT_U8_FIRST2) && has(&t, j + 1, FT_U8_CONT))
            j += 2;
        else if (has(&t, j, FT_U8_FIRST3) && has(&t, j + 1, FT_U8_CONT) && has(&t, j + 2, FT_U8_CONT))
            j += 3;
        else if (has(&t, j, FT_U8_FIRST4) && has(&t, j + 1, FT_U8_CONT) && has(&t, j + 2, FT_U8_CONT) &&
                 has(&t, j + 3, FT_U8_CONT))
            j += 4;
        else
            return j - i;
    }
}

static pf_status fix_encoding_rec(pf_tok_cps *t, int depth);

static pf_status decode_inconsistent_utf8(const pf_tok_cps *in, pf_tok_cps *out, int depth) {
    pf_status st = PF_OK;
    pf_tok_cps sub = {0};
    for (size_t i = 0; i < in->n && st == PF_OK;) {
        size_t m = 0;
        if (i == 0 || !(cls(in->v[i - 1]) & FT_U8_CONT_STRICT)) m = utf8_run(in->v, in->n, i);
        if (!m) {
            st = pf_tok_cps_push(out, in->v[i++]);
            continue;
        }
        sub.n = 0;
        for (size_t k = 0; k < m && st == PF_OK; k++) st = pf_tok_cps_push(&sub, in->v[i + k]);
        /* "Require the match to be shorter, so that this doesn't recurse infinitely" */
        if (st == PF_OK && m < in->n && is_bad(sub.v, sub.n)) st = fix_encoding_rec(&sub, depth + 1);
        for (size_t k = 0; k < sub.n && st == PF_OK; k++) st = pf_tok_cps_push(out, sub.v[k]);
        i += m;
    }
    pf_tok_cps_free(&sub);
    return st;
}

static bool same(const pf_tok_cps *a, const pf_tok_cps *b) {
    return a->n == b->n && (a->n == 0 || !memcmp(a->v, b->v, a->n * sizeof *a->v));
}

/* One step of _fix_encoding_one_step_and_explain; *t is replaced when fixed. */
static pf_status one_step(pf_tok_cps *t, int depth) {
    bool ascii = true;
    for (size_t i = 0; i < t->n && ascii; i++) ascii = t->v[i] < 0x80;
    if (t->n == 0 || ascii || !is_bad(t->v, t->n)) return PF_OK;

    pf_tok_buf bytes = {0};
    pf_tok_cps fixed = {0};
    pf_status st = PF_OK;
    bool done = false, latin1 = false;
    for (int e = 0; e < pf_ftfy_n_encodings && !done && st == PF_OK; e++) {
        const pf_ftfy_encoding *enc = &pf_ftfy_encodings[e];
        if (!encode(enc, t->v, t->n, &bytes)) continue;
        if (e == 0) latin1 = true;
        if (strcmp(enc->name, "macroman")) {
            bool altered = false;
            for (size_t i = 0; i < bytes.n && !altered; i++)
                altered = altered_utf8((const uint8_t *)bytes.p + i, bytes.n - i) > 0;
            if (altered) st = restore_byte_a0(&bytes);
        }
        if (st == PF_OK && enc->sloppy) st = replace_lossy_sequences(&bytes);
        bool variants = memchr(bytes.p ? bytes.p : "", 0xED, bytes.n) || memchr(bytes.p ? bytes.p : "", 0xC0, bytes.n);
        if (st == PF_OK && decode_utf8(&bytes, variants, &fixed)) done = true;
    }
    if (!done && st == PF_OK) {
        bool detect = false;
        for (size_t i = 0; i < t->n && !detect; i++)
            detect = (i == 0 || !(cls(t->v[i - 1]) & FT_U8_CONT_STRICT)) && utf8_run(t->v, t->n, i) > 0;
        if (detect) {
            fixed.n = 0;
            st = decode_inconsistent_utf8(t, &fixed, depth);
            done = st == PF_OK && !same(&fixed, t);
        }
    }
    /* Latin-1 that was meant as Windows-1252 (strict: an unassigned byte fails) */
    if (!done && st == PF_OK && latin1) {
        bool ok = true;
        fixed.n = 0;
        for (size_t i = 0; i < t->n && ok && st == PF_OK; i++) {
            int32_t c = t->v[i];
            if (c >= 0x80 && c <= 0x9F) {
                c = pf_tok_cp1252_c1(c);
                ok = c != t->v[i];
            }
            st = pf_tok_cps_push(&fixed, c);
        }
        done = ok && st == PF_OK && !same(&fixed, t);
    }
    if (!done && st == PF_OK) {
        bool c1 = false;
        for (size_t i = 0; i < t->n && !c1; i++) c1 = t->v[i] >= 0x80 && t->v[i] <= 0x9F;
        if (c1) {
            fixed.n = 0;
            for (size_t i = 0; i < t->n && st == PF_OK; i++) st = pf_tok_cps_push(&fixed, pf_tok_cp1252_c1(t->v[i]));
            done = st == PF_OK;
        }
    }
    if (done && st == PF_OK) {
        pf_tok_cps tmp = *t;
        *t = fixed;
        fixed = tmp;
    }
    pf_tok_cps_free(&fixed);
    pf_tok_buf_free(&bytes);
    return st;
}

static pf_status fix_encoding_rec(pf_tok_cps *t, int depth) {
    if (depth > 16) return PF_OK; /* substrings shrink every level; this only bounds pathological input */
    pf_tok_cps prev = {0};
    pf_status st = PF_OK;
    for (int k = 0; k < FIX_ENCODING_MAX_STEPS && st == PF_OK; k++) {
        prev.n = 0;
        for (size_t i = 0; i < t->n && st == PF_OK; i++) st = pf_tok_cps_push(&prev, t->v[i]);
        if (st == PF_OK) st = one_step(t, depth);
        if (st == PF_OK && same(&prev, t)) break;
    }
    pf_tok_cps_free(&prev);
    return st;
}

pf_status pf_tok_ftfy_fix_encoding(pf_tok_cps *t, bool *changed) {
    pf_tok_cps orig = {0};
    pf_status st = PF_OK;
    for (size_t i = 0; i < t->n && st == PF_OK; i++) st = pf_tok_cps_push(&orig, t->v[i]);
    if (st == PF_OK) st = fix_encoding_rec(t, 0);
    *changed = st == PF_OK && !same(&orig, t);
    pf_tok_cps_free(&orig);
    return st;
}
