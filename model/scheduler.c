/*
 * PyramidFlowMatchEulerDiscreteScheduler: the tables, exactly as the official code
 * computes them. The precision of each step matters (the golden tables compare in
 * double at 1e-6 and the bf16 timesteps must match exactly), so every line below
 * names the dtype the official expression runs in.
 */
#include "pf_scheduler.h"

#include <math.h>

void pf_sched_config_default(pf_sched_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->num_train_timesteps = 1000;
    cfg->shift = 1.0;
    cfg->stages = 3;
    cfg->stage_range[0] = 0.0;
    cfg->stage_range[1] = 1.0 / 3.0;
    cfg->stage_range[2] = 2.0 / 3.0;
    cfg->stage_range[3] = 1.0;
    cfg->gamma = 1.0 / 3.0;
}

float pf_sched_round(double v, pf_dtype dt) {
    float f = (float)v;
    if (dt == PF_BF16) return pf_round_bf16(f);
    if (dt == PF_F16) return pf_f16_to_f32(pf_f32_to_f16(f));
    return f;
}

/* numpy.linspace(start, stop, num) in float64 as numpy 1.24 evaluates it:
 * step = (stop - start) / (num - 1); y[k] = k * step + start; y[num-1] = stop.
 * num == 1 gives [start]. Written as separate statements: the C11 build does not
 * contract them into an FMA, which would change the last bit. */
static void pf_linspace(double start, double stop, int num, double *y) {
    if (num == 1) {
        y[0] = start;
        return;
    }
    int div = num - 1;
    double delta = stop - start;
    double step = delta / div;
    for (int k = 0; k < num; k++) {
        double p = (double)k * step;
        y[k] = p + start;
    }
    y[num - 1] = stop;
}

static pf_status pf_sched_check(const pf_sched_config *c) {
    if (c->num_train_timesteps < 2 || c->num_train_timesteps > 1000000)
        return pf_error(PF_ERR_INVALID_ARG, "scheduler: num_train_timesteps %d outside [2, 1000000]",
                        c->num_train_timesteps);
    if (c->stages < 1 || c->stages > PF_SCHED_MAX_STAGES)
        return pf_error(PF_ERR_INVALID_ARG, "scheduler: %d stages (1..%d supported)", c->stages, PF_SCHED_MAX_STAGES);
    if (!(c->gamma > 0.0) || !isfinite(c->gamma))
        return pf_error(PF_ERR_INVALID_ARG, "scheduler: gamma %g must be positive", c->gamma);
    if (!(c->shift > 0.0) || !isfinite(c->shift))
        return pf_error(PF_ERR_INVALID_ARG, "scheduler: shift %g must be positive", c->shift);
    if (!(c->stage_range[0] >= 0.0) || !(c->stage_range[c->stages] <= 1.0))
        return pf_error(PF_ERR_INVALID_ARG, "scheduler: stage_range must lie in [0, 1]");
    for (int i = 0; i < c->stages; i++)
        if (!(c->stage_range[i] < c->stage_range[i + 1]))
            return pf_error(PF_ERR_INVALID_ARG, "scheduler: stage_range[%d] = %g is not below stage_range[%d] = %g", i,
                            c->stage_range[i], i + 1, c->stage_range[i + 1]);
    return PF_OK;
}

/* init_sigmas(): float32 torch tensors.
 *   timesteps = linspace(1, N, N, float32)[::-1]   (exact integers N .. 1)
 *   sigmas    = timesteps / N
 *   sigmas    = shift * sigmas / (1 + (shift - 1) * sigmas)   (python scalars become f32)
 *   timesteps = sigmas * N                                   (not always the integer back) */
static void pf_sched_init_sigmas(pf_scheduler *s) {
    int N = s->cfg.num_train_timesteps;
    float fN = (float)N, fshift = (float)s->cfg.shift, fshift_m1 = (float)(s->cfg.shift - 1.0);
    for (int i = 0; i < N; i++) {
        float t = (float)(N - i);
        float sg = t / fN;
        float num = fshift * sg;
        float den = 1.0f + fshift_m1 * sg;
        sg = num / den;
        s->global_sigmas[i] = sg;
        s->global_timesteps[i] = sg * fN;
    }
}

void pf_scheduler_free(pf_scheduler *s) {
    if (!s) return;
    free(s->global_timesteps);
    free(s->global_sigmas);
    for (int i = 0; i < PF_SCHED_MAX_STAGES; i++) {
        free(s->timesteps_per_stage[i]);
        free(s->sigmas_per_stage[i]);
    }
    free(s);
}

