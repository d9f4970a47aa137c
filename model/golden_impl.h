/*
 * check-golden internals shared by model/golden.c, model/golden_compare.c and
 * the tests: the comparison rules of ../shared/DESIGN.md and a pack runner
 * that accepts extra runners (tests inject fake ones to exercise the framework).
 */
#ifndef PF_GOLDEN_IMPL_H
#define PF_GOLDEN_IMPL_H

#include "pf_golden.h"

typedef struct pf_golden_runner_entry {
    const char *kind;
    pf_golden_runner run;
} pf_golden_runner_entry;

/* pf_golden_check_pack with `extra` runners consulted before the built-in table. */
pf_status pf_golden_check_pack_with(const char *pack_dir, const pf_golden_opts *opts, FILE *out,
                                    const pf_golden_runner_entry *extra, int n_extra, int *n_passed, int *n_failed,
                                    int *n_skipped);

/* How a kind's outputs are judged (DESIGN.md, "check-golden contract"). */
typedef enum {
    PF_GRULE_MODEL = 0, /* dit, vae, text_encoder */
    PF_GRULE_SCHEDULER, /* tables in double; names ending in _bf16 exact */
    PF_GRULE_PIPELINE,  /* pipeline_t2v, pipeline_i2v: latents + u8 frames */
    PF_GRULE_REPORT,    /* tokenizer: the runner reports its own verdict */
} pf_golden_rule;

/* The rule for a kind; false for a kind with no rule. */
bool pf_golden_rule_for(const char *kind, pf_golden_rule *rule);

/* Figures of one comparison, or accumulated over a case. */
typedef struct pf_golden_stats {
    int64_t n_float;    /* float values compared */
    double max_abs;     /* over float values */
    double err2, ref2;  /* sum (got - ref)^2, sum ref^2: nmse = err2 / ref2 */
    int64_t n_u8;       /* frames (u8 values under the pipeline rule) */
    int64_t u8_off;     /* frames values that differ (by 1 when the case passes) */
    int64_t u8_max;     /* largest frames difference */
    int64_t n_nan;      /* NaN in produced or reference values */
    int64_t n_inf_mismatch; /* an infinity where the other side differs */
} pf_golden_stats;

/* The dtype a case of `kind` is judged at: bf16 when the weights are bf16, or when the DiT's
 * activations are and the kind runs the DiT (dit, pipeline_*); else f32. */
pf_dtype pf_golden_judge_dtype(const pf_golden_opts *o, const char *kind);

double pf_golden_nmse(const pf_golden_stats *s);
void pf_golden_stats_merge(pf_golden_stats *acc, const pf_golden_stats *t);

/* Compare produced values `got` (n doubles) with the reference tensor `ref` under `rule`
 * on a GPU backend or not, at run dtype f32 or bf16. Fills *st (reset first). On FAIL,
 * `why` says which figure broke which limit. */
pf_golden_verdict pf_golden_compare(pf_golden_rule rule, bool gpu, pf_dtype run_dtype, const pf_st_tensor *ref,
                                    const double *got, size_t n, pf_golden_stats *st, char *why, size_t why_len);

#endif /* PF_GOLDEN_IMPL_H */
