/*
 * Internals shared by the tokenizer files (model/tok_*.c). Not part of any
 * contract: pf_tokenizer.h is the interface.
 *
 * Text inside the tokenizers is always valid UTF-8: pf_tok_utf8_sanitize()
 * replaces invalid input bytes with U+FFFD first (what Python's
 * bytes.decode("utf-8", "replace") does), so the later stages may decode
 * without re-checking.
 */
#ifndef PF_TOK_INTERNAL_H
#define PF_TOK_INTERNAL_H

#include "pf_common.h"
#include "pf_tokenizer.h"

#include <stdint.h>

/* ---- growable byte string (always NUL-terminated once allocated) ---- */
typedef struct pf_tok_buf {
    char *p;
    size_t n, cap;
} pf_tok_buf;

pf_status pf_tok_buf_reserve(pf_tok_buf *b, size_t extra);
pf_status pf_tok_buf_put(pf_tok_buf *b, const void *s, size_t n);
pf_status pf_tok_buf_put_cp(pf_tok_buf *b, int32_t cp);
void pf_tok_buf_clear(pf_tok_buf *b); /* keeps the memory */
void pf_tok_buf_free(pf_tok_buf *b);

/* ---- growable id list ---- */
typedef struct pf_tok_ids {
    int32_t *v;
    int n, cap;
} pf_tok_ids;

pf_status pf_tok_ids_push(pf_tok_ids *a, int32_t id);
pf_status pf_tok_ids_append(pf_tok_ids *a, const int32_t *ids, int n);
void pf_tok_ids_free(pf_tok_ids *a);

/* ---- UTF-8 ---- */
/* Decode one code point of already-valid UTF-8 at s[0..n); returns its byte length (1 if n == 0). */
int pf_tok_utf8_next(const char *s, size_t n, int32_t *cp);
/* Byte length of the code point starting with lead byte c (valid UTF-8 assumed). */
int pf_tok_utf8_len(unsigned char c);
/* Append s[0..n) to out with every ill-formed subsequence replaced by U+FFFD
 * (maximal-subpart rule, as Python and the WHATWG decoder do). */
pf_status pf_tok_utf8_sanitize(const char *s, size_t n, pf_tok_buf *out);
/* True when s[0..n) is well-formed UTF-8. */
bool pf_tok_utf8_valid(const char *s, size_t n);

/* Unicode White_Space (Rust char::is_whitespace, regex module \s). */
bool pf_tok_is_white_space(int32_t cp);
/* Python str.isspace(): White_Space plus U+001C..U+001F. */
bool pf_tok_py_isspace(int32_t cp);

/* ---- string -> int32 hash map (keys are copied) ---- */
typedef struct pf_tok_map {
    uint32_t *slots; /* entry index + 1; 0 = empty */
    size_t cap;      /* power of two */
    struct pf_tok_map_ent {
        size_t off;
        uint32_t len, hash;
        int32_t val;
    } *ent;
    size_t n, ent_cap;
    pf_tok_buf keys;
} pf_tok_map;

/* Insert or overwrite. */
pf_status pf_tok_map_set(pf_tok_map *m, const char *k, size_t len, int32_t val);
bool pf_tok_map_get(const pf_tok_map *m, const char *k, size_t len, int32_t *val);
void pf_tok_map_free(pf_tok_map *m);

/* ---- uint64 -> int64 hash map ---- */
typedef struct pf_tok_map64 {
    uint64_t *keys;
    int64_t *vals;
    uint8_t *used;
    size_t cap, n;
} pf_tok_map64;

pf_status pf_tok_map64_set(pf_tok_map64 *m, uint64_t key, int64_t val);
bool pf_tok_map64_get(const pf_tok_map64 *m, uint64_t key, int64_t *val);
void pf_tok_map64_free(pf_tok_map64 *m);

/* ---- JSON files (cJSON directly until runtime/pf_json lands) ---- */
struct cJSON;
/* Parse a whole JSON file; errors name the file and the position. */
pf_status pf_tok_json_load(const char *path, struct cJSON **out);
/* Content of an AddedToken-like value: a string, or an object with "content". NULL otherwise. */
const char *pf_tok_json_token_content(const struct cJSON *v);

/* ---- added (special) tokens: literal strings split out of the raw text ---- */
typedef struct pf_tok_added {
    char *content;
    size_t len;
    int32_t id;
    bool lstrip, rstrip, single_word, normalized, special;
} pf_tok_added;

typedef struct pf_tok_added_set {
    pf_tok_added *tok;
    int n, cap;
    bool first_byte[256]; /* quick reject */
} pf_tok_added_set;

pf_status pf_tok_added_add(pf_tok_added_set *s, const char *content, size_t len, int32_t id, bool lstrip,
                           bool rstrip, bool single_word, bool normalized, bool special);
/* Index of the token with `content`, or -1. */
int pf_tok_added_find(const pf_tok_added_set *s, const char *content, size_t len);
/* Longest token (of those with normalized == want_normalized, or any when
 * want_normalized < 0) that starts at text[pos]; -1 if none. */
int pf_tok_added_match_at(const pf_tok_added_set *s, const char *text, size_t n, size_t pos, int want_normalized);
void pf_tok_added_free(pf_tok_added_set *s);

/* A piece of the input after added-token splitting: either an added token
 * (tok >= 0) or plain text text[off, off+len) (tok == -1). */
typedef struct pf_tok_span {
    size_t off, len;
    int tok;
} pf_tok_span;

