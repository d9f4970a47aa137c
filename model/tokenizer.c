/* The tokenizer interface (pf_tokenizer.h): loading, the special tokens the
 * post-processing adds (T5: </s> after; CLIP: <|startoftext|> before and
 * <|endoftext|> after), truncation and padding. */
#include "tok_internal.h"

struct pf_tokenizer {
    pf_tok_kind kind;
    int32_t pad_id;
    pf_tok_ids prefix, suffix; /* special ids around the content */
    pf_tok_t5 *t5;
    pf_tok_clip *clip;
    pf_tok_buf text; /* the input as valid UTF-8 */
    pf_tok_ids ids;  /* scratch */
};

static pf_status load(pf_tok_kind kind, const char *dir, const char *vocab_dir, pf_tokenizer **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "tokenizer: no output pointer");
    *out = NULL;
    if (!dir) return pf_error(PF_ERR_INVALID_ARG, "tokenizer: no folder given");
    if (!pf_dir_exists(dir)) return pf_error(PF_ERR_IO, "%s: tokenizer folder not found", dir);
    pf_tokenizer *t = pf_calloc(1, sizeof *t, "tokenizer");
    if (!t) return PF_ERR_OOM;
    t->kind = kind;
    pf_status st = kind == PF_TOK_T5 ? pf_tok_t5_load(dir, &t->t5, &t->pad_id, &t->prefix, &t->suffix)
                                     : pf_tok_clip_load(dir, vocab_dir, &t->clip, &t->pad_id, &t->prefix, &t->suffix);
    if (st != PF_OK) {
        pf_tokenizer_free(t);
        return st;
    }
    *out = t;
    return PF_OK;
}

pf_status pf_tokenizer_load_t5(const char *dir, pf_tokenizer **out) { return load(PF_TOK_T5, dir, NULL, out); }
pf_status pf_tokenizer_load_clip(const char *dir, pf_tokenizer **out) { return load(PF_TOK_CLIP, dir, NULL, out); }
pf_status pf_tokenizer_load_clip_vocab(const char *dir, const char *vocab_dir, pf_tokenizer **out) {
    return load(PF_TOK_CLIP, dir, vocab_dir, out);
}

void pf_tokenizer_free(pf_tokenizer *t) {
    if (!t) return;
    pf_tok_t5_free(t->t5);
    pf_tok_clip_free(t->clip);
    pf_tok_ids_free(&t->prefix);
    pf_tok_ids_free(&t->suffix);
    pf_tok_ids_free(&t->ids);
    pf_tok_buf_free(&t->text);
    free(t);
}

pf_tok_kind pf_tokenizer_kind(const pf_tokenizer *t) { return t ? t->kind : PF_TOK_T5; }
int pf_tokenizer_pad_id(const pf_tokenizer *t) { return t ? t->pad_id : 0; }

/* prefix + content + suffix into t->ids */
static pf_status encode(pf_tokenizer *t, const char *text, size_t len) {
    if (!t) return pf_error(PF_ERR_INVALID_ARG, "tokenizer: NULL tokenizer");
    if (!text && len) return pf_error(PF_ERR_INVALID_ARG, "tokenizer: NULL text");
    pf_tok_buf_clear(&t->text);
    PF_TRY(pf_tok_utf8_sanitize(text ? text : "", len, &t->text));
    t->ids.n = 0;
    PF_TRY(pf_tok_ids_append(&t->ids, t->prefix.v, t->prefix.n));
    PF_TRY(t->kind == PF_TOK_T5 ? pf_tok_t5_encode(t->t5, t->text.p, t->text.n, &t->ids)
                                : pf_tok_clip_encode(t->clip, t->text.p, t->text.n, &t->ids));
    return pf_tok_ids_append(&t->ids, t->suffix.v, t->suffix.n);
}

pf_status pf_tokenize_full_n(pf_tokenizer *t, const char *text, size_t len, int32_t **ids, int *n) {
    if (!ids || !n) return pf_error(PF_ERR_INVALID_ARG, "tokenizer: NULL output");
    *ids = NULL;
    *n = 0;
    PF_TRY(encode(t, text, len));
    int32_t *v = pf_malloc((size_t)(t->ids.n ? t->ids.n : 1) * sizeof *v, "token ids");
    if (!v) return PF_ERR_OOM;
    memcpy(v, t->ids.v, (size_t)t->ids.n * sizeof *v);
    *ids = v;
    *n = t->ids.n;
    return PF_OK;
}

pf_status pf_tokenize_full(pf_tokenizer *t, const char *text, int32_t **ids, int *n) {
    if (!text) return pf_error(PF_ERR_INVALID_ARG, "tokenizer: NULL text");
    return pf_tokenize_full_n(t, text, strlen(text), ids, n);
}

pf_status pf_tokenize_n(pf_tokenizer *t, const char *text, size_t len, int max_len, int32_t *ids, int32_t *mask,
                        int *n_full) {
    if (!t || !ids || !mask) return pf_error(PF_ERR_INVALID_ARG, "tokenizer: NULL argument");
    int specials = t->prefix.n + t->suffix.n;
    if (max_len < specials || max_len <= 0)
        return pf_error(PF_ERR_INVALID_ARG, "tokenizer: max_len %d cannot hold the %d special tokens", max_len, specials);
    PF_TRY(encode(t, text, len));
    int n = t->ids.n;
    if (n_full) *n_full = n;
    /* Truncation keeps the special tokens: prefix, the first
     * max_len - specials content ids, suffix (tokenizers' post-processor and
     * transformers' prepare_for_model both work this way). */
    int content = n - specials, keep = PF_MIN(content, max_len - specials), k = 0;
    for (int i = 0; i < t->prefix.n; i++) ids[k++] = t->prefix.v[i];
    for (int i = 0; i < keep; i++) ids[k++] = t->ids.v[t->prefix.n + i];
    for (int i = 0; i < t->suffix.n; i++) ids[k++] = t->suffix.v[i];
    for (int i = 0; i < max_len; i++) {
        mask[i] = i < k;
        if (i >= k) ids[i] = t->pad_id;
    }
    return PF_OK;
}

pf_status pf_tokenize(pf_tokenizer *t, const char *text, int max_len, int32_t *ids, int32_t *mask, int *n_full) {
    if (!text) return pf_error(PF_ERR_INVALID_ARG, "tokenizer: NULL text");
    return pf_tokenize_n(t, text, strlen(text), max_len, ids, mask, n_full);
}
