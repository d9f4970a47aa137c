/* Added tokens (<pad>, </s>, <extra_id_N>, <|endoftext|>, ...): literal
 * strings recognised in the raw text before any normalization. Both reference
 * implementations match leftmost-longest (the `tokenizers` crate through
 * aho-corasick LeftmostLongest, transformers' slow tokenizers through their
 * Trie.split); how each handles lstrip/rstrip differs and lives with its
 * tokenizer. */
#include "tok_internal.h"

pf_status pf_tok_added_add(pf_tok_added_set *s, const char *content, size_t len, int32_t id, bool lstrip,
                           bool rstrip, bool single_word, bool normalized, bool special) {
    if (len == 0) return PF_OK; /* an empty literal can never be matched */
    int i = pf_tok_added_find(s, content, len);
    if (i < 0) {
        if (s->n == s->cap) {
            int cap = s->cap ? s->cap * 2 : 16;
            pf_tok_added *t = pf_realloc(s->tok, (size_t)cap * sizeof *t, "added tokens");
            if (!t) return PF_ERR_OOM;
            s->tok = t;
            s->cap = cap;
        }
        char *c = pf_malloc(len + 1, "added token");
        if (!c) return PF_ERR_OOM;
        memcpy(c, content, len);
        c[len] = '\0';
        i = s->n++;
        s->tok[i].content = c;
        s->tok[i].len = len;
    }
    /* A later definition of the same literal replaces the earlier one, as
     * both references key their tables by content. */
    pf_tok_added *t = &s->tok[i];
    t->id = id;
    t->lstrip = lstrip;
    t->rstrip = rstrip;
    t->single_word = single_word;
    t->normalized = normalized;
    t->special = special;
    s->first_byte[(unsigned char)content[0]] = true;
    return PF_OK;
}

int pf_tok_added_find(const pf_tok_added_set *s, const char *content, size_t len) {
    for (int i = 0; i < s->n; i++)
        if (s->tok[i].len == len && !memcmp(s->tok[i].content, content, len)) return i;
    return -1;
}

int pf_tok_added_match_at(const pf_tok_added_set *s, const char *text, size_t n, size_t pos, int want_normalized) {
    if (pos >= n || !s->first_byte[(unsigned char)text[pos]]) return -1;
    int best = -1;
    for (int i = 0; i < s->n; i++) {
        const pf_tok_added *t = &s->tok[i];
        if (want_normalized >= 0 && (int)t->normalized != want_normalized) continue;
        if (t->len > n - pos || memcmp(text + pos, t->content, t->len)) continue;
        if (best < 0 || t->len > s->tok[best].len) best = i;
    }
    return best;
}

void pf_tok_added_free(pf_tok_added_set *s) {
    for (int i = 0; i < s->n; i++) free(s->tok[i].content);
    free(s->tok);
    memset(s, 0, sizeof *s);
}

pf_status pf_tok_spans_push(pf_tok_spans *a, size_t off, size_t len, int tok) {
    if (a->n == a->cap) {
        if (a->cap > INT32_MAX / 4) return pf_error(PF_ERR_OOM, "tokenizer: too many text pieces");
        int cap = a->cap ? a->cap * 2 : 16;
        pf_tok_span *v = pf_realloc(a->v, (size_t)cap * sizeof *v, "text pieces");
        if (!v) return PF_ERR_OOM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = (pf_tok_span){off, len, tok};
    return PF_OK;
}

void pf_tok_spans_free(pf_tok_spans *a) {
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}
