/*
 * CLIP tokenizer with the behaviour of transformers' slow CLIPTokenizer with
 * ftfy installed (shared/golden/tokenizers/README.md, CLIP):
 *
 *   1. split the raw text on the added tokens (<|startoftext|>, <|endoftext|>,
 *      and for SD3's CLIP-G tokenizer_2 also its pad token "!"), case-sensitive,
 *      leftmost-longest (PreTrainedTokenizer.tokenize + Trie.split);
 *   2. each other chunk: ftfy.fix_text, whitespace_clean, lower, the word regex;
 *   3. byte-level BPE per word (tok_bpe.c).
 *
 * The folder's tokenizer_config.json / special_tokens_map.json give the
 * special tokens (defaults: CLIPTokenizer's) and added_tokens_decoder.
 */
#include "tok_clip_internal.h"

#include <cjson/cJSON.h>

struct pf_tok_clip {
    pf_tok_bpe bpe;
    pf_tok_added_set added;
    int32_t unk_id;
};

/* bos, eos, unk, pad: the order of transformers' all_special_tokens_extended */
enum { SP_BOS, SP_EOS, SP_UNK, SP_PAD, SP_N };
static const char *const sp_keys[SP_N] = {"bos_token", "eos_token", "unk_token", "pad_token"};

typedef struct special {
    char *content;
    bool lstrip, rstrip;
} special;

static bool jbool(const cJSON *o, const char *k, bool def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

static pf_status set_special(special *s, const cJSON *v, const char *path, const char *key) {
    if (!v || cJSON_IsNull(v)) return PF_OK;
    const char *c = pf_tok_json_token_content(v);
    if (!c) return pf_error(PF_ERR_FORMAT, "%s: \"%s\" is neither a string nor a token object", path, key);
    char *d = pf_strdup(c);
    if (!d) return PF_ERR_OOM;
    free(s->content);
    s->content = d;
    s->lstrip = cJSON_IsObject(v) && jbool(v, "lstrip", false);
    s->rstrip = cJSON_IsObject(v) && jbool(v, "rstrip", false);
    return PF_OK;
}

/* tokenizer_config.json: special tokens and added_tokens_decoder. */
static pf_status read_config(pf_tok_clip *t, const char *path, special *sp) {
    cJSON *root = NULL;
    PF_TRY(pf_tok_json_load(path, &root));
    pf_status st = cJSON_IsObject(root) ? PF_OK : pf_error(PF_ERR_FORMAT, "%s: not a JSON object", path);
    for (int i = 0; i < SP_N && st == PF_OK; i++)
        st = set_special(&sp[i], cJSON_GetObjectItemCaseSensitive(root, sp_keys[i]), path, sp_keys[i]);
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "added_tokens_decoder"), *it;
    if (st == PF_OK && dec && !cJSON_IsObject(dec))
        st = pf_error(PF_ERR_FORMAT, "%s: \"added_tokens_decoder\" is not an object", path);
    if (st == PF_OK && dec) {
        cJSON_ArrayForEach(it, dec) {
            const char *c = pf_tok_json_token_content(it);
            char *end = NULL;
            long id = strtol(it->string, &end, 10);
            if (!c || !cJSON_IsObject(it) || !end || *end || end == it->string || id < 0 || id > INT32_MAX) {
                st = pf_error(PF_ERR_FORMAT, "%s: added_tokens_decoder entry \"%.20s\" is malformed", path,
                              it->string ? it->string : "?");
                break;
            }
            bool special_tok = jbool(it, "special", false);
            st = pf_tok_added_add(&t->added, c, strlen(c), (int32_t)id, jbool(it, "lstrip", false),
                                  jbool(it, "rstrip", false), jbool(it, "single_word", false),
                                  jbool(it, "normalized", !special_tok), special_tok);
            if (st != PF_OK) break;
        }
    }
    cJSON_Delete(root);
    return st;
}

static pf_status read_special_map(const char *path, special *sp) {
    cJSON *root = NULL;
    PF_TRY(pf_tok_json_load(path, &root));
    pf_status st = cJSON_IsObject(root) ? PF_OK : pf_error(PF_ERR_FORMAT, "%s: not a JSON object", path);
    for (int i = 0; i < SP_N && st == PF_OK; i++)
        st = set_special(&sp[i], cJSON_GetObjectItemCaseSensitive(root, sp_keys[i]), path, sp_keys[i]);
    cJSON_Delete(root);
    return st;
}

