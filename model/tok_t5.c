/*
 * T5 tokenizer with T5TokenizerFast's behaviour (the `tokenizers` crate
 * pipeline described in shared/golden/tokenizers/README.md):
 *
 *   1. split the raw text on the added tokens (leftmost-longest; lstrip/rstrip
 *      absorb the whitespace around a match, as in tokenizers' AddedVocabulary)
 *   2. normalize each other section: Precompiled charsmap, Strip, Replace ...
 *   3. Metaspace: ' ' -> '▁', prepend '▁' (scheme always/first/never), split
 *      before every '▁'
 *   4. unigram Viterbi on each piece (tok_unigram.c)
 *
 * The special tokens around the content (</s>) come from the post-processor
 * template and are added by tokenizer.c.
 *
 * Configuration: tokenizer.json when the folder has one (what
 * T5TokenizerFast.from_pretrained loads), else spiece.model converted the way
 * transformers' T5Converter does (legacy: prepend "always", <extra_id_N> with
 * lstrip/rstrip).
 */
#include "tok_internal.h"

#include "tok_t5.h"

#include <utf8proc.h>

/* ------------------------------------------------------------------------ */
/* normalizers                                                              */
/* ------------------------------------------------------------------------ */

pf_status pf_tok_t5_push_norm(pf_tok_t5 *t, t5_norm n) {
    if (t->n_norms >= 64) return pf_error(PF_ERR_UNSUPPORTED, "%s: more than 64 normalizers", t->label);
    t5_norm *v = pf_realloc(t->norms, (size_t)(t->n_norms + 1) * sizeof *v, "T5 normalizers");
    if (!v) return PF_ERR_OOM;
    t->norms = v;
    t->norms[t->n_norms++] = n;
    return PF_OK;
}

