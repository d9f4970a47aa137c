/*
 * CLIP's byte-level BPE (openai/CLIP simple_tokenizer.py, the same routine as
 * transformers' CLIPTokenizer.bpe):
 *
 *  - a word's UTF-8 bytes map to GPT-2's printable "byte-to-unicode"
 *    characters, one symbol per byte, the last one with "</w>" appended;
 *  - repeatedly take the adjacent pair with the lowest merge rank and merge
 *    every occurrence of it left to right, until no pair has a rank.
 *
 * Symbols are interned strings (vocabulary tokens and both halves and result
 * of every merge), so a merge is a lookup (a, b) -> (rank, a+b). The passes
 * are driven by a min-heap of (rank, position): popping one rank gives all
 * occurrences of that pair, which are merged left to right exactly as the
 * Python loop does, in O(n log n) instead of the reference's O(n^2).
 *
 * merges.txt is read as transformers reads it: the text stripped, split on
 * '\n', lines 1 .. 48894 (49152 - 256 - 2) used, line k getting rank k - 1.
 */
#include "tok_clip_internal.h"

#include <cjson/cJSON.h>

#define PF_CLIP_MERGES_USED (49152 - 256 - 2)
#define PF_BPE_CACHE_MAX 65536 /* words; the cache is dropped and rebuilt past this */

/* GPT-2 bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the
 * other 68 bytes take U+0100.. in byte order. */
static int32_t byte_char(int b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return b;
    int n = 0;
    for (int x = 0; x < b; x++)
        if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) n++;
    return 256 + n;
}

static pf_status intern(pf_tok_bpe *b, const char *s, size_t n, int32_t *sym) {
    int32_t id;
    if (pf_tok_map_get(&b->sym, s, n, &id)) {
        *sym = id;
        return PF_OK;
    }
    if (b->n_sym + 1 >= b->cap_sym) {
        if (b->cap_sym > INT32_MAX / 4) return pf_error(PF_ERR_OOM, "BPE: too many symbols");
        int cap = b->cap_sym ? b->cap_sym * 2 : 4096;
        size_t *off = pf_realloc(b->sym_off, (size_t)(cap + 1) * sizeof *off, "BPE symbols");
        if (!off) return PF_ERR_OOM;
        b->sym_off = off;
        int32_t *ids = pf_realloc(b->sym_id, (size_t)cap * sizeof *ids, "BPE symbols");
        if (!ids) return PF_ERR_OOM;
        b->sym_id = ids;
        b->cap_sym = cap;
    }
    id = b->n_sym;
    b->sym_off[id] = b->sym_str.n;
    PF_TRY(pf_tok_buf_put(&b->sym_str, s, n));
    b->sym_off[id + 1] = b->sym_str.n;
    b->sym_id[id] = -1;
    PF_TRY(pf_tok_map_set(&b->sym, s, n, id));
    b->n_sym++;
    *sym = id;
    return PF_OK;
}

static pf_status load_vocab(pf_tok_bpe *b, const char *path) {
    cJSON *root = NULL;
    PF_TRY(pf_tok_json_load(path, &root));
    pf_status st = cJSON_IsObject(root) ? PF_OK : pf_error(PF_ERR_FORMAT, "%s: not a JSON object of token -> id", path);
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        if (st != PF_OK) break;
        double d = it->valuedouble;
        if (!cJSON_IsNumber(it) || !(d >= 0 && d <= INT32_MAX) || d != (double)(int32_t)d) {
            st = pf_error(PF_ERR_FORMAT, "%s: the id of \"%.40s\" is not an integer in [0, 2^31)", path,
                          it->string ? it->string : "?");
            break;
        }
        size_t len = strlen(it->string);
        if (!pf_tok_utf8_valid(it->string, len)) {
            st = pf_error(PF_ERR_FORMAT, "%s: a token is not valid UTF-8", path);
            break;
        }
        st = pf_tok_map_set(&b->vocab, it->string, len, (int32_t)d);
    }
    if (st == PF_OK && b->vocab.n == 0) st = pf_error(PF_ERR_FORMAT, "%s: the vocabulary is empty", path);
    cJSON_Delete(root);
    return st;
}

