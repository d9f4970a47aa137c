/*
 * The pyramidal flow-matching Euler scheduler (PyramidFlowMatchEulerDiscreteScheduler,
 * diffusion_schedulers/scheduling_flow_matching.py), ported number for number.
 * Facts: pyramid-flow-facts.md §4.1-4.4.
 *
 * Every table is computed with the official code's precision: the global grid in
 * float32 (torch), the per-stage tables and set_timesteps() in float64 (numpy
 * linspace), the corrected start sigmas and the jump coefficients in float64
 * (Python math). The pipeline rounds these doubles to the latent dtype only where
 * the official code multiplies a tensor by them (pf_sched_round).
 */
#ifndef PF_SCHEDULER_H
#define PF_SCHEDULER_H

#include "pf_dtype.h"

#define PF_SCHED_MAX_STAGES 8

typedef struct pf_sched_config {
    int num_train_timesteps;                     /* 1000 */
    double shift;                                /* 1.0 (SD3 shift; identity at 1) */
    int stages;                                  /* 3 */
    double stage_range[PF_SCHED_MAX_STAGES + 1]; /* [0, 1/3, 2/3, 1] */
    double gamma;                                /* 1/3 */
} pf_sched_config;

/* The released pipeline's scheduler settings. */
void pf_sched_config_default(pf_sched_config *cfg);

typedef struct pf_scheduler {
    pf_sched_config cfg;
    /* init_sigmas(): float32 [N], N = num_train_timesteps, descending from N to 1 */
    float *global_timesteps;
    float *global_sigmas;
    /* per stage, float64 */
    double start_sigmas[PF_SCHED_MAX_STAGES];     /* corrected for stages > 0 */
    double end_sigmas[PF_SCHED_MAX_STAGES];
    double ori_start_sigmas[PF_SCHED_MAX_STAGES];
    double timestep_ratios[PF_SCHED_MAX_STAGES][2];
    double *timesteps_per_stage[PF_SCHED_MAX_STAGES]; /* [N] each: linspace(tmax, tmin, N+1)[:-1] */
    double *sigmas_per_stage[PF_SCHED_MAX_STAGES];    /* [N] each: linspace(1, 0, N+1)[:-1] */
    /* jump coefficients of generate_one_unit for stages > 0 (stage 0: alpha 1, beta 0) */
    double jump_alpha[PF_SCHED_MAX_STAGES];
    double jump_beta[PF_SCHED_MAX_STAGES];
} pf_scheduler;

/* Validates the config (N >= 2, 1 <= stages <= max, ranges increasing in [0, 1],
 * 0 < gamma, shift > 0) and builds every table. */
pf_status pf_scheduler_create(const pf_sched_config *cfg, pf_scheduler **out);
void pf_scheduler_free(pf_scheduler *s);

/* set_timesteps(n, stage): timesteps [n] (global scale, N .. ~1) and stage-local
 * sigmas [n + 1] = linspace(1, sigma_min, n) ++ [0], both float64. n >= 1. */
pf_status pf_scheduler_set_timesteps(const pf_scheduler *s, int stage, int n, double *timesteps, double *sigmas);

/* The value a float64 scheduler scalar takes when the official code combines it with
 * a tensor of dtype dt: float32 -> (float)v; bf16 -> rounded through float32 to bf16,
 * as c10::BFloat16 converts a double (so 1 + 2^-8 + 2^-30 becomes 1, not 1 + 2^-7). */
float pf_sched_round(double v, pf_dtype dt);

#endif /* PF_SCHEDULER_H */
