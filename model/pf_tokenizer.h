/*
 * Tokenizers of the Pyramid Flow text encoders:
 *   T5 (SentencePiece unigram, T5TokenizerFast behaviour): spiece.model and/or tokenizer.json
 *   CLIP (byte-level BPE, CLIPTokenizer with ftfy): vocab.json + merges.txt
 * Expected ids and the reference behaviour: shared/golden/tokenizers/README.md.
 */
#ifndef PF_TOKENIZER_H
#define PF_TOKENIZER_H

#include "pf_common.h"

typedef struct pf_tokenizer pf_tokenizer;

typedef enum pf_tok_kind { PF_TOK_T5 = 0, PF_TOK_CLIP } pf_tok_kind;

/* Load from an official tokenizer folder (tokenizer_2/ or tokenizer_3/ for T5, tokenizer/ for CLIP).
 * The CLIP loader reads the folder's special_tokens_map/tokenizer_config to pick the pad
 * token (<|endoftext|> for CLIP-L, "!" = id 0 for SD3's CLIP-G tokenizer_2).
 * T5 reads tokenizer.json when the folder has one, else spiece.model converted
 * the way T5TokenizerFast converts it (legacy: '▁' prefix on every section,
 * <extra_id_N> with lstrip/rstrip).
 * A tokenizer keeps scratch state: use one per thread. */
pf_status pf_tokenizer_load_t5(const char *dir, pf_tokenizer **out);
pf_status pf_tokenizer_load_clip(const char *dir, pf_tokenizer **out);
/* CLIP with the configuration (special tokens, added tokens, pad) of `dir` and
 * vocab.json/merges.txt from `vocab_dir` (NULL: dir). For folders that ship
 * only the configs, like the golden pack's clip/sd3_tokenizer_2/. */
pf_status pf_tokenizer_load_clip_vocab(const char *dir, const char *vocab_dir, pf_tokenizer **out);
void pf_tokenizer_free(pf_tokenizer *t);
pf_tok_kind pf_tokenizer_kind(const pf_tokenizer *t);
int pf_tokenizer_pad_id(const pf_tokenizer *t);

/* Full encoding with special tokens, no truncation or padding. *ids is malloc'ed. */
pf_status pf_tokenize_full(pf_tokenizer *t, const char *text, int32_t **ids, int *n);
/* The fixed-length arrays the pipelines use: truncated as the reference does (T5: first
 * max_len-1 ids then EOS; CLIP: BOS, first max_len-2, EOS), padded with the pad id;
 * mask 1 for real ids. *n_full (may be NULL) gets the untruncated length. */
pf_status pf_tokenize(pf_tokenizer *t, const char *text, int max_len, int32_t *ids, int32_t *mask, int *n_full);

/* The same for text of explicit length (may contain NUL bytes). Text that is
 * not valid UTF-8 is read with each ill-formed sequence replaced by U+FFFD, as
 * Python's bytes.decode("utf-8", "replace") does. */
pf_status pf_tokenize_full_n(pf_tokenizer *t, const char *text, size_t len, int32_t **ids, int *n);
pf_status pf_tokenize_n(pf_tokenizer *t, const char *text, size_t len, int max_len, int32_t *ids, int32_t *mask,
                        int *n_full);

#endif /* PF_TOKENIZER_H */