static char *dup_bytes(const char *s, size_t n) {
    char *d = pf_malloc(n + 1, "T5 normalizer string");
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

pf_status pf_tok_t5_add_replace_str(pf_tok_t5 *t, const char *pat, size_t pl, const char *content, size_t cl) {
    if (pl == 0) return pf_error(PF_ERR_UNSUPPORTED, "%s: Replace normalizer with an empty pattern", t->label);
    t5_norm n = {.kind = NORM_REPLACE_STR, .pat_len = pl, .content_len = cl};
    n.pat = dup_bytes(pat, pl);
    n.content = dup_bytes(content, cl);
    pf_status st = !n.pat || !n.content ? PF_ERR_OOM : pf_tok_t5_push_norm(t, n);
    if (st != PF_OK) {
        free(n.pat);
        free(n.content);
    }
    return st;
}

static pf_status add_replace_run(pf_tok_t5 *t, const char *ch, size_t chl, int min, const char *content, size_t cl) {
    t5_norm n = {.kind = NORM_REPLACE_RUN, .pat_len = chl, .content_len = cl, .run_min = min};
    n.pat = dup_bytes(ch, chl);
    n.content = dup_bytes(content, cl);
    pf_status st = !n.pat || !n.content ? PF_ERR_OOM : pf_tok_t5_push_norm(t, n);
    if (st != PF_OK) {
        free(n.pat);
        free(n.content);
    }
    return st;
}

/* The Replace normalizer's regex (Oniguruma in the reference). The forms
 * seen in SentencePiece conversions are supported: a literal string, or one
 * (possibly escaped) character followed by {n,} or +. */
pf_status pf_tok_t5_add_replace_regex(pf_tok_t5 *t, const char *re, const char *content) {
    size_t n = strlen(re), cl = strlen(content);
    const char *metas = ".^$|()[]{}*+?\\";
    bool literal = n > 0;
    for (size_t i = 0; i < n; i++)
        if (strchr(metas, re[i])) literal = false;
    if (literal) return pf_tok_t5_add_replace_str(t, re, n, content, cl);
    size_t i = 0, chl;
    const char *ch = re;
    if (n >= 2 && re[0] == '\\' && strchr(metas, re[1])) {
        ch = re + 1;
        chl = 1;
        i = 2;
    } else if (n >= 1 && !strchr(metas, re[0])) {
        chl = (size_t)pf_tok_utf8_len((unsigned char)re[0]);
        if (chl > n) chl = n;
        i = chl;
    } else {
        return pf_error(PF_ERR_UNSUPPORTED, "%s: Replace normalizer regex '%s' is not supported", t->label, re);
    }
    const char *q = re + i;
    if (!strcmp(q, "+")) return add_replace_run(t, ch, chl, 1, content, cl);
    int min = 0;
    if (*q == '{') {
        q++;
        while (*q >= '0' && *q <= '9' && min < 100000) min = min * 10 + (*q++ - '0');
        if (!strcmp(q, ",}") && min >= 1) return add_replace_run(t, ch, chl, min, content, cl);
    }
    return pf_error(PF_ERR_UNSUPPORTED, "%s: Replace normalizer regex '%s' is not supported", t->label, re);
}

static pf_status apply_norm(pf_tok_t5 *t, const t5_norm *nm, const pf_tok_buf *in, pf_tok_buf *out) {
    pf_tok_buf_clear(out);
    const char *s = in->p ? in->p : "";
    size_t n = in->n;
    switch (nm->kind) {
    case NORM_PRECOMPILED: return pf_tok_charsmap_apply(&nm->cm, s, n, out);
    case NORM_STRIP: {
        size_t b = 0, e = n;
        int32_t c;
        if (nm->left)
            while (b < e) {
                int k = pf_tok_utf8_next(s + b, e - b, &c);
                if (!pf_tok_is_white_space(c)) break;
                b += (size_t)k;
            }
        if (nm->right)
            while (e > b) {
                size_t p = e - 1;
                while (p > b && ((unsigned char)s[p] & 0xC0) == 0x80) p--;
                pf_tok_utf8_next(s + p, e - p, &c);
                if (!pf_tok_is_white_space(c)) break;
                e = p;
            }
        return pf_tok_buf_put(out, s + b, e - b);
    }
    case NORM_REPLACE_STR: {
        size_t i = 0, last = 0;
        while (i + nm->pat_len <= n) {
            if (!memcmp(s + i, nm->pat, nm->pat_len)) {
                PF_TRY(pf_tok_buf_put(out, s + last, i - last));
                PF_TRY(pf_tok_buf_put(out, nm->content, nm->content_len));
                i += nm->pat_len;
                last = i;
            } else {
                i++;
            }
        }
        return pf_tok_buf_put(out, s + last, n - last);
    }
    case NORM_REPLACE_RUN: {
        size_t i = 0, last = 0;
        while (i < n) {
            size_t j = i;
            int run = 0;
            while (j + nm->pat_len <= n && !memcmp(s + j, nm->pat, nm->pat_len)) {
                j += nm->pat_len;
                run++;
            }
            if (run >= nm->run_min && run > 0) {
                PF_TRY(pf_tok_buf_put(out, s + last, i - last));
                PF_TRY(pf_tok_buf_put(out, nm->content, nm->content_len));
                last = i = j;
            } else {
                i = run > 0 ? j : i + (size_t)pf_tok_utf8_len((unsigned char)s[i]);
            }
        }
        return pf_tok_buf_put(out, s + last, n - last);
    }
    case NORM_UNICODE: {
        utf8proc_uint8_t *r = NULL;
        utf8proc_ssize_t rl = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &r,
                                           (utf8proc_option_t)nm->uflags);
        if (rl < 0) {
            free(r);
            return pf_error(PF_ERR_INTERNAL, "%s: Unicode normalization failed: %s", t->label, utf8proc_errmsg(rl));
        }
        pf_status st = pf_tok_buf_put(out, r, (size_t)rl);
        free(r);
        return st;
    }
    }
    return pf_error(PF_ERR_INTERNAL, "T5: unknown normalizer");
}

/* Normalize s[0..n) into t->a (the pipeline ping-pongs between a and b). */
static pf_status normalize(pf_tok_t5 *t, const char *s, size_t n) {
    pf_tok_buf_clear(&t->a);
    PF_TRY(pf_tok_buf_put(&t->a, s, n));
    for (int i = 0; i < t->n_norms; i++) {
        PF_TRY(apply_norm(t, &t->norms[i], &t->a, &t->b));
        pf_tok_buf tmp = t->a;
        t->a = t->b;
        t->b = tmp;
    }
    return PF_OK;
}

/* ------------------------------------------------------------------------ */
/* encoding                                                                 */
/* ------------------------------------------------------------------------ */

/* Metaspace + unigram on one normalized section. at_start: the section
 * begins at byte 0 of the original text (prepend_scheme "first"). */
