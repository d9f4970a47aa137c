/*
 * Unigram language-model segmentation, as the `tokenizers` crate's Unigram
 * model does it (encode_optimized): best-score path over every vocabulary
 * piece that matches at each character position, scores added as f64.
 *
 *  - A position where no piece covers exactly its one character gets an
 *    unknown node of score min_score - 10 (min over the whole vocabulary).
 *  - Ties keep the first candidate found (positions left to right, pieces
 *    shortest first), the `>` comparison of the reference.
 *  - Consecutive unknown nodes are fused into one token (fuse_unk); a token
 *    string that is not in the vocabulary becomes unk_id, or its bytes'
 *    <0xXX> pieces when the model has byte_fallback and they all exist.
 */
#include "tok_internal.h"

#include <math.h>

#define PF_UNK_PENALTY 10.0

static pf_status add_node(pf_tok_unigram *u, int32_t *node) {
    if (u->n_nodes == u->cap_nodes) {
        if (u->cap_nodes > INT32_MAX / 4) return pf_error(PF_ERR_OOM, "unigram trie too large");
        int cap = u->cap_nodes ? u->cap_nodes * 2 : 4096;
        int32_t *p = pf_realloc(u->node_id, (size_t)cap * sizeof *p, "unigram trie");
        if (!p) return PF_ERR_OOM;
        u->node_id = p;
        u->cap_nodes = cap;
    }
    u->node_id[u->n_nodes] = -1;
    *node = u->n_nodes++;
    return PF_OK;
}

pf_status pf_tok_unigram_add(pf_tok_unigram *u, const char *piece, size_t len, double score) {
    if (u->n_nodes == 0) {
        int32_t root = 0;
        PF_TRY(add_node(u, &root));
    }
    if (u->n + 1 >= u->cap) {
        if (u->cap > INT32_MAX / 4) return pf_error(PF_ERR_OOM, "unigram vocabulary too large");
        int cap = u->cap ? u->cap * 2 : 1024;
        size_t *off = pf_realloc(u->off, (size_t)(cap + 1) * sizeof *off, "unigram vocabulary");
        if (!off) return PF_ERR_OOM;
        u->off = off;
        double *sc = pf_realloc(u->score, (size_t)cap * sizeof *sc, "unigram vocabulary");
        if (!sc) return PF_ERR_OOM;
        u->score = sc;
        u->cap = cap;
    }
    int32_t id = u->n;
    u->off[id] = u->strs.n;
    PF_TRY(pf_tok_buf_put(&u->strs, piece, len));
    u->off[id + 1] = u->strs.n;
    u->score[id] = score;
    u->n++;
    PF_TRY(pf_tok_map_set(&u->ids, piece, len, id));

    int32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t key = (uint64_t)node << 8 | (uint8_t)piece[i];
        int64_t child;
        if (!pf_tok_map64_get(&u->edges, key, &child)) {
            int32_t c = 0;
            PF_TRY(add_node(u, &c));
            PF_TRY(pf_tok_map64_set(&u->edges, key, c));
            child = c;
        }
        node = (int32_t)child;
    }
    /* The reference looks the matched string up in its token -> id map, so a
     * duplicated piece resolves to its last id. */
    u->node_id[node] = id;
    return PF_OK;
}

pf_status pf_tok_unigram_finish(pf_tok_unigram *u, int32_t unk_id, bool byte_fallback, const char *label) {
    if (u->n == 0) return pf_error(PF_ERR_FORMAT, "%s: the unigram vocabulary is empty", label);
    if (unk_id >= u->n)
        return pf_error(PF_ERR_FORMAT, "%s: unk_id %d is outside the vocabulary of %d pieces", label, unk_id, u->n);
    u->unk_id = unk_id < 0 ? -1 : unk_id;
    u->byte_fallback = byte_fallback;
    u->fuse_unk = true;
    u->min_score = INFINITY;
    for (int i = 0; i < u->n; i++)
        if (u->score[i] < u->min_score) u->min_score = u->score[i];
    return PF_OK;
}

bool pf_tok_unigram_id(const pf_tok_unigram *u, const char *piece, size_t len, int32_t *id) {
    return pf_tok_map_get(&u->ids, piece, len, id);
}

static pf_status scratch(pf_tok_unigram *u, size_t n) {
    if (n + 1 <= u->scratch_cap) return PF_OK;
    size_t cap = u->scratch_cap ? u->scratch_cap : 256;
    while (cap < n + 1) cap *= 2;
    double *b = pf_realloc(u->best, cap * sizeof *b, "unigram lattice");
    if (!b) return PF_ERR_OOM;
    u->best = b;
    int64_t *f = pf_realloc(u->from, cap * sizeof *f, "unigram lattice");
    if (!f) return PF_ERR_OOM;
    u->from = f;
    int32_t *v = pf_realloc(u->via, cap * sizeof *v, "unigram lattice");
    if (!v) return PF_ERR_OOM;
    u->via = v;
    u->scratch_cap = cap;
    return PF_OK;
}