/* Python str.split() on one line: the fields between runs of whitespace. */
static int split_fields(const char *s, size_t n, const char **f, size_t *fl, int max) {
    int k = 0;
    size_t i = 0;
    while (i < n) {
        int32_t c;
        int l = pf_tok_utf8_next(s + i, n - i, &c);
        if (pf_tok_py_isspace(c)) {
            i += (size_t)l;
            continue;
        }
        size_t start = i;
        while (i < n) {
            l = pf_tok_utf8_next(s + i, n - i, &c);
            if (pf_tok_py_isspace(c)) break;
            i += (size_t)l;
        }
        if (k < max) {
            f[k] = s + start;
            fl[k] = i - start;
        }
        k++;
    }
    return k;
}

static pf_status load_merges(pf_tok_bpe *b, const char *path) {
    char *data = NULL;
    size_t len = 0;
    PF_TRY(pf_read_file(path, &data, &len));
    if (!pf_tok_utf8_valid(data, len)) {
        free(data);
        return pf_error(PF_ERR_FORMAT, "%s: not valid UTF-8", path);
    }
    /* universal newlines, then str.strip() */
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\r') {
            data[w++] = '\n';
            if (i + 1 < len && data[i + 1] == '\n') i++;
        } else {
            data[w++] = data[i];
        }
    }
    len = w;
    size_t b0 = 0, e0 = len;
    for (;;) { /* leading isspace */
        int32_t c;
        if (b0 >= e0) break;
        int l = pf_tok_utf8_next(data + b0, e0 - b0, &c);
        if (!pf_tok_py_isspace(c)) break;
        b0 += (size_t)l;
    }
    while (e0 > b0) { /* trailing isspace */
        size_t p = e0 - 1;
        while (p > b0 && ((unsigned char)data[p] & 0xC0) == 0x80) p--;
        int32_t c;
        pf_tok_utf8_next(data + p, e0 - p, &c);
        if (!pf_tok_py_isspace(c)) break;
        e0 = p;
    }
    pf_status st = PF_OK;
    pf_tok_buf cat = {0};
    long line = 0;
    size_t i = b0;
    while (i <= e0 && st == PF_OK && line <= PF_CLIP_MERGES_USED) {
        size_t j = i;
        while (j < e0 && data[j] != '\n') j++;
        if (line >= 1) {
            const char *f[3];
            size_t fl[3];
            /* a line without exactly two fields takes its rank but can never match */
            if (split_fields(data + i, j - i, f, fl, 3) == 2) {
                int32_t a, c, m;
                pf_tok_buf_clear(&cat);
                st = intern(b, f[0], fl[0], &a);
                if (st == PF_OK) st = intern(b, f[1], fl[1], &c);
                if (st == PF_OK) st = pf_tok_buf_put(&cat, f[0], fl[0]);
                if (st == PF_OK) st = pf_tok_buf_put(&cat, f[1], fl[1]);
                if (st == PF_OK) st = intern(b, cat.p, cat.n, &m);
                if (st == PF_OK)
                    st = pf_tok_map64_set(&b->merges, (uint64_t)(uint32_t)a << 32 | (uint32_t)c,
                                          (int64_t)(line - 1) << 32 | (uint32_t)m);
            }
        }
        line++;
        i = j + 1;
    }
    pf_tok_buf_free(&cat);
    free(data);
    return st;
}

pf_status pf_tok_bpe_load(pf_tok_bpe *b, const char *vocab_path, const char *merges_path) {
    memset(b, 0, sizeof *b);
    PF_TRY(load_vocab(b, vocab_path));
    /* the initial symbols of every byte, inside and at the end of a word */
    for (int x = 0; x < 256; x++) {
        pf_tok_buf s = {0};
        pf_status st = pf_tok_buf_put_cp(&s, byte_char(x));
        if (st == PF_OK) st = intern(b, s.p, s.n, &b->byte_sym[x]);
        if (st == PF_OK) st = pf_tok_buf_put(&s, "</w>", 4);
        if (st == PF_OK) st = intern(b, s.p, s.n, &b->byte_end_sym[x]);
        pf_tok_buf_free(&s);
        PF_TRY(st);
    }
    return load_merges(b, merges_path);
}

