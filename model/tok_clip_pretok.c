/*
 * CLIPTokenizer's text steps after ftfy (transformers tokenization_clip.py):
 *   whitespace_clean: regex.sub(r"\s+", " ", text).strip()
 *   .lower()        : Python's full-Unicode str.lower
 *   words           : regex.findall(pat, text) with
 *     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 *     compiled with IGNORECASE by the `regex` module.
 * The regex is matched by hand with utf8proc's general categories.
 */
#include "tok_clip_internal.h"

#include <utf8proc.h>

/* ---- str.lower() ---- */

/* Properties for the Final_Sigma rule of str.lower(). These match Python 3.11
 * for every code point (checked exhaustively against CPython): Case_Ignorable
 * is Mn/Me/Cf/Lm/Sk plus the Word_Break MidLetter/MidNumLet/Single_Quote
 * characters; Cased is Lu/Ll/Lt, anything with a case mapping, and the few
 * Other_Lowercase/Other_Uppercase symbols below. */
static bool case_ignorable(int32_t c) {
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK: return true;
    default: break;
    }
    static const int32_t mid[] = {0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,  0x5F4,  0x2018,
                                  0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
    for (size_t i = 0; i < PF_ARRAY_LEN(mid); i++)
        if (mid[i] == c) return true;
    return false;
}

static bool cased(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    if (k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT) return true;
    if (utf8proc_tolower(c) != c || utf8proc_toupper(c) != c) return true;
    return c == 0xAA || c == 0xBA || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
           (c >= 0x1F170 && c <= 0x1F189);
}

/* U+03A3 at v[i] lowercases to final sigma when preceded by a cased letter
 * and not followed by one (case-ignorable characters skipped both ways). */
static bool final_sigma(const int32_t *v, size_t n, size_t i) {
    size_t j = i;
    while (j > 0 && case_ignorable(v[j - 1])) j--;
    if (j == 0 || !cased(v[j - 1])) return false;
    size_t k = i + 1;
    while (k < n && case_ignorable(v[k])) k++;
    return k == n || !cased(v[k]);
}

pf_status pf_tok_clip_clean_lower(pf_tok_cps *t) {
    /* whitespace_clean: runs of \s (White_Space) become one ' ', then strip
     * Python's isspace (which adds U+001C..U+001F) from both ends. */
    pf_tok_cps ws = {0}, out = {0};
    pf_status st = PF_OK;
    for (size_t i = 0; i < t->n && st == PF_OK;) {
        if (pf_tok_is_white_space(t->v[i])) {
            while (i < t->n && pf_tok_is_white_space(t->v[i])) i++;
            st = pf_tok_cps_push(&ws, ' ');
        } else {
            st = pf_tok_cps_push(&ws, t->v[i++]);
        }
    }
    size_t b = 0, e = ws.n;
    while (b < e && pf_tok_py_isspace(ws.v[b])) b++;
    while (e > b && pf_tok_py_isspace(ws.v[e - 1])) e--;
    for (size_t i = b; i < e && st == PF_OK; i++) {
        int32_t c = ws.v[i];
        if (c == 0x130) { /* the one unconditional multi-code-point lowercase mapping */
            st = pf_tok_cps_push(&out, 'i');
            if (st == PF_OK) st = pf_tok_cps_push(&out, 0x307);
        } else if (c == 0x3A3) {
            st = pf_tok_cps_push(&out, final_sigma(ws.v + b, e - b, i - b) ? 0x3C2 : 0x3C3);
        } else {
            st = pf_tok_cps_push(&out, utf8proc_tolower(c));
        }
    }
    pf_tok_cps_free(&ws);
    if (st != PF_OK) {
        pf_tok_cps_free(&out);
        return st;
    }
    pf_tok_cps_free(t);
    *t = out;
    return PF_OK;
}

/* ---- the pre-tokenizer regex ---- */

static bool is_letter(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

static bool is_number(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}

/* Under IGNORECASE the regex module matches a character when any of its case
 * variants matches. U+0345 COMBINING YPOGEGRAMMENI folds to a Greek letter,
 * so it is in neither [\p{L}] nor [^\s\p{L}\p{N}]: nothing matches it and
 * findall skips it like whitespace. */
static bool is_other(int32_t c) { return !pf_tok_is_white_space(c) && !is_letter(c) && !is_number(c) && c != 0x345; }

/* Case-insensitive match of an ASCII literal (simple case folding: only
 * U+017F LONG S folds onto these letters besides their ASCII cases). */
static bool ci_char(int32_t c, char lit) {
    if (c == lit) return true;
    if (lit >= 'a' && lit <= 'z' && c == lit - 32) return true;
    return lit == 's' && c == 0x17F;
}

static size_t match_lit(const int32_t *v, size_t n, size_t i, const char *lit) {
    size_t k = 0;
    for (; lit[k]; k++)
        if (i + k >= n || !ci_char(v[i + k], lit[k])) return 0;
    return k;
}

pf_status pf_tok_clip_words(const pf_tok_cps *t, pf_tok_spans *words) {
    static const char *const lits[] = {"<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    const int32_t *v = t->v;
    size_t n = t->n, i = 0;
    while (i < n) {
        size_t len = 0;
        for (size_t k = 0; k < PF_ARRAY_LEN(lits) && !len; k++) len = match_lit(v, n, i, lits[k]);
        if (!len) {
            if (is_letter(v[i])) {
                while (i + len < n && is_letter(v[i + len])) len++;
            } else if (is_number(v[i])) {
                len = 1;
            } else if (is_other(v[i])) {
                while (i + len < n && is_other(v[i + len])) len++;
            }
        }
        if (len) {
            PF_TRY(pf_tok_spans_push(words, i, len, -1));
            i += len;
        } else {
            i++;
        }
    }
    return PF_OK;
}