/* Ids of one token string of the best path. */
static pf_status emit(pf_tok_unigram *u, const char *s, size_t n, pf_tok_ids *out) {
    int32_t id;
    if (pf_tok_map_get(&u->ids, s, n, &id)) return pf_tok_ids_push(out, id);
    if (u->byte_fallback) {
        int first = out->n;
        bool all = true;
        for (size_t i = 0; i < n && all; i++) {
            char name[8];
            snprintf(name, sizeof name, "<0x%02X>", (unsigned)(uint8_t)s[i]);
            all = pf_tok_map_get(&u->ids, name, 6, &id);
            if (all) PF_TRY(pf_tok_ids_push(out, id));
        }
        if (all) return PF_OK;
        out->n = first;
    }
    if (u->unk_id < 0) return pf_error(PF_ERR_FORMAT, "tokenizer: text needs an unknown token but the model has no unk_id");
    return pf_tok_ids_push(out, u->unk_id);
}

pf_status pf_tok_unigram_encode(pf_tok_unigram *u, const char *s, size_t n, pf_tok_ids *out) {
    if (n == 0) return PF_OK;
    PF_TRY(scratch(u, n));
    double *best = u->best;
    int64_t *from = u->from; /* -1: not reached */
    int32_t *via = u->via;   /* id of the node ending here; -2 marks an unknown node */
    for (size_t i = 0; i <= n; i++) {
        best[i] = 0.0;
        from[i] = -1;
        via[i] = -1;
    }
    const double unk_score = u->min_score - PF_UNK_PENALTY;
    size_t at = 0;
    while (at < n) {
        const double here = best[at];
        size_t mblen = (size_t)pf_tok_utf8_len((unsigned char)s[at]);
        if (mblen > n - at) mblen = n - at;
        bool single = false;
        int32_t node = 0;
        for (size_t k = at; k < n; k++) {
            int64_t child;
            if (!pf_tok_map64_get(&u->edges, (uint64_t)node << 8 | (uint8_t)s[k], &child)) break;
            node = (int32_t)child;
            int32_t id = u->node_id[node];
            if (id < 0) continue;
            size_t end = k + 1;
            double cand = u->score[id] + here;
            if (from[end] < 0 || cand > best[end]) {
                best[end] = cand;
                from[end] = (int64_t)at;
                via[end] = id;
            }
            if (end - at == mblen) single = true;
        }
        if (!single) {
            size_t end = at + mblen;
            double cand = unk_score + here;
            if (from[end] < 0 || cand > best[end]) {
                best[end] = cand;
                from[end] = (int64_t)at;
                via[end] = -2;
            }
        }
        at += mblen;
    }

    /* Backtrack, then emit left to right. Fused unknown runs are contiguous
     * byte ranges, so a token is just a (start, end) pair. */
    size_t ntok = 0;
    for (size_t e = n; e > 0; e = (size_t)from[e]) {
        if (from[e] < 0 || (size_t)from[e] >= e) return pf_error(PF_ERR_INTERNAL, "unigram: broken lattice path");
        ntok++;
    }
    size_t *cut = pf_malloc((ntok + 1) * sizeof *cut, "unigram path");
    bool *unk = pf_malloc((ntok + 1) * sizeof *unk, "unigram path");
    if (!cut || !unk) {
        free(cut);
        free(unk);
        return PF_ERR_OOM;
    }
    size_t t = ntok;
    cut[t] = n;
    for (size_t e = n; e > 0; e = (size_t)from[e]) {
        unk[t - 1] = via[e] == -2 || (u->unk_id >= 0 && via[e] == u->unk_id);
        cut[--t] = (size_t)from[e];
    }
    pf_status st = PF_OK;
    for (size_t i = 0; i < ntok && st == PF_OK;) {
        size_t j = i + 1;
        if (u->fuse_unk && u->unk_id >= 0 && unk[i])
            while (j < ntok && unk[j]) j++;
        st = emit(u, s + cut[i], cut[j] - cut[i], out);
        i = j;
    }
    free(cut);
    free(unk);
    return st;
}

void pf_tok_unigram_free(pf_tok_unigram *u) {
    pf_tok_buf_free(&u->strs);
    free(u->off);
    free(u->score);
    pf_tok_map_free(&u->ids);
    pf_tok_map64_free(&u->edges);
    free(u->node_id);
    free(u->best);
    free(u->from);
    free(u->via);
    memset(u, 0, sizeof *u);
}