bool pf_tok_bpe_token_id(const pf_tok_bpe *b, const pf_tok_added_set *added, const char *s, size_t n, int32_t *id) {
    int k = pf_tok_added_find(added, s, n);
    if (k >= 0) {
        *id = added->tok[k].id;
        return true;
    }
    return pf_tok_map_get(&b->vocab, s, n, id);
}

pf_status pf_tok_bpe_resolve(pf_tok_bpe *b, const pf_tok_added_set *added, int32_t unk_id) {
    for (int i = 0; i < b->n_sym; i++) {
        int32_t id;
        const char *s = b->sym_str.p + b->sym_off[i];
        size_t n = b->sym_off[i + 1] - b->sym_off[i];
        b->sym_id[i] = pf_tok_bpe_token_id(b, added, s, n, &id) ? id : unk_id;
    }
    return PF_OK;
}

/* ---- the merge loop ---- */

static bool pair_rank(const pf_tok_bpe *b, int32_t x, int32_t y, uint32_t *rank, int32_t *merged) {
    int64_t v;
    if (!pf_tok_map64_get(&b->merges, (uint64_t)(uint32_t)x << 32 | (uint32_t)y, &v)) return false;
    *rank = (uint32_t)(v >> 32);
    *merged = (int32_t)(uint32_t)v;
    return true;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t v) {
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= last) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