pf_status pf_scheduler_create(const pf_sched_config *cfg, pf_scheduler **out) {
    *out = NULL;
    PF_TRY(pf_sched_check(cfg));
    pf_scheduler *s = pf_calloc(1, sizeof *s, "scheduler");
    if (!s) return PF_ERR_OOM;
    s->cfg = *cfg;
    int N = cfg->num_train_timesteps, S = cfg->stages;
    s->global_timesteps = pf_malloc(sizeof(float) * (size_t)N, "scheduler tables");
    s->global_sigmas = pf_malloc(sizeof(float) * (size_t)N, "scheduler tables");
    bool ok = s->global_timesteps && s->global_sigmas;
    for (int i = 0; i < S && ok; i++) {
        s->timesteps_per_stage[i] = pf_malloc(sizeof(double) * (size_t)N, "scheduler tables");
        s->sigmas_per_stage[i] = pf_malloc(sizeof(double) * (size_t)N, "scheduler tables");
        ok = s->timesteps_per_stage[i] && s->sigmas_per_stage[i];
    }
    if (!ok) {
        pf_scheduler_free(s);
        return PF_ERR_OOM;
    }
    pf_sched_init_sigmas(s);

    /* init_sigmas_for_each_stage(): Python floats (double). */
    double dist[PF_SCHED_MAX_STAGES];
    for (int i = 0; i < S; i++) {
        int start_idx = (int)(cfg->stage_range[i] * N); /* int() truncates */
        if (start_idx < 0) start_idx = 0;
        int end_idx = (int)(cfg->stage_range[i + 1] * N);
        if (end_idx > N) end_idx = N;
        if (start_idx >= N) start_idx = N - 1;
        double start_sigma = (double)s->global_sigmas[start_idx];
        double end_sigma = end_idx < N ? (double)s->global_sigmas[end_idx] : 0.0;
        s->ori_start_sigmas[i] = start_sigma;
        if (i != 0) {
            /* The jump renoises with block noise, which lands on the straight path at a
             * higher noise level: 1 - s / (sqrt(1 + 1/gamma) (1 - s) + s), s the signal. */
            double ori_sigma = 1.0 - start_sigma;
            double corrected = (1.0 / (sqrt(1.0 + (1.0 / cfg->gamma)) * (1.0 - ori_sigma) + ori_sigma)) * ori_sigma;
            start_sigma = 1.0 - corrected;
        }
        dist[i] = start_sigma - end_sigma;
        s->start_sigmas[i] = start_sigma;
        s->end_sigmas[i] = end_sigma;
    }
    /* sum() in Python starts from the int 0 and adds left to right. */
    double tot = 0.0;
    for (int i = 0; i < S; i++) tot += dist[i];
    for (int i = 0; i < S; i++) {
        double a = 0.0, b = 0.0;
        for (int j = 0; j < i; j++) a += dist[j];
        for (int j = 0; j <= i; j++) b += dist[j];
        s->timestep_ratios[i][0] = i == 0 ? 0.0 : a / tot;
        s->timestep_ratios[i][1] = i == S - 1 ? 1.0 : b / tot;
    }
    double *tmp = pf_malloc(sizeof(double) * (size_t)(N + 1), "scheduler tables");
    if (!tmp) {
        pf_scheduler_free(s);
        return PF_ERR_OOM;
    }
    for (int i = 0; i < S; i++) {
        /* numpy.linspace over two float32 torch scalars runs in float64. */
        int imax = (int)(s->timestep_ratios[i][0] * N);
        int imin = (int)(s->timestep_ratios[i][1] * N);
        if (imin > N - 1) imin = N - 1;
        if (imax > N - 1) imax = N - 1;
        pf_linspace((double)s->global_timesteps[imax], (double)s->global_timesteps[imin], N + 1, tmp);
        memcpy(s->timesteps_per_stage[i], tmp, sizeof(double) * (size_t)N);
        pf_linspace(1.0, 0.0, N + 1, tmp);
        memcpy(s->sigmas_per_stage[i], tmp, sizeof(double) * (size_t)N);
    }
    free(tmp);

    /* generate_one_unit()'s jump coefficients (math.sqrt, doubles). */
    s->jump_alpha[0] = 1.0;
    s->jump_beta[0] = 0.0;
    for (int i = 1; i < S; i++) {
        double ori_sigma = 1.0 - s->ori_start_sigmas[i];
        double alpha = 1.0 / (sqrt(1.0 + (1.0 / cfg->gamma)) * (1.0 - ori_sigma) + ori_sigma);
        double beta = alpha * (1.0 - ori_sigma) / sqrt(cfg->gamma);
        s->jump_alpha[i] = alpha;
        s->jump_beta[i] = beta;
    }
    *out = s;
    return PF_OK;
}

pf_status pf_scheduler_set_timesteps(const pf_scheduler *s, int stage, int n, double *timesteps, double *sigmas) {
    if (stage < 0 || stage >= s->cfg.stages)
        return pf_error(PF_ERR_INVALID_ARG, "scheduler: stage %d outside [0, %d)", stage, s->cfg.stages);
    if (n < 1 || n > 100000)
        return pf_error(PF_ERR_INVALID_ARG, "scheduler: %d inference steps for stage %d (need 1..100000)", n, stage);
    int N = s->cfg.num_train_timesteps;
    const double *ts = s->timesteps_per_stage[stage], *sg = s->sigmas_per_stage[stage];
    pf_linspace(ts[0], ts[N - 1], n, timesteps);
    pf_linspace(sg[0], sg[N - 1], n, sigmas);
    sigmas[n] = 0.0;
    return PF_OK;
}
