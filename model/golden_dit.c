/*
 * check-golden runner for kind "dit": one official DiT call.
 *   dit(sample=[[in.clip0, in.clip1, ...]], timestep_ratio=in.timestep,
 *       encoder_hidden_states=in.encoder_hidden_states,
 *       encoder_attention_mask=in.encoder_attention_mask,
 *       pooled_projections=in.pooled_projections)[0]  ->  out.velocity
 * Any number of clips (in.clip0 .. in.clipK, the current clip last) and any sizes.
 */
#include "dit_internal.h"
#include "pf_golden.h"

typedef struct {
    pf_pool *pool;
    float *host[PF_DIT_MAX_CLIPS + 3];
    int64_t *mask64;
    int32_t *mask;
    float *vel;
    pf_dit *dit;
} dit_golden_state;

static void dit_golden_free(dit_golden_state *s) {
    for (size_t i = 0; i < PF_ARRAY_LEN(s->host); i++) free(s->host[i]);
    free(s->mask64);
    free(s->mask);
    free(s->vel);
    pf_pool_free(s->pool);
    pf_dit_free(s->dit);
}

/* Read in.NAME (f32) into a new pool tensor of the case's shape. */
static pf_status dit_golden_upload(pf_golden_case *c, dit_golden_state *s, int slot, const char *name, int want_ndim,
                                   pf_tensor **out) {
    int64_t shape[PF_MAX_DIMS];
    int ndim = 0;
    PF_TRY(pf_golden_in_f32(c, name, &s->host[slot], shape, &ndim));
    if (ndim != want_ndim)
        return pf_error(PF_ERR_SHAPE, "case '%s': %s has %d dims, expected %d", c->name, name, ndim, want_ndim);
    pf_tensor *t = pf_pool_tensor(s->pool, PF_F32, ndim, shape, name);
    if (!t) return PF_ERR_OOM;
    PF_TRY(pf_tensor_set(t, s->host[slot], pf_nbytes(t)));
    *out = t;
    return PF_OK;
}

static pf_status dit_golden_run(pf_golden_case *c, dit_golden_state *s) {
    if (!c->model_dir) return pf_error(PF_ERR_NOT_FOUND, "case '%s' names no model_dir", c->name);
    const char *dir = c->model_dir;
    char *joined = NULL;
    if (!pf_dir_exists(dir) && c->pack_dir) { /* a pack-relative model_dir */
        joined = pf_path_join(c->pack_dir, dir);
        if (joined) dir = joined;
    }
    pf_dtype dt = c->opts ? c->opts->dtype : PF_F32;
    pf_status rc = pf_dit_load(dir, c->backend, dt, &s->dit);
    free(joined);
    PF_TRY(rc);
    PF_TRY(pf_dit_set_act_dtype(s->dit, c->opts && c->opts->act == PF_BF16 ? PF_BF16 : PF_F32));
    PF_TRY(pf_pool_create(c->backend, 0, &s->pool));

    pf_dit_inputs in = {0};
    for (int i = 0; i < PF_DIT_MAX_CLIPS + 1; i++) {
        char name[32];
        snprintf(name, sizeof name, "in.clip%d", i);
        if (!pf_st_find(c->file, name)) break;
        if (i == PF_DIT_MAX_CLIPS)
            return pf_error(PF_ERR_UNSUPPORTED, "case '%s': more than %d clips", c->name, PF_DIT_MAX_CLIPS);
        PF_TRY(dit_golden_upload(c, s, i, name, 5, &in.clips[i]));
        in.n_clips = i + 1;
    }
    if (in.n_clips == 0) return pf_error(PF_ERR_NOT_FOUND, "case '%s' has no in.clip0", c->name);
    in.batch = (int)in.clips[0]->ne[0];
    PF_TRY(dit_golden_upload(c, s, PF_DIT_MAX_CLIPS, "in.encoder_hidden_states", 3, &in.text));
    PF_TRY(dit_golden_upload(c, s, PF_DIT_MAX_CLIPS + 1, "in.pooled_projections", 2, &in.pooled));

    int64_t shape[PF_MAX_DIMS];
    int ndim = 0;
    float *ts = NULL;
    PF_TRY(pf_golden_in_f32(c, "in.timestep", &ts, shape, &ndim));
    s->host[PF_DIT_MAX_CLIPS + 2] = ts;
    if (ndim != 1 || shape[0] != in.batch)
        return pf_error(PF_ERR_SHAPE, "case '%s': in.timestep has %d dims / %lld values, expected [%d]", c->name, ndim,
                        (long long)shape[0], in.batch);
    in.timestep = ts;
    PF_TRY(pf_golden_in_i64(c, "in.encoder_attention_mask", &s->mask64, shape, &ndim));
    if (ndim != 2 || shape[0] != in.batch || shape[1] != in.text->ne[1])
        return pf_error(PF_ERR_SHAPE, "case '%s': in.encoder_attention_mask does not match [%d, %lld]", c->name,
                        in.batch, (long long)in.text->ne[1]);
    size_t n_mask = (size_t)(shape[0] * shape[1]);
    s->mask = pf_malloc(n_mask * sizeof(int32_t), "text mask");
    if (!s->mask) return PF_ERR_OOM;
    for (size_t i = 0; i < n_mask; i++) s->mask[i] = s->mask64[i] != 0;
    in.text_mask = s->mask;

    /* velocity of the current clip, [B, C, t, h, w] */
    const pf_tensor *cur = in.clips[in.n_clips - 1];
    pf_tensor *vel = pf_pool_tensor(s->pool, PF_F32, 5, cur->ne, "velocity");
    if (!vel) return PF_ERR_OOM;
    PF_TRY(pf_dit_forward(s->dit, &in, vel));
    size_t n = (size_t)pf_nelem(vel);
    s->vel = pf_malloc(n * sizeof(float), "velocity");
    if (!s->vel) return PF_ERR_OOM;
    PF_TRY(pf_tensor_get(vel, s->vel, n * sizeof(float)));
    return pf_golden_put(c, "out.velocity", PF_F32, s->vel, n);
}

pf_status pf_golden_run_dit(pf_golden_case *c) {
    if (!c || !c->file || !c->backend) return pf_error(PF_ERR_INVALID_ARG, "dit runner: incomplete case");
    dit_golden_state s = {0};
    pf_status rc = dit_golden_run(c, &s);
    dit_golden_free(&s);
    return rc;
}