typedef struct pf_tok_spans {
    pf_tok_span *v;
    int n, cap;
} pf_tok_spans;

pf_status pf_tok_spans_push(pf_tok_spans *a, size_t off, size_t len, int tok);
void pf_tok_spans_free(pf_tok_spans *a);

/* ---- spiece.model (sentencepiece ModelProto, protobuf) ---- */
enum { PF_SPM_NORMAL = 1, PF_SPM_UNKNOWN = 2, PF_SPM_CONTROL = 3, PF_SPM_USER_DEFINED = 4, PF_SPM_UNUSED = 5,
       PF_SPM_BYTE = 6 };
enum { PF_SPM_UNIGRAM = 1, PF_SPM_BPE = 2, PF_SPM_WORD = 3, PF_SPM_CHAR = 4 };

typedef struct pf_spm_piece {
    size_t off, len; /* bytes in pf_spm_model.strs */
    float score;
    int type;
} pf_spm_piece;

typedef struct pf_spm_model {
    pf_tok_buf strs;
    pf_spm_piece *pieces;
    int n_pieces, cap_pieces;
    /* trainer_spec */
    int model_type;
    bool byte_fallback;
    int32_t unk_id, bos_id, eos_id, pad_id;
    /* normalizer_spec */
    char *charsmap; /* precompiled_charsmap bytes (NULL when absent) */
    size_t charsmap_len;
    bool add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces;
} pf_spm_model;

pf_status pf_spm_model_parse(const uint8_t *data, size_t n, const char *label, pf_spm_model *out);
void pf_spm_model_free(pf_spm_model *m);

/* ---- precompiled charsmap (sentencepiece normalizer rules) ---- */
typedef struct pf_tok_charsmap {
    uint32_t *units; /* darts-clone double-array trie */
    size_t n_units;
    char *norm; /* NUL-separated replacement strings */
    size_t norm_len;
} pf_tok_charsmap;

pf_status pf_tok_charsmap_init(pf_tok_charsmap *cm, const uint8_t *blob, size_t len, const char *label);
/* Append the normalized form of valid UTF-8 s[0..n) to out (tokenizers' Precompiled normalizer). */
pf_status pf_tok_charsmap_apply(const pf_tok_charsmap *cm, const char *s, size_t n, pf_tok_buf *out);
void pf_tok_charsmap_free(pf_tok_charsmap *cm);

/* ---- unigram model (Viterbi over the vocabulary, tokenizers' Unigram) ---- */
typedef struct pf_tok_unigram {
    int n;               /* vocabulary size */
    pf_tok_buf strs;     /* piece bytes */
    size_t *off;         /* piece i = strs.p[off[i] .. off[i+1]) */
    double *score;
    int cap;
    pf_tok_map ids;      /* piece -> id (the last of duplicates, as a hash map insert) */
    pf_tok_map64 edges;  /* trie: (node << 8 | byte) -> child node */
    int32_t *node_id;    /* per trie node: vocab id ending there, or -1 */
    int n_nodes, cap_nodes;
    int32_t unk_id;      /* -1: none */
    double min_score;
    bool byte_fallback, fuse_unk;
    /* Viterbi scratch, grown on demand */
    double *best;
    int64_t *from;
    int32_t *via;
    size_t scratch_cap;
} pf_tok_unigram;

pf_status pf_tok_unigram_add(pf_tok_unigram *u, const char *piece, size_t len, double score);
/* After the last add: check unk_id against the vocabulary, compute min_score. */
pf_status pf_tok_unigram_finish(pf_tok_unigram *u, int32_t unk_id, bool byte_fallback, const char *label);
/* Append the ids of one pre-token (valid UTF-8). */
pf_status pf_tok_unigram_encode(pf_tok_unigram *u, const char *s, size_t n, pf_tok_ids *out);
bool pf_tok_unigram_id(const pf_tok_unigram *u, const char *piece, size_t len, int32_t *id);
void pf_tok_unigram_free(pf_tok_unigram *u);

/* ---- T5 (SentencePiece unigram, tokenizers-crate behaviour) ---- */
typedef struct pf_tok_t5 pf_tok_t5;
pf_status pf_tok_t5_load(const char *dir, pf_tok_t5 **out, int32_t *pad_id, pf_tok_ids *prefix, pf_tok_ids *suffix);
/* The spiece.model conversion from bytes already in memory (for the fuzzer). */
pf_status pf_tok_t5_from_spm(const uint8_t *data, size_t len, const char *label, pf_tok_t5 **out,
                             pf_tok_ids *suffix);
/* Content ids of valid UTF-8 text (no special tokens added). */
pf_status pf_tok_t5_encode(pf_tok_t5 *t, const char *text, size_t n, pf_tok_ids *ids);
void pf_tok_t5_free(pf_tok_t5 *t);

/* ---- CLIP (byte-level BPE, CLIPTokenizer + ftfy behaviour) ---- */
typedef struct pf_tok_clip pf_tok_clip;
pf_status pf_tok_clip_load(const char *dir, const char *vocab_dir, pf_tok_clip **out, int32_t *pad_id,
                           pf_tok_ids *prefix, pf_tok_ids *suffix);
pf_status pf_tok_clip_encode(pf_tok_clip *t, const char *text, size_t n, pf_tok_ids *ids);
void pf_tok_clip_free(pf_tok_clip *t);

#endif /* PF_TOK_INTERNAL_H */
