/* CLIP tokenizer internals shared by tok_clip*.c, tok_bpe.c and the HTML
 * entity table. Private to those files. */
#ifndef PF_TOK_CLIP_INTERNAL_H
#define PF_TOK_CLIP_INTERNAL_H

#include "tok_internal.h"

/* ---- text as code points (ftfy and the regex work per code point) ---- */
typedef struct pf_tok_cps {
    int32_t *v;
    size_t n, cap;
} pf_tok_cps;

pf_status pf_tok_cps_push(pf_tok_cps *a, int32_t cp);
pf_status pf_tok_cps_from_utf8(pf_tok_cps *a, const char *s, size_t n); /* appends; s valid UTF-8 */
pf_status pf_tok_cps_to_utf8(const int32_t *v, size_t n, pf_tok_buf *out); /* appends */
void pf_tok_cps_free(pf_tok_cps *a);

/* ---- ftfy ---- */
typedef struct pf_tok_html_entity {
    const char *name; /* between '&' and ';' */
    const char *value;
} pf_tok_html_entity;

extern const pf_tok_html_entity pf_tok_html_entities[];
extern const int pf_tok_n_html_entities;

/* ftfy.fix_text(text) with default settings (ftfy 6.3), replacing in *t. */
pf_status pf_tok_ftfy_fix_text(pf_tok_cps *t);
/* ftfy's fix_encoding (mojibake repair) on one segment; *changed tells
 * whether it rewrote the text. */
pf_status pf_tok_ftfy_fix_encoding(pf_tok_cps *t, bool *changed);
/* Windows-1252 meaning of a C1 control U+0080..U+009F ("sloppy": the five
 * unassigned bytes keep their code point). */
int32_t pf_tok_cp1252_c1(int32_t cp);

/* ---- CLIP text steps after ftfy ---- */
/* whitespace_clean(text).lower(): \s+ -> ' ', strip, Python's str.lower(). */
pf_status pf_tok_clip_clean_lower(pf_tok_cps *t);
/* The pre-tokenizer regex: spans [off, off+len) of code points in t. */
pf_status pf_tok_clip_words(const pf_tok_cps *t, pf_tok_spans *words);

/* ---- byte-level BPE (openai/CLIP simple_tokenizer / transformers CLIPTokenizer) ---- */
typedef struct pf_tok_bpe {
    pf_tok_map vocab;      /* vocab.json: token -> id */
    pf_tok_map sym;        /* symbol string -> symbol index */
    pf_tok_buf sym_str;    /* symbol strings */
    size_t *sym_off;       /* symbol i = sym_str.p[sym_off[i] .. sym_off[i+1]) */
    int32_t *sym_id;       /* symbol -> token id (added token, vocab, or unk) */
    int n_sym, cap_sym;
    pf_tok_map64 merges;   /* (a << 32 | b) -> (rank << 32 | merged symbol) */
    int32_t byte_sym[256];     /* symbol of a byte inside a word */
    int32_t byte_end_sym[256]; /* symbol of a word's last byte (+ "</w>") */
    /* word cache: word bytes -> ids */
    pf_tok_map cache;
    pf_tok_ids cache_ids;
    int32_t *cache_off;
    int n_cache, cap_cache;
    /* scratch */
    int32_t *w_sym, *w_prev, *w_next;
    uint64_t *heap, *batch;
    size_t w_cap, heap_cap;
} pf_tok_bpe;

pf_status pf_tok_bpe_load(pf_tok_bpe *b, const char *vocab_path, const char *merges_path);
/* Id of a token string as CLIPTokenizer converts it: added tokens first, then
 * the vocabulary; false if neither has it. */
bool pf_tok_bpe_token_id(const pf_tok_bpe *b, const pf_tok_added_set *added, const char *s, size_t n, int32_t *id);
/* Fix every symbol's output id once the added tokens and unk are known. */
pf_status pf_tok_bpe_resolve(pf_tok_bpe *b, const pf_tok_added_set *added, int32_t unk_id);
/* Append the ids of one pre-token word (its UTF-8 bytes). */
pf_status pf_tok_bpe_word(pf_tok_bpe *b, const pf_tok_added_set *added, int32_t unk_id, const char *w, size_t n,
                          pf_tok_ids *out);
void pf_tok_bpe_free(pf_tok_bpe *b);

#endif /* PF_TOK_CLIP_INTERNAL_H */