static pf_status load_configs(pf_tok_clip *t, const char *dir, special *sp) {
    const char *files[2] = {"tokenizer_config.json", "special_tokens_map.json"};
    for (int f = 0; f < 2; f++) {
        char *p = pf_path_join(dir, files[f]);
        if (!p) return PF_ERR_OOM;
        pf_status st = PF_OK;
        if (pf_file_exists(p)) st = f == 0 ? read_config(t, p, sp) : read_special_map(p, sp);
        free(p);
        PF_TRY(st);
    }
    /* Special tokens that are not added tokens yet become ones (transformers'
     * _add_tokens): with their vocabulary id, or a new id after it. */
    int32_t next_new = (int32_t)t->bpe.vocab.n;
    for (int i = 0; i < SP_N; i++) {
        size_t n = strlen(sp[i].content);
        if (n == 0 || pf_tok_added_find(&t->added, sp[i].content, n) >= 0) continue;
        int32_t id;
        if (!pf_tok_map_get(&t->bpe.vocab, sp[i].content, n, &id)) id = next_new++;
        PF_TRY(pf_tok_added_add(&t->added, sp[i].content, n, id, sp[i].lstrip, sp[i].rstrip, false, false, true));
    }
    return PF_OK;
}

static pf_status special_id(pf_tok_clip *t, const char *content, const char *what, const char *dir, int32_t *id) {
    if (pf_tok_bpe_token_id(&t->bpe, &t->added, content, strlen(content), id)) return PF_OK;
    return pf_error(PF_ERR_FORMAT, "%s: %s \"%s\" has no id", dir, what, content);
}

pf_status pf_tok_clip_load(const char *dir, const char *vocab_dir, pf_tok_clip **out, int32_t *pad_id,
                           pf_tok_ids *prefix, pf_tok_ids *suffix) {
    *out = NULL;
    if (!dir) return pf_error(PF_ERR_INVALID_ARG, "CLIP tokenizer: no folder given");
    if (!vocab_dir) vocab_dir = dir;
    pf_tok_clip *t = pf_calloc(1, sizeof *t, "CLIP tokenizer");
    if (!t) return PF_ERR_OOM;
    special sp[SP_N] = {{0}};
    const char *defaults[SP_N] = {"<|startoftext|>", "<|endoftext|>", "<|endoftext|>", "<|endoftext|>"};
    char *vocab = pf_path_join(vocab_dir, "vocab.json"), *merges = pf_path_join(vocab_dir, "merges.txt");
    pf_status st = vocab && merges ? PF_OK : PF_ERR_OOM;
    for (int i = 0; i < SP_N && st == PF_OK; i++)
        if (!(sp[i].content = pf_strdup(defaults[i]))) st = PF_ERR_OOM;
    if (st == PF_OK && !pf_file_exists(vocab)) st = pf_error(PF_ERR_IO, "%s: missing (CLIP vocabulary)", vocab);
    if (st == PF_OK && !pf_file_exists(merges)) st = pf_error(PF_ERR_IO, "%s: missing (CLIP merges)", merges);
    if (st == PF_OK) st = pf_tok_bpe_load(&t->bpe, vocab, merges);
    if (st == PF_OK) st = load_configs(t, dir, sp);
    /* unknown tokens: encoder.get(token, encoder.get(unk_token)) */
    if (st == PF_OK && !pf_tok_map_get(&t->bpe.vocab, sp[SP_UNK].content, strlen(sp[SP_UNK].content), &t->unk_id))
        st = special_id(t, sp[SP_UNK].content, "unk_token", dir, &t->unk_id);
    int32_t bos = 0, eos = 0;
    if (st == PF_OK) st = special_id(t, sp[SP_BOS].content, "bos_token", dir, &bos);
    if (st == PF_OK) st = special_id(t, sp[SP_EOS].content, "eos_token", dir, &eos);
    if (st == PF_OK) st = special_id(t, sp[SP_PAD].content, "pad_token", dir, pad_id);
    if (st == PF_OK) st = pf_tok_ids_push(prefix, bos);
    if (st == PF_OK) st = pf_tok_ids_push(suffix, eos);
    if (st == PF_OK) st = pf_tok_bpe_resolve(&t->bpe, &t->added, t->unk_id);
    for (int i = 0; i < SP_N; i++) free(sp[i].content);
    free(vocab);
    free(merges);
    if (st != PF_OK) {
        pf_tok_clip_free(t);
        return st;
    }
    *out = t;
    return PF_OK;
}

