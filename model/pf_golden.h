/*
 * check-golden: runs the cases of a golden pack (../shared/DESIGN.md contract).
 *
 * A case is cases/NAME.safetensors; its "case" metadata (JSON) gives `kind`
 * and `model_dir`. The tokenizers/ folder adds the cases tokenizer_t5 and
 * tokenizer_clip. A runner per kind computes the case's outputs from its in.*
 * tensors and hands each one to pf_golden_put(); the framework then compares
 * every out.* tensor of the file (except out.dbg.*) with the kind's threshold.
 * A kind without a runner is reported SKIP with the reason.
 */
#ifndef PF_GOLDEN_H
#define PF_GOLDEN_H

#include "pf_backend.h"
#include "pf_json.h"
#include "pf_safetensors.h"

typedef enum { PF_GOLDEN_PASS = 0, PF_GOLDEN_FAIL, PF_GOLDEN_SKIP } pf_golden_verdict;

typedef struct pf_golden_opts {
    const char *backend; /* "cpu" (default), "cuda", "vulkan" */
    pf_dtype dtype;      /* weights: PF_F32 (default) or PF_BF16 */
    pf_dtype act;        /* the DiT's activations (dit and pipeline cases): PF_F32 (default) or PF_BF16 */
    const char *filter;  /* run only cases whose name contains this (NULL: all) */
    int threads;         /* CPU threads (0: all) */
    bool verbose;        /* per-tensor figures */
} pf_golden_opts;

typedef struct pf_golden_case pf_golden_case;

/* What a runner sees. */
struct pf_golden_case {
    const char *pack_dir;  /* the pack root */
    const char *name;      /* case name (file stem) */
    const char *kind;
    const char *model_dir; /* absolute or pack-relative path resolved against pack_dir; NULL if none */
    const pf_st_file *file;/* the case file (in.* and out.* tensors); NULL for tokenizer cases */
    const pf_json *meta;   /* the parsed "case" metadata; NULL for tokenizer cases */
    pf_backend *backend;   /* the backend to run on */
    const pf_golden_opts *opts;
    void *priv;            /* framework state */
};

/* A runner computes outputs and hands them over with pf_golden_put. Returning an
 * error status makes the case FAIL with the error message; pf_golden_skip makes it SKIP. */
typedef pf_status (*pf_golden_runner)(pf_golden_case *c);

/* Hand over one produced output (copied). dt: f32, f64 or u8 as the case stores it. */
pf_status pf_golden_put(pf_golden_case *c, const char *name, pf_dtype dt, const void *data, size_t n);
/* Mark the case skipped with a reason (returns PF_OK so a runner can `return pf_golden_skip(...)`). */
pf_status pf_golden_skip(pf_golden_case *c, const char *fmt, ...) PF_PRINTF(2, 3);
/* Tokenizer cases report their own verdict and line text (counts per tier). */
pf_status pf_golden_report(pf_golden_case *c, bool pass, const char *fmt, ...) PF_PRINTF(3, 4);

/* Read an in.* tensor of the case as f32 (any float dtype) / as int64 (any int dtype).
 * *out is malloc'ed (caller frees); shape/ndim may be NULL. Errors name the case and tensor. */
pf_status pf_golden_in_f32(const pf_golden_case *c, const char *name, float **out, int64_t *shape, int *ndim);
pf_status pf_golden_in_i64(const pf_golden_case *c, const char *name, int64_t **out, int64_t *shape, int *ndim);

/* Runners, one per kind (model/golden_*.c). */
pf_status pf_golden_run_dit(pf_golden_case *c);
pf_status pf_golden_run_vae(pf_golden_case *c);
pf_status pf_golden_run_scheduler(pf_golden_case *c);
pf_status pf_golden_run_pipeline(pf_golden_case *c);    /* pipeline_t2v, pipeline_i2v */
pf_status pf_golden_run_text_encoder(pf_golden_case *c);
pf_status pf_golden_run_tokenizer(pf_golden_case *c);   /* tokenizer_t5, tokenizer_clip */

/* The pack used when none is named: $PF_GOLDEN_DIR, else ../shared/golden next to the source tree. */
const char *pf_golden_default_dir(void);

/* Run every case of a pack; prints one line per case and the summary to `out`.
 * Returns PF_OK when no case failed (skips allowed); *n_failed etc. may be NULL. */
pf_status pf_golden_check_pack(const char *pack_dir, const pf_golden_opts *opts, FILE *out, int *n_passed,
                               int *n_failed, int *n_skipped);

#endif /* PF_GOLDEN_H */
