/* Open-addressing hash maps for the tokenizers: vocabularies (string -> id),
 * BPE merge ranks and trie edges (uint64 -> int64). */
#include "tok_internal.h"

static uint32_t hash_bytes(const char *k, size_t len) {
    /* FNV-1a: vocab keys are short, this is fast enough and has no bad inputs
     * we care about (the maps only hold the model's own strings). */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)k[i];
        h *= 16777619u;
    }
    return h;
}

static pf_status map_grow(pf_tok_map *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint32_t *slots = pf_calloc(cap, sizeof *slots, "tokenizer hash map");
    if (!slots) return PF_ERR_OOM;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = m->ent[i].hash & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return PF_OK;
}

pf_status pf_tok_map_set(pf_tok_map *m, const char *k, size_t len, int32_t val) {
    if (len > UINT32_MAX || m->n >= UINT32_MAX - 1) return pf_error(PF_ERR_OOM, "tokenizer: vocabulary too large");
    if ((m->n + 1) * 2 > m->cap) PF_TRY(map_grow(m));
    uint32_t h = hash_bytes(k, len);
    size_t j = h & (m->cap - 1);
    while (m->slots[j]) {
        struct pf_tok_map_ent *e = &m->ent[m->slots[j] - 1];
        if (e->hash == h && e->len == len && !memcmp(m->keys.p + e->off, k, len)) {
            e->val = val;
            return PF_OK;
        }
        j = (j + 1) & (m->cap - 1);
    }
    if (m->n == m->ent_cap) {
        size_t cap = m->ent_cap ? m->ent_cap * 2 : 64;
        struct pf_tok_map_ent *ent = pf_realloc(m->ent, cap * sizeof *ent, "tokenizer hash map");
        if (!ent) return PF_ERR_OOM;
        m->ent = ent;
        m->ent_cap = cap;
    }
    size_t off = m->keys.n;
    PF_TRY(pf_tok_buf_put(&m->keys, k, len));
    m->ent[m->n] = (struct pf_tok_map_ent){off, (uint32_t)len, h, val};
    m->slots[j] = (uint32_t)(++m->n);
    return PF_OK;
}

bool pf_tok_map_get(const pf_tok_map *m, const char *k, size_t len, int32_t *val) {
    if (!m->cap) return false;
    uint32_t h = hash_bytes(k, len);
    size_t j = h & (m->cap - 1);
    while (m->slots[j]) {
        const struct pf_tok_map_ent *e = &m->ent[m->slots[j] - 1];
        if (e->hash == h && e->len == len && !memcmp(m->keys.p + e->off, k, len)) {
            if (val) *val = e->val;
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return false;
}

void pf_tok_map_free(pf_tok_map *m) {
    free(m->slots);
    free(m->ent);
    pf_tok_buf_free(&m->keys);
    memset(m, 0, sizeof *m);
}

/* ---- uint64 -> int64 ---- */

static size_t hash64(uint64_t k, size_t cap) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static pf_status map64_grow(pf_tok_map64 *m) {
    size_t cap = m->cap ? m->cap * 2 : 256;
    uint64_t *keys = pf_malloc(cap * sizeof *keys, "tokenizer hash map");
    int64_t *vals = pf_malloc(cap * sizeof *vals, "tokenizer hash map");
    uint8_t *used = pf_calloc(cap, 1, "tokenizer hash map");
    if (!keys || !vals || !used) {
        free(keys);
        free(vals);
        free(used);
        return PF_ERR_OOM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->used[i]) continue;
        size_t j = hash64(m->keys[i], cap);
        while (used[j]) j = (j + 1) & (cap - 1);
        used[j] = 1;
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    free(m->used);
    m->keys = keys;
    m->vals = vals;
    m->used = used;
    m->cap = cap;
    return PF_OK;
}

pf_status pf_tok_map64_set(pf_tok_map64 *m, uint64_t key, int64_t val) {
    if ((m->n + 1) * 2 > m->cap) PF_TRY(map64_grow(m));
    size_t j = hash64(key, m->cap);
    while (m->used[j]) {
        if (m->keys[j] == key) {
            m->vals[j] = val;
            return PF_OK;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->used[j] = 1;
    m->keys[j] = key;
    m->vals[j] = val;
    m->n++;
    return PF_OK;
}

bool pf_tok_map64_get(const pf_tok_map64 *m, uint64_t key, int64_t *val) {
    if (!m->cap) return false;
    size_t j = hash64(key, m->cap);
    while (m->used[j]) {
        if (m->keys[j] == key) {
            if (val) *val = m->vals[j];
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return false;
}

void pf_tok_map64_free(pf_tok_map64 *m) {
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof *m);
}