static pf_status scratch(pf_tok_bpe *b, size_t n) {
    if (n > INT32_MAX / 2) return pf_error(PF_ERR_OOM, "BPE: word too long");
    if (n > b->w_cap) {
        size_t cap = b->w_cap ? b->w_cap : 64;
        while (cap < n) cap *= 2;
        int32_t *s = pf_realloc(b->w_sym, cap * sizeof *s, "BPE word");
        if (!s) return PF_ERR_OOM;
        b->w_sym = s;
        int32_t *p = pf_realloc(b->w_prev, cap * sizeof *p, "BPE word");
        if (!p) return PF_ERR_OOM;
        b->w_prev = p;
        int32_t *q = pf_realloc(b->w_next, cap * sizeof *q, "BPE word");
        if (!q) return PF_ERR_OOM;
        b->w_next = q;
        b->w_cap = cap;
    }
    /* n - 1 initial pairs and at most two per merge: 3n bounds both the heap
     * and one batch of popped entries. */
    if (3 * n > b->heap_cap) {
        size_t cap = 3 * n;
        uint64_t *h = pf_realloc(b->heap, cap * sizeof *h, "BPE heap");
        if (!h) return PF_ERR_OOM;
        b->heap = h;
        uint64_t *t = pf_realloc(b->batch, cap * sizeof *t, "BPE heap");
        if (!t) return PF_ERR_OOM;
        b->batch = t;
        b->heap_cap = cap;
    }
    return PF_OK;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static pf_status bpe(pf_tok_bpe *b, const unsigned char *w, size_t n, pf_tok_ids *out) {
    PF_TRY(scratch(b, n));
    int32_t *sym = b->w_sym, *prev = b->w_prev, *next = b->w_next;
    uint64_t *h = b->heap;
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        sym[i] = i + 1 == n ? b->byte_end_sym[w[i]] : b->byte_sym[w[i]];
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    uint32_t r;
    int32_t m;
    for (size_t i = 0; i + 1 < n; i++)
        if (pair_rank(b, sym[i], sym[i + 1], &r, &m)) heap_push(h, &hn, (uint64_t)r << 32 | i);
    /* dead nodes have sym -1 */
    while (hn > 0) {
        uint64_t first = heap_pop(h, &hn);
        uint32_t rank = (uint32_t)(first >> 32);
        /* every entry of this rank (= this pair), merged in word order */
        uint64_t *pos = b->batch;
        size_t nb = 0;
        pos[nb++] = first & 0xFFFFFFFFu;
        while (hn > 0 && (uint32_t)(h[0] >> 32) == rank) pos[nb++] = heap_pop(h, &hn) & 0xFFFFFFFFu;
        qsort(pos, nb, sizeof *pos, cmp_u64);
        for (size_t k = 0; k < nb; k++) {
            int32_t p = (int32_t)pos[k];
            if (k > 0 && pos[k] == pos[k - 1]) continue;
            if (sym[p] < 0 || next[p] < 0) continue;
            int32_t q = next[p];
            if (!pair_rank(b, sym[p], sym[q], &r, &m) || r != rank) continue; /* stale entry */
            sym[p] = m;
            sym[q] = -1;
            next[p] = next[q];
            if (next[q] >= 0) prev[next[q]] = p;
            if (prev[p] >= 0 && pair_rank(b, sym[prev[p]], sym[p], &r, &m))
                heap_push(h, &hn, (uint64_t)r << 32 | (uint32_t)prev[p]);
            if (next[p] >= 0 && pair_rank(b, sym[p], sym[next[p]], &r, &m))
                heap_push(h, &hn, (uint64_t)r << 32 | (uint32_t)p);
        }
    }
    for (int32_t i = 0; i >= 0; i = next[i]) PF_TRY(pf_tok_ids_push(out, b->sym_id[sym[i]]));
    return PF_OK;
}

pf_status pf_tok_bpe_word(pf_tok_bpe *b, const pf_tok_added_set *added, int32_t unk_id, const char *w, size_t n,
                          pf_tok_ids *out) {
    if (n == 0) return PF_OK;
    /* CLIPTokenizer's cache starts with these two, mapped to themselves */
    if ((n == 15 && !memcmp(w, "<|startoftext|>", 15)) || (n == 13 && !memcmp(w, "<|endoftext|>", 13))) {
        int32_t id;
        return pf_tok_ids_push(out, pf_tok_bpe_token_id(b, added, w, n, &id) ? id : unk_id);
    }
    int32_t c;
    if (pf_tok_map_get(&b->cache, w, n, &c))
        return pf_tok_ids_append(out, b->cache_ids.v + b->cache_off[c], b->cache_off[c + 1] - b->cache_off[c]);
    int first = out->n;
    PF_TRY(bpe(b, (const unsigned char *)w, n, out));
    if (b->n_cache >= PF_BPE_CACHE_MAX) {
        pf_tok_map_free(&b->cache);
        b->cache_ids.n = 0;
        b->n_cache = 0;
    }
    if (b->n_cache + 1 >= b->cap_cache) {
        int cap = b->cap_cache ? b->cap_cache * 2 : 1024;
        int32_t *off = pf_realloc(b->cache_off, (size_t)(cap + 1) * sizeof *off, "BPE cache");
        if (!off) return PF_ERR_OOM;
        b->cache_off = off;
        b->cap_cache = cap;
    }
    if (b->n_cache == 0) b->cache_off[0] = 0;
    PF_TRY(pf_tok_ids_append(&b->cache_ids, out->v + first, out->n - first));
    PF_TRY(pf_tok_map_set(&b->cache, w, n, b->n_cache));
    b->cache_off[++b->n_cache] = b->cache_ids.n;
    return PF_OK;
}

void pf_tok_bpe_free(pf_tok_bpe *b) {
    pf_tok_map_free(&b->vocab);
    pf_tok_map_free(&b->sym);
    pf_tok_buf_free(&b->sym_str);
    free(b->sym_off);
    free(b->sym_id);
    pf_tok_map64_free(&b->merges);
    pf_tok_map_free(&b->cache);
    pf_tok_ids_free(&b->cache_ids);
    free(b->cache_off);
    free(b->w_sym);
    free(b->w_prev);
    free(b->w_next);
    free(b->heap);
    free(b->batch);
    memset(b, 0, sizeof *b);
}