static pf_status encode_section(pf_tok_t5 *t, const char *s, size_t n, bool at_start, pf_tok_ids *ids) {
    if (n == 0) return PF_OK; /* empty splits are dropped */
    if (!t->metaspace) return pf_tok_unigram_encode(&t->uni, s, n, ids);
    pf_tok_buf_clear(&t->b);
    /* ' ' is replaced before the prefix test, so a leading space counts as a
     * leading '▁'. */
    bool starts = s[0] == ' ' || (n >= t->repl_len && !memcmp(s, t->repl, t->repl_len));
    bool prepend = !starts && (t->prepend == PREPEND_ALWAYS || (t->prepend == PREPEND_FIRST && at_start));
    if (prepend) PF_TRY(pf_tok_buf_put(&t->b, t->repl, t->repl_len));
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ')
            PF_TRY(pf_tok_buf_put(&t->b, t->repl, t->repl_len));
        else
            PF_TRY(pf_tok_buf_put(&t->b, s + i, 1));
    }
    const char *m = t->b.p;
    size_t mn = t->b.n;
    if (!t->split) return pf_tok_unigram_encode(&t->uni, m, mn, ids);
    /* MergedWithNext: every '▁' starts a new piece. */
    size_t start = 0;
    for (size_t i = 1; i + t->repl_len <= mn; i++) {
        if (!memcmp(m + i, t->repl, t->repl_len)) {
            PF_TRY(pf_tok_unigram_encode(&t->uni, m + start, i - start, ids));
            start = i;
            i += t->repl_len - 1;
        }
    }
    return pf_tok_unigram_encode(&t->uni, m + start, mn - start, ids);
}

/* A normalized section, further split on the added tokens that match
 * normalized text (normalized: true; none in the T5 files). */
static pf_status encode_normalized(pf_tok_t5 *t, bool at_start, pf_tok_ids *ids) {
    /* t->a is reused by nested calls only after we are done with it: copy. */
    size_t n = t->a.n;
    char *s = pf_malloc(n + 1, "T5 section");
    if (!s) return PF_ERR_OOM;
    memcpy(s, t->a.p ? t->a.p : "", n + 1);
    pf_status st = PF_OK;
    size_t last = 0, i = 0;
    while (st == PF_OK && i < n) {
        int k = pf_tok_added_match_at(&t->added, s, n, i, 1);
        if (k < 0) {
            i++;
            continue;
        }
        st = encode_section(t, s + last, i - last, at_start && last == 0, ids);
        if (st == PF_OK) st = pf_tok_ids_push(ids, t->added.tok[k].id);
        i += t->added.tok[k].len;
        last = i;
    }
    if (st == PF_OK) st = encode_section(t, s + last, n - last, at_start && last == 0, ids);
    free(s);
    return st;
}

static bool is_word_char(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return c == '_' || (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

pf_status pf_tok_t5_encode(pf_tok_t5 *t, const char *text, size_t n, pf_tok_ids *ids) {
    size_t start_offset = 0, pos = 0;
    while (pos < n) {
        int k = pf_tok_added_match_at(&t->added, text, n, pos, 0);
        if (k < 0) {
            pos++;
            continue;
        }
        const pf_tok_added *tok = &t->added.tok[k];
        size_t start = pos, stop = pos + tok->len;
        int32_t c;
        if (tok->single_word) {
            bool word_before = false, word_after = false;
            if (start > 0) {
                size_t p = start - 1;
                while (p > 0 && ((unsigned char)text[p] & 0xC0) == 0x80) p--;
                pf_tok_utf8_next(text + p, start - p, &c);
                word_before = is_word_char(c);
            }
            if (stop < n) {
                pf_tok_utf8_next(text + stop, n - stop, &c);
                word_after = is_word_char(c);
            }
            if (word_before || word_after) {
                pos++;
                continue;
            }
        }
        if (tok->lstrip) {
            size_t p = start;
            while (p > start_offset) {
                size_t q = p - 1;
                while (q > start_offset && ((unsigned char)text[q] & 0xC0) == 0x80) q--;
                pf_tok_utf8_next(text + q, p - q, &c);
                if (!pf_tok_is_white_space(c)) break;
                p = q;
            }
            start = p;
        }
        if (tok->rstrip) {
            while (stop < n) {
                int l = pf_tok_utf8_next(text + stop, n - stop, &c);
                if (!pf_tok_is_white_space(c)) break;
                stop += (size_t)l;
            }
        }
        if (start > start_offset) {
            PF_TRY(normalize(t, text + start_offset, start - start_offset));
            PF_TRY(encode_normalized(t, start_offset == 0, ids));
        }
        PF_TRY(pf_tok_ids_push(ids, tok->id));
        start_offset = pos = stop;
    }
    if (start_offset < n) {
        PF_TRY(normalize(t, text + start_offset, n - start_offset));
        PF_TRY(encode_normalized(t, start_offset == 0, ids));
    }
    return PF_OK;
}
