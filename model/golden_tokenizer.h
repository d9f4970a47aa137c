/*
 * Evaluation of the tokenizer golden files (<pack>/tokenizers/t5_golden.json,
 * clip_golden.json; format in shared/golden/tokenizers/README.md), shared by
 * the check-golden runner (golden_tokenizer.c) and the golden test.
 *
 * Every case's `text_hex` is tokenized by the primary tokenizer (compared
 * with `ids`, `input_ids`, `attention_mask`, `num_tokens`) and, when a variant
 * folder is given, by the SD3 variant (T5: sd3_tokenizer_3_ids, else ids;
 * CLIP: sd3_tokenizer_2.{ids,input_ids,attention_mask}). A case counts as
 * exact when every comparison is.
 */
#ifndef PF_GOLDEN_TOKENIZER_H
#define PF_GOLDEN_TOKENIZER_H

#include "pf_common.h"
#include "pf_tokenizer.h"

enum { PF_TIER_MUST = 0, PF_TIER_SHOULD, PF_TIER_OPTIONAL, PF_TIER_N };

typedef struct pf_tok_golden_spec {
    const char *json;        /* the golden file */
    pf_tok_kind kind;
    const char *dir;         /* primary tokenizer folder */
    const char *variant_dir; /* SD3 variant folder, NULL for none */
    const char *vocab_dir;   /* CLIP variant: folder of vocab.json/merges.txt (NULL: variant_dir) */
} pf_tok_golden_spec;

typedef struct pf_tok_golden_result {
    int exact[PF_TIER_N], total[PF_TIER_N];
    int variant_exact, variant_total; /* cases whose variant comparisons were exact */
    char misses[1024];                /* "v-199(optional) ..." (truncated with "...") */
} pf_tok_golden_result;

/* Tier of a category: must pass unless listed (README "Suggested tiers"). */
int pf_tok_golden_tier(const char *category);
const char *pf_tok_golden_tier_name(int tier);

/* The layout of a pack's tokenizers/ folder: t5/ (+ t5/sd3_tokenizer_3/),
 * clip/ (+ clip/sd3_tokenizer_2/ with clip/'s vocabulary). Strings are
 * allocated into *paths (free with pf_tok_golden_spec_free). */
pf_status pf_tok_golden_spec_for_pack(const char *tok_root, pf_tok_kind kind, pf_tok_golden_spec *spec);
void pf_tok_golden_spec_free(pf_tok_golden_spec *spec);

/* Run every case. `log` (may be NULL) gets one line per miss with the expected
 * and produced ids. Errors: unreadable/malformed golden file or tokenizer. */
pf_status pf_tok_golden_eval(const pf_tok_golden_spec *spec, FILE *log, pf_tok_golden_result *r);

#endif /* PF_GOLDEN_TOKENIZER_H */
