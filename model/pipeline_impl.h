/* Internals of one pipeline run (model/pipeline*.c). */
#ifndef PF_PIPELINE_IMPL_H
#define PF_PIPELINE_IMPL_H

#include "pf_pipeline.h"

/* Slots of the scalar tensor the step graphs read. */
enum { PF_SCAL_W = 0, PF_SCAL_DSIGMA, PF_SCAL_ALPHA, PF_SCAL_BETA, PF_PIPE_NSCAL };

typedef struct pf_pipe_run {
    const pf_pipe_denoiser *dn;
    const pf_pipe_vae *vae;
    const pf_pipe_inputs *in;
    const pf_pipe_params *p;
    const pf_pipe_hooks *h;
    pf_pipe_stats *st;

    bool dry;          /* count only */
    bool cfg;          /* guidance > 0: batch [negative, positive] */
    int B, C, S, T;    /* batch, latent channels, stages, latent frames */
    int Hl, Wl;        /* full-resolution latent size */
    int hs[PF_PIPE_STAGES], ws[PF_PIPE_STAGES]; /* latent size of stage / pyramid level s */
    int patch, L;      /* DiT patch, text tokens */
    pf_dtype dt;       /* latent dtype */
    int n_units, first_unit;
    int n_calls, call;
    double t0;

    pf_scheduler *sched;
    pf_latent_norm norm;

    /* device state (none in a dry run) */
    pf_backend *be;
    pf_pool *pool;
    pf_arena *arena;
    pf_tensor *noise_q;                 /* [1, C, T, Hl/4, Wl/4] downsampled initial noise */
    pf_tensor *x[PF_PIPE_STAGES];       /* [1, C, 1, hs, ws] the unit's latent at stage s */
    pf_tensor *xx[PF_PIPE_STAGES];      /* [2, C, 1, hs, ws] cat([x, x]) (CFG) */
    pf_tensor *v[PF_PIPE_STAGES];       /* [B, C, 1, hs, ws] DiT velocity */
    pf_tensor *bn[PF_PIPE_STAGES];      /* [1, C, 1, hs, ws] uploaded block noise (s > 0) */
    pf_tensor *scal;                    /* [PF_PIPE_NSCAL] */
    float scal_host[PF_PIPE_NSCAL];
    pf_tensor *text, *pooled;           /* [B, L, D], [B, P] */
    int32_t *mask;                      /* [B, L] host */
    pf_tensor **gen[PF_PIPE_STAGES];    /* [T] clean frames per pyramid level, [1, C, 1, hs, ws] */
    pf_tensor *hist[PF_PIPE_STAGES][PF_PIPE_STAGES]; /* the unit's history clips per stage */
    int n_hist[PF_PIPE_STAGES];
    pf_graph *g_euler[PF_PIPE_STAGES], *g_jump[PF_PIPE_STAGES];
} pf_pipe_run;

/* pipeline_graphs.c */
pf_status pf_pipe_set_scalars(pf_pipe_run *r);
pf_status pf_pipe_noise_pyramid(pf_pipe_run *r, pf_tensor *noise_full);
pf_status pf_pipe_unit_start(pf_pipe_run *r, int frame);
pf_status pf_pipe_jump(pf_pipe_run *r, int s);
pf_status pf_pipe_euler(pf_pipe_run *r, int s);
pf_status pf_pipe_pyramid_frame(pf_pipe_run *r, pf_tensor *src, int k);
pf_status pf_pipe_history(pf_pipe_run *r, int k, pf_pool *unit_pool);

#endif /* PF_PIPELINE_IMPL_H */
