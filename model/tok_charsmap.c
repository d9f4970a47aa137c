/*
 * The precompiled normalizer of a sentencepiece model (T5: nmt_nfkc), applied
 * the way the `tokenizers` crate's Precompiled normalizer (spm_precompiled)
 * applies it, because T5TokenizerFast is the reference.
 *
 * Blob layout: u32 LE trie_size, then trie_size bytes of darts-clone
 * double-array units (u32 LE each), then the replacement strings, each
 * terminated by NUL. A trie value is the offset of a replacement string.
 *
 * Walk (shared/golden/tokenizers/README.md, T5 step 2): the text is cut into
 * extended grapheme clusters. A cluster shorter than 6 bytes that has any
 * prefix in the trie is replaced as a whole by the replacement of its
 * SHORTEST matching prefix (so trailing combining marks can be dropped: that
 * is the known fast-vs-slow difference, kept on purpose). Otherwise each code
 * point is looked up on its own and kept when it has no entry.
 */
#include "tok_internal.h"

#include <utf8proc.h>

/* darts-clone unit fields */
static bool unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static uint32_t unit_value(uint32_t u) { return u & 0x7FFFFFFFu; }
static uint32_t unit_label(uint32_t u) { return u & (0x80000000u | 0xFFu); }
static size_t unit_offset(uint32_t u) { return (size_t)(u >> 10) << ((u & (1u << 9)) >> 6); }

pf_status pf_tok_charsmap_init(pf_tok_charsmap *cm, const uint8_t *blob, size_t len, const char *label) {
    memset(cm, 0, sizeof *cm);
    if (len < 4) return pf_error(PF_ERR_FORMAT, "%s: precompiled_charsmap is %zu bytes, too short for its header", label, len);
    uint32_t trie_size = (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 24;
    if (trie_size % 4 != 0)
        return pf_error(PF_ERR_FORMAT, "%s: precompiled_charsmap trie size %u is not a multiple of 4", label, trie_size);
    if (trie_size > len - 4)
        return pf_error(PF_ERR_FORMAT, "%s: precompiled_charsmap trie of %u bytes runs past the %zu-byte blob", label,
                        trie_size, len);
    const uint8_t *norm = blob + 4 + trie_size;
    size_t norm_len = len - 4 - trie_size;
    if (!pf_tok_utf8_valid((const char *)norm, norm_len))
        return pf_error(PF_ERR_FORMAT, "%s: precompiled_charsmap replacement strings are not valid UTF-8", label);
    cm->n_units = trie_size / 4;
    cm->units = pf_malloc(trie_size ? trie_size : 4, "precompiled_charsmap trie");
    cm->norm = pf_malloc(norm_len + 1, "precompiled_charsmap strings");
    if (!cm->units || !cm->norm) {
        pf_tok_charsmap_free(cm);
        return PF_ERR_OOM;
    }
    for (size_t i = 0; i < cm->n_units; i++) {
        const uint8_t *q = blob + 4 + 4 * i;
        cm->units[i] = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    }
    if (norm_len) memcpy(cm->norm, norm, norm_len);
    cm->norm[norm_len] = '\0';
    cm->norm_len = norm_len;
    return PF_OK;
}

void pf_tok_charsmap_free(pf_tok_charsmap *cm) {
    free(cm->units);
    free(cm->norm);
    memset(cm, 0, sizeof *cm);
}

/* The replacement of the shortest trie key that prefixes key[0..n), or NULL.
 * Like spm_precompiled, the walk stops at a NUL byte. A corrupt trie (an
 * index out of range, a value outside the strings or not on a character
 * boundary) means "no entry" instead of a crash. */
static const char *lookup(const pf_tok_charsmap *cm, const char *key, size_t n, size_t *rlen) {
    if (cm->n_units == 0) return NULL;
    size_t pos = unit_offset(cm->units[0]);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)key[i];
        if (c == 0) return NULL;
        pos ^= c;
        if (pos >= cm->n_units) return NULL;
        uint32_t u = cm->units[pos];
        if (unit_label(u) != c) return NULL;
        pos ^= unit_offset(u);
        if (unit_has_leaf(u)) {
            if (pos >= cm->n_units) return NULL;
            size_t v = unit_value(cm->units[pos]);
            if (v > cm->norm_len || (v < cm->norm_len && ((uint8_t)cm->norm[v] & 0xC0) == 0x80)) return NULL;
            *rlen = strlen(cm->norm + v); /* norm is NUL-terminated past its end */
            return cm->norm + v;
        }
    }
    return NULL;
}

static pf_status apply_cluster(const pf_tok_charsmap *cm, const char *g, size_t n, pf_tok_buf *out) {
    const char *r;
    size_t rl;
    if (n < 6 && (r = lookup(cm, g, n, &rl))) return pf_tok_buf_put(out, r, rl);
    size_t i = 0;
    while (i < n) {
        size_t k = (size_t)pf_tok_utf8_len((unsigned char)g[i]);
        if (k > n - i) k = n - i;
        if ((r = lookup(cm, g + i, k, &rl)))
            PF_TRY(pf_tok_buf_put(out, r, rl));
        else
            PF_TRY(pf_tok_buf_put(out, g + i, k));
        i += k;
    }
    return PF_OK;
}

pf_status pf_tok_charsmap_apply(const pf_tok_charsmap *cm, const char *s, size_t n, pf_tok_buf *out) {
    PF_TRY(pf_tok_buf_reserve(out, n));
    size_t start = 0, i = 0;
    int32_t prev = -1;
    utf8proc_int32_t state = 0;
    while (i < n) {
        int32_t c;
        int k = pf_tok_utf8_next(s + i, n - i, &c);
        /* Extended grapheme cluster boundaries (UAX #29), one call per
         * adjacent pair so the state (emoji ZWJ, regional indicators) flows. */
        if (prev >= 0 && utf8proc_grapheme_break_stateful(prev, c, &state)) {
            PF_TRY(apply_cluster(cm, s + start, i - start, out));
            start = i;
        }
        prev = c;
        i += (size_t)k;
    }
    if (i > start) PF_TRY(apply_cluster(cm, s + start, i - start, out));
    return PF_OK;
}