void pf_tok_clip_free(pf_tok_clip *t) {
    if (!t) return;
    pf_tok_bpe_free(&t->bpe);
    pf_tok_added_free(&t->added);
    free(t);
}

/* ---- encoding ---- */

/* CLIPTokenizer._tokenize on one chunk of valid UTF-8. */
static pf_status tokenize_chunk(pf_tok_clip *t, const char *s, size_t n, pf_tok_ids *ids) {
    pf_tok_cps cps = {0};
    pf_tok_spans words = {0};
    pf_tok_buf w = {0};
    pf_status st = pf_tok_cps_from_utf8(&cps, s, n);
    if (st == PF_OK) st = pf_tok_ftfy_fix_text(&cps);
    if (st == PF_OK) st = pf_tok_clip_clean_lower(&cps);
    if (st == PF_OK) st = pf_tok_clip_words(&cps, &words);
    for (int i = 0; i < words.n && st == PF_OK; i++) {
        pf_tok_buf_clear(&w);
        st = pf_tok_cps_to_utf8(cps.v + words.v[i].off, words.v[i].len, &w);
        if (st == PF_OK) st = pf_tok_bpe_word(&t->bpe, &t->added, t->unk_id, w.p, w.n, ids);
    }
    pf_tok_buf_free(&w);
    pf_tok_spans_free(&words);
    pf_tok_cps_free(&cps);
    return st;
}

/* str.lstrip() / str.rstrip() on a span */
static void strip_span(const char *s, pf_tok_span *p, bool left, bool right) {
    int32_t c;
    while (left && p->len > 0) {
        int l = pf_tok_utf8_next(s + p->off, p->len, &c);
        if (!pf_tok_py_isspace(c)) break;
        p->off += (size_t)l;
        p->len -= (size_t)l;
    }
    while (right && p->len > 0) {
        size_t e = p->off + p->len, q = e - 1;
        while (q > p->off && ((unsigned char)s[q] & 0xC0) == 0x80) q--;
        pf_tok_utf8_next(s + q, e - q, &c);
        if (!pf_tok_py_isspace(c)) break;
        p->len = q - p->off;
    }
}

pf_status pf_tok_clip_encode(pf_tok_clip *t, const char *text, size_t n, pf_tok_ids *ids) {
    pf_tok_spans sp = {0};
    pf_status st = PF_OK;
    size_t last = 0, i = 0;
    while (i < n && st == PF_OK) {
        int k = pf_tok_added_match_at(&t->added, text, n, i, -1);
        if (k < 0) {
            i++;
            continue;
        }
        if (i > last) st = pf_tok_spans_push(&sp, last, i - last, -1);
        if (st == PF_OK) st = pf_tok_spans_push(&sp, i, t->added.tok[k].len, k);
        i += t->added.tok[k].len;
        last = i;
    }
    if (st == PF_OK && last < n) st = pf_tok_spans_push(&sp, last, n - last, -1);

    /* In order, as the reference loops: an added token's rstrip/lstrip strip
     * the neighbouring pieces; then each piece is an added token if its
     * (possibly stripped) text is one, otherwise text to tokenize. */
    for (int p = 0; p < sp.n && st == PF_OK; p++) {
        int k = pf_tok_added_find(&t->added, text + sp.v[p].off, sp.v[p].len);
        if (k >= 0) {
            if (t->added.tok[k].rstrip && p + 1 < sp.n) strip_span(text, &sp.v[p + 1], true, false);
            if (t->added.tok[k].lstrip && p > 0) strip_span(text, &sp.v[p - 1], false, true);
        }
    }
    for (int p = 0; p < sp.n && st == PF_OK; p++) {
        if (sp.v[p].len == 0) continue;
        int k = pf_tok_added_find(&t->added, text + sp.v[p].off, sp.v[p].len);
        if (k >= 0)
            st = pf_tok_ids_push(ids, t->added.tok[k].id);
        else
            st = tokenize_chunk(t, text + sp.v[p].off, sp.v[p].len, ids);
    }
    pf_tok_spans_free(&sp);
    return st;
}
