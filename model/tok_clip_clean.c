/*
 * ftfy.fix_text() with its default configuration (ftfy 6.3), the cleanup the
 * reference CLIPTokenizer applies to every chunk of text
 * (shared/golden/tokenizers/README.md, CLIP step 2).
 *
 * fix_text cuts the text into lines (segments ending after '\n', at most a
 * million code points) and fixes each one until nothing changes:
 *   unescape_html (only while no segment so far contained '<'), fix_encoding
 *   (mojibake, tok_clip_mojibake.c), fix_c1_controls, fix_latin_ligatures,
 *   fix_character_width, uncurl_quotes, fix_line_breaks, fix_surrogates (a
 *   no-op: valid UTF-8 has no surrogates), remove_terminal_escapes,
 *   remove_control_chars, NFC.
 */
#include "tok_clip_internal.h"

#include <utf8proc.h>

#define FTFY_MAX_DECODE_LENGTH 1000000
/* fix_text repeats until a fixed point; each round must change something, so
 * only pathological input ("&amp;amp;amp;..." nested hundreds deep) gets near
 * this bound, which keeps such input from costing quadratic time. */
#define FTFY_MAX_ROUNDS 256

/* Windows-1252 for bytes 0x80..0x9F; the unassigned ones keep their value
 * (ftfy's sloppy-windows-1252, and html.unescape's _invalid_charrefs). */
static const uint16_t cp1252_c1[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

int32_t pf_tok_cp1252_c1(int32_t cp) { return cp >= 0x80 && cp <= 0x9F ? cp1252_c1[cp - 0x80] : cp; }

static pf_status push_utf8(pf_tok_cps *out, const char *s) { return pf_tok_cps_from_utf8(out, s, strlen(s)); }

static pf_status push_range(pf_tok_cps *out, const int32_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) PF_TRY(pf_tok_cps_push(out, v[i]));
    return PF_OK;
}

/* ---- unescape_html: &#?[0-9A-Za-z]{1,24}; ---- */

