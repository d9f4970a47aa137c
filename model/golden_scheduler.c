/*
 * check-golden runner for kind "scheduler". The scheduler settings come from the
 * case metadata when present (num_train_timesteps, shift, stages, stage_range,
 * gamma; the released values otherwise); a case with num_inference_steps gets the
 * set_timesteps() lists of every stage, and every table a case holds is handed over.
 */
#include "pf_golden.h"
#include "pf_scheduler.h"

#include <cjson/cJSON.h>

static pf_status pf_sched_config_from_meta(const pf_golden_case *c, pf_sched_config *cfg) {
    pf_sched_config_default(cfg);
    if (!c->meta) return PF_OK;
    pf_status rc = PF_OK;
    cfg->num_train_timesteps = (int)pf_json_opt_int(c->meta, "num_train_timesteps", cfg->num_train_timesteps, &rc);
    PF_TRY(rc);
    cfg->shift = pf_json_opt_num(c->meta, "shift", cfg->shift, &rc);
    PF_TRY(rc);
    cfg->gamma = pf_json_opt_num(c->meta, "gamma", cfg->gamma, &rc);
    PF_TRY(rc);
    int64_t stages = pf_json_opt_int(c->meta, "stages", cfg->stages, &rc);
    PF_TRY(rc);
    if (stages < 1 || stages > PF_SCHED_MAX_STAGES)
        return pf_error(PF_ERR_FORMAT, "case %s: stages %lld outside [1, %d]", c->name, (long long)stages,
                        PF_SCHED_MAX_STAGES);
    const cJSON *range = cJSON_GetObjectItemCaseSensitive(pf_json_root(c->meta), "stage_range");
    if (range) {
        if (!cJSON_IsArray(range) || cJSON_GetArraySize(range) != stages + 1)
            return pf_error(PF_ERR_FORMAT, "case %s: stage_range must be an array of %lld numbers", c->name,
                            (long long)stages + 1);
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, range) {
            if (!cJSON_IsNumber(v)) return pf_error(PF_ERR_FORMAT, "case %s: stage_range[%d] is not a number", c->name, i);
            cfg->stage_range[i++] = v->valuedouble;
        }
    } else if (stages != cfg->stages) {
        return pf_error(PF_ERR_FORMAT, "case %s: %lld stages without a stage_range", c->name, (long long)stages);
    }
    cfg->stages = (int)stages;
    return PF_OK;
}

/* Hand over an output only when the case holds it: each scheduler case holds a subset. */
static pf_status pf_put_if(pf_golden_case *c, const char *name, pf_dtype dt, const void *data, size_t n) {
    if (!pf_st_find(c->file, name)) return PF_OK;
    return pf_golden_put(c, name, dt, data, n);
}

static pf_status pf_golden_steps(pf_golden_case *c, const pf_scheduler *s, int n) {
    double *ts = pf_malloc(sizeof(double) * (size_t)n, "timesteps");
    double *sg = pf_malloc(sizeof(double) * (size_t)(n + 1), "sigmas");
    float *f = pf_malloc(sizeof(float) * (size_t)n, "timesteps");
    pf_status rc = ts && sg && f ? PF_OK : PF_ERR_OOM;
    char name[96];
    for (int k = 0; rc == PF_OK && k < s->cfg.stages; k++) {
        rc = pf_scheduler_set_timesteps(s, k, n, ts, sg);
        if (rc != PF_OK) break;
        snprintf(name, sizeof name, "out.timesteps_stage_%d", k);
        rc = pf_put_if(c, name, PF_F64, ts, (size_t)n);
        snprintf(name, sizeof name, "out.sigmas_stage_%d", k);
        if (rc == PF_OK) rc = pf_put_if(c, name, PF_F64, sg, (size_t)n + 1);
        /* what an fp32 run feeds the DiT, and what the official bf16 run feeds it */
        for (int i = 0; i < n; i++) f[i] = pf_sched_round(ts[i], PF_F32);
        snprintf(name, sizeof name, "out.timesteps_stage_%d_f32", k);
        if (rc == PF_OK) rc = pf_put_if(c, name, PF_F32, f, (size_t)n);
        for (int i = 0; i < n; i++) f[i] = pf_sched_round(ts[i], PF_BF16);
        snprintf(name, sizeof name, "out.timesteps_stage_%d_bf16", k);
        if (rc == PF_OK) rc = pf_put_if(c, name, PF_F32, f, (size_t)n);
    }
    free(ts);
    free(sg);
    free(f);
    return rc;
}

static pf_status pf_golden_tables(pf_golden_case *c, const pf_scheduler *s) {
    int S = s->cfg.stages;
    size_t N = (size_t)s->cfg.num_train_timesteps;
    double ratios[PF_SCHED_MAX_STAGES * 2];
    for (int i = 0; i < S; i++) {
        ratios[2 * i] = s->timestep_ratios[i][0];
        ratios[2 * i + 1] = s->timestep_ratios[i][1];
    }
    PF_TRY(pf_put_if(c, "out.start_sigmas", PF_F64, s->start_sigmas, (size_t)S));
    PF_TRY(pf_put_if(c, "out.end_sigmas", PF_F64, s->end_sigmas, (size_t)S));
    PF_TRY(pf_put_if(c, "out.ori_start_sigmas", PF_F64, s->ori_start_sigmas, (size_t)S));
    PF_TRY(pf_put_if(c, "out.timestep_ratios", PF_F64, ratios, (size_t)S * 2));
    /* jump coefficients exist for stages 1..S-1; index 0 of the output is stage 1 */
    if (S > 1) {
        PF_TRY(pf_put_if(c, "out.jump_alpha", PF_F64, s->jump_alpha + 1, (size_t)S - 1));
        PF_TRY(pf_put_if(c, "out.jump_beta", PF_F64, s->jump_beta + 1, (size_t)S - 1));
    }
    PF_TRY(pf_put_if(c, "out.global_timesteps", PF_F32, s->global_timesteps, N));
    PF_TRY(pf_put_if(c, "out.global_sigmas", PF_F32, s->global_sigmas, N));
    char name[96];
    for (int k = 0; k < S; k++) {
        snprintf(name, sizeof name, "out.timesteps_per_stage_%d", k);
        PF_TRY(pf_put_if(c, name, PF_F64, s->timesteps_per_stage[k], N));
        snprintf(name, sizeof name, "out.sigmas_per_stage_%d", k);
        PF_TRY(pf_put_if(c, name, PF_F64, s->sigmas_per_stage[k], N));
    }
    return PF_OK;
}

pf_status pf_golden_run_scheduler(pf_golden_case *c) {
    pf_sched_config cfg;
    PF_TRY(pf_sched_config_from_meta(c, &cfg));
    pf_scheduler *s = NULL;
    PF_TRY(pf_scheduler_create(&cfg, &s));
    pf_status rc = PF_OK;
    if (c->meta && pf_json_has(c->meta, "num_inference_steps")) {
        int64_t n = 0;
        rc = pf_json_int(c->meta, "num_inference_steps", &n);
        if (rc == PF_OK && (n < 1 || n > 100000))
            rc = pf_error(PF_ERR_FORMAT, "case %s: num_inference_steps %lld", c->name, (long long)n);
        if (rc == PF_OK) rc = pf_golden_steps(c, s, (int)n);
    }
    if (rc == PF_OK) rc = pf_golden_tables(c, s);
    pf_scheduler_free(s);
    return rc;
}