static bool ascii_alnum(int32_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static bool ascii_digit(int32_t c) { return c >= '0' && c <= '9'; }
static bool ascii_hex(int32_t c) { return ascii_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }

static const char *entity_lookup(const int32_t *name, size_t n) {
    char key[32];
    if (n >= sizeof key) return NULL;
    for (size_t i = 0; i < n; i++) key[i] = (char)name[i];
    key[n] = '\0';
    int lo = 0, hi = pf_tok_n_html_entities - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(key, pf_tok_html_entities[mid].name);
        if (c == 0) return pf_tok_html_entities[mid].value;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

static bool invalid_codepoint(uint32_t n) {
    return (n >= 0x1 && n <= 0x8) || n == 0xB || (n >= 0xE && n <= 0x1F) || (n >= 0x7F && n <= 0x9F) ||
           (n >= 0xFDD0 && n <= 0xFDEF) || (n & 0xFFFE) == 0xFFFE;
}

/* html.unescape() of "&#X;" as ftfy uses it: the reference must be all
 * decimal digits or x + hex digits, otherwise html.unescape decodes only a
 * prefix (or nothing) and ftfy keeps the original text. Returns false to keep
 * the text, true with *cp (-1: decodes to nothing). */
static bool numeric_ref(const int32_t *x, size_t n, int32_t *cp) {
    int base = 10;
    size_t s = 0;
    bool all_dec = true;
    for (size_t i = 0; i < n; i++) all_dec = all_dec && ascii_digit(x[i]);
    if (!all_dec) {
        if (n < 2 || (x[0] != 'x' && x[0] != 'X')) return false;
        for (size_t i = 1; i < n; i++)
            if (!ascii_hex(x[i])) return false;
        base = 16;
        s = 1;
    }
    uint32_t num = 0;
    bool big = false;
    for (size_t i = s; i < n; i++) {
        uint32_t d = ascii_digit(x[i]) ? (uint32_t)(x[i] - '0') : (uint32_t)((x[i] | 0x20) - 'a' + 10);
        if (!big) num = num * (uint32_t)base + d;
        if (num > 0x10FFFF) big = true;
    }
    if (big) {
        *cp = 0xFFFD;
    } else if (num == 0) {
        *cp = 0xFFFD;
    } else if (num == 0x0D) {
        *cp = '\r';
    } else if (num >= 0x80 && num <= 0x9F) {
        *cp = pf_tok_cp1252_c1((int32_t)num);
    } else if (num >= 0xD800 && num <= 0xDFFF) {
        *cp = 0xFFFD;
    } else if (invalid_codepoint(num)) {
        *cp = -1;
    } else {
        *cp = (int32_t)num;
    }
    /* "If html.unescape only decoded part of the string ... the semicolon
     * should be consumed": a result containing ';' keeps the original. */
    return *cp != ';';
}

static pf_status unescape_html(const pf_tok_cps *in, pf_tok_cps *out) {
    size_t i = 0, n = in->n;
    const int32_t *v = in->v;
    while (i < n) {
        if (v[i] == '&') {
            size_t j = i + 1;
            bool hash = j < n && v[j] == '#';
            if (hash) j++;
            size_t k = j;
            while (k < n && k - j < 24 && ascii_alnum(v[k])) k++;
            if (k > j && k < n && v[k] == ';') {
                if (!hash) {
                    const char *val = entity_lookup(v + j, k - j);
                    if (val)
                        PF_TRY(push_utf8(out, val));
                    else
                        PF_TRY(push_range(out, v + i, k + 1 - i));
                } else {
                    int32_t cp;
                    if (!numeric_ref(v + j, k - j, &cp))
                        PF_TRY(push_range(out, v + i, k + 1 - i));
                    else if (cp >= 0)
                        PF_TRY(pf_tok_cps_push(out, cp));
                }
                i = k + 1;
                continue;
            }
        }
        PF_TRY(pf_tok_cps_push(out, v[i]));
        i++;
    }
    return PF_OK;
}

/* ---- per-character fixes ---- */

static pf_status fix_c1_controls(const pf_tok_cps *in, pf_tok_cps *out) {
    for (size_t i = 0; i < in->n; i++) PF_TRY(pf_tok_cps_push(out, pf_tok_cp1252_c1(in->v[i])));
    return PF_OK;
}

static const struct {
    int32_t cp;
    const char *to;
} ligatures[] = {
    {0x0132, "IJ"}, {0x0133, "ij"}, {0x0149, "\xCA\xBCn"}, {0x01F1, "DZ"}, {0x01F2, "Dz"}, {0x01F3, "dz"},
    {0x01C4, "D\xC5\xBD"}, {0x01C5, "D\xC5\xBE"}, {0x01C6, "d\xC5\xBE"}, {0x01C7, "LJ"}, {0x01C8, "Lj"},
    {0x01C9, "lj"}, {0x01CA, "NJ"}, {0x01CB, "Nj"}, {0x01CC, "nj"}, {0xFB00, "ff"}, {0xFB01, "fi"},
    {0xFB02, "fl"}, {0xFB03, "ffi"}, {0xFB04, "ffl"}, {0xFB05, "\xC5\xBFt"}, {0xFB06, "st"},
};

static pf_status fix_latin_ligatures(const pf_tok_cps *in, pf_tok_cps *out) {
    for (size_t i = 0; i < in->n; i++) {
        int32_t c = in->v[i];
        const char *to = NULL;
        if ((c >= 0x0132 && c <= 0x01F3) || (c >= 0xFB00 && c <= 0xFB06))
            for (size_t k = 0; k < PF_ARRAY_LEN(ligatures); k++)
                if (ligatures[k].cp == c) to = ligatures[k].to;
        PF_TRY(to ? push_utf8(out, to) : pf_tok_cps_push(out, c));
    }
    return PF_OK;
}

/* U+3000 -> ' ', and U+FF01..U+FFEF -> their NFKC form when it differs. */
static pf_status fix_character_width(const pf_tok_cps *in, pf_tok_cps *out) {
    for (size_t i = 0; i < in->n; i++) {
        int32_t c = in->v[i];
        if (c == 0x3000) {
            PF_TRY(pf_tok_cps_push(out, ' '));
        } else if (c >= 0xFF01 && c <= 0xFFEF) {
            utf8proc_int32_t buf[8];
            int lbc = 0;
            utf8proc_ssize_t k = utf8proc_decompose_char(c, buf, 8, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STABLE, &lbc);
            if (k > 0 && k <= 8) {
                k = utf8proc_normalize_utf32(buf, k, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
                if (k > 0) {
                    PF_TRY(push_range(out, buf, (size_t)k));
                    continue;
                }
            }
            PF_TRY(pf_tok_cps_push(out, c));
        } else {
            PF_TRY(pf_tok_cps_push(out, c));
        }
    }
    return PF_OK;
}

static pf_status uncurl_quotes(const pf_tok_cps *in, pf_tok_cps *out) {
    for (size_t i = 0; i < in->n; i++) {
        int32_t c = in->v[i];
        if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) c = '\'';
        if (c >= 0x201C && c <= 0x201F) c = '"';
        PF_TRY(pf_tok_cps_push(out, c));
    }
    return PF_OK;
}

static pf_status fix_line_breaks(const pf_tok_cps *in, pf_tok_cps *out) {
    for (size_t i = 0; i < in->n; i++) {
        int32_t c = in->v[i];
        if (c == '\r' && i + 1 < in->n && in->v[i + 1] == '\n') continue; /* "\r\n" -> "\n" */
        if (c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85) c = '\n';
        PF_TRY(pf_tok_cps_push(out, c));
    }
    return PF_OK;
}

/* ANSI_RE = "\033\[((?:\d|;)*)([a-zA-Z])" (Python's \d: any decimal digit). */
static pf_status remove_terminal_escapes(const pf_tok_cps *in, pf_tok_cps *out) {
    size_t i = 0, n = in->n;
    while (i < n) {
        if (in->v[i] == 0x1B && i + 1 < n && in->v[i + 1] == '[') {
            size_t k = i + 2;
            while (k < n && (in->v[k] == ';' || utf8proc_category(in->v[k]) == UTF8PROC_CATEGORY_ND)) k++;
            int32_t c = k < n ? in->v[k] : 0;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                i = k + 1;
                continue;
            }
        }
        PF_TRY(pf_tok_cps_push(out, in->v[i]));
        i++;
    }
    return PF_OK;
}

static pf_status remove_control_chars(const pf_tok_cps *in, pf_tok_cps *out) {
    for (size_t i = 0; i < in->n; i++) {
        int32_t c = in->v[i];
        bool drop = (c >= 0 && c <= 8) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
                    (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
        if (!drop) PF_TRY(pf_tok_cps_push(out, c));
    }
    return PF_OK;
}

static pf_status nfc(const pf_tok_cps *in, pf_tok_cps *out) {
    pf_tok_buf u = {0};
    pf_status st = pf_tok_cps_to_utf8(in->v, in->n, &u);
    utf8proc_uint8_t *r = NULL;
    if (st == PF_OK) {
        utf8proc_ssize_t rl =
            utf8proc_map((const utf8proc_uint8_t *)(u.p ? u.p : ""), (utf8proc_ssize_t)u.n, &r,
                         (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
        if (rl < 0)
            st = pf_error(PF_ERR_INTERNAL, "tokenizer: NFC failed: %s", utf8proc_errmsg(rl));
        else
            st = pf_tok_cps_from_utf8(out, (const char *)r, (size_t)rl);
    }
    free(r);
    pf_tok_buf_free(&u);
    return st;
}

/* ---- driver ---- */

typedef pf_status (*fix_fn)(const pf_tok_cps *in, pf_tok_cps *out);

/* in -> out through f, then swap so *cur holds the result. */
static pf_status run_fix(fix_fn f, pf_tok_cps *cur, pf_tok_cps *tmp) {
    tmp->n = 0;
    PF_TRY(f(cur, tmp));
    pf_tok_cps t = *cur;
    *cur = *tmp;
    *tmp = t;
    return PF_OK;
}

static bool same(const pf_tok_cps *a, const pf_tok_cps *b) {
    return a->n == b->n && (a->n == 0 || !memcmp(a->v, b->v, a->n * sizeof *a->v));
}

static pf_status fix_segment(pf_tok_cps *cur, bool html) {
    static const fix_fn fixers[] = {fix_c1_controls, fix_latin_ligatures,     fix_character_width,  uncurl_quotes,
                                    fix_line_breaks, remove_terminal_escapes, remove_control_chars, nfc};
    pf_tok_cps orig = {0}, tmp = {0};
    pf_status st = PF_OK;
    for (int round = 0; round < FTFY_MAX_ROUNDS && st == PF_OK; round++) {
        orig.n = 0;
        st = push_range(&orig, cur->v, cur->n);
        if (st == PF_OK && html) st = run_fix(unescape_html, cur, &tmp);
        bool changed;
        if (st == PF_OK) st = pf_tok_ftfy_fix_encoding(cur, &changed);
        for (size_t k = 0; k < PF_ARRAY_LEN(fixers) && st == PF_OK; k++) st = run_fix(fixers[k], cur, &tmp);
        if (st == PF_OK && same(cur, &orig)) break;
    }
    pf_tok_cps_free(&orig);
    pf_tok_cps_free(&tmp);
    return st;
}

pf_status pf_tok_ftfy_fix_text(pf_tok_cps *t) {
    pf_tok_cps out = {0}, seg = {0};
    pf_status st = PF_OK;
    bool html = true; /* unescape_html="auto" until a segment contains '<' */
    size_t pos = 0;
    while (pos < t->n && st == PF_OK) {
        size_t brk = pos;
        while (brk < t->n && t->v[brk] != '\n') brk++;
        brk = brk < t->n ? brk + 1 : t->n;
        if (brk - pos > FTFY_MAX_DECODE_LENGTH) brk = pos + FTFY_MAX_DECODE_LENGTH;
        for (size_t i = pos; i < brk && html; i++)
            if (t->v[i] == '<') html = false;
        seg.n = 0;
        st = push_range(&seg, t->v + pos, brk - pos);
        if (st == PF_OK) st = fix_segment(&seg, html);
        if (st == PF_OK) st = push_range(&out, seg.v, seg.n);
        pos = brk;
    }
    pf_tok_cps_free(&seg);
    if (st != PF_OK) {
        pf_tok_cps_free(&out);
        return st;
    }
    pf_tok_cps_free(t);
    *t = out;
    return PF_OK;
}
