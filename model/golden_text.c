/*
 * check-golden runner for kind "text_encoder" (golden README §11): the case's
 * model_dir holds a transformers text encoder (config.json + safetensors); its
 * config's model_type says which (T5EncoderModel or a CLIP text model).
 *
 *   T5:   in.input_ids, in.attention_mask [B, L] -> out.last_hidden_state (with the
 *         mask) and, when the case has it, out.last_hidden_state_no_mask (without)
 *   CLIP: in.input_ids [B, L] -> out.last_hidden_state, out.pooler_output and/or
 *         out.text_embeds, whichever the case holds
 */
#include "pf_golden.h"
#include "text_impl.h"

static bool case_has(const pf_golden_case *c, const char *name) { return pf_st_find(c->file, name) != NULL; }

/* in.* ids as i32 [B, L]. */
static pf_status case_ids(const pf_golden_case *c, const char *name, int32_t **out, int *B, int *L) {
    int64_t *v = NULL, shape[PF_MAX_DIMS];
    int nd = 0;
    PF_TRY(pf_golden_in_i64(c, name, &v, shape, &nd));
    if (nd != 2 || shape[0] < 1 || shape[1] < 1 || shape[0] * shape[1] > (1 << 24)) {
        free(v);
        return pf_error(PF_ERR_SHAPE, "case %s: %s must be [batch, tokens]", c->name, name);
    }
    size_t n = (size_t)(shape[0] * shape[1]);
    int32_t *r = malloc(sizeof(int32_t) * n);
    if (!r) {
        free(v);
        return pf_error(PF_ERR_OOM, "out of host memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] < INT32_MIN || v[i] > INT32_MAX) {
            free(v);
            free(r);
            return pf_error(PF_ERR_INVALID_ARG, "case %s: %s[%zu] = %lld does not fit an id", c->name, name, i,
                            (long long)v[i]);
        }
        r[i] = (int32_t)v[i];
    }
    free(v);
    *out = r;
    *B = (int)shape[0];
    *L = (int)shape[1];
    return PF_OK;
}

static pf_status run_t5(pf_golden_case *c, const char *dir) {
    int32_t *ids = NULL, *mask = NULL;
    float *hidden = NULL;
    pf_t5 *m = NULL;
    int B, L, mb = 0, ml = 0;
    pf_status rc = case_ids(c, "in.input_ids", &ids, &B, &L);
    if (rc == PF_OK && case_has(c, "in.attention_mask")) {
        rc = case_ids(c, "in.attention_mask", &mask, &mb, &ml);
        if (rc == PF_OK && (mb != B || ml != L))
            rc = pf_error(PF_ERR_SHAPE, "case %s: in.attention_mask [%d, %d] does not match in.input_ids [%d, %d]",
                          c->name, mb, ml, B, L);
    }
    if (rc == PF_OK) rc = pf_t5_load(dir, c->backend, c->opts ? c->opts->dtype : PF_F32, &m);
    size_t n = 0;
    if (rc == PF_OK) {
        n = (size_t)B * (size_t)L * (size_t)pf_t5_dim(m);
        hidden = malloc(sizeof(float) * n);
        if (!hidden) rc = pf_error(PF_ERR_OOM, "out of host memory");
    }
    if (rc == PF_OK) rc = pf_t5_encode(m, ids, mask, B, L, hidden);
    if (rc == PF_OK) rc = pf_golden_put(c, "out.last_hidden_state", PF_F32, hidden, n);
    if (rc == PF_OK && case_has(c, "out.last_hidden_state_no_mask")) {
        rc = pf_t5_encode(m, ids, NULL, B, L, hidden);
        if (rc == PF_OK) rc = pf_golden_put(c, "out.last_hidden_state_no_mask", PF_F32, hidden, n);
    }
    pf_t5_free(m);
    free(hidden);
    free(ids);
    free(mask);
    return rc;
}

static pf_status run_clip(pf_golden_case *c, const char *dir) {
    int32_t *ids = NULL;
    float *hidden = NULL, *pooled = NULL, *proj = NULL;
    pf_clip *m = NULL;
    int B = 0, L = 0;
    pf_status rc = case_ids(c, "in.input_ids", &ids, &B, &L);
    if (rc == PF_OK) rc = pf_clip_load(dir, c->backend, c->opts ? c->opts->dtype : PF_F32, &m);
    size_t nh = 0, np = 0, nt = 0;
    bool want_proj = case_has(c, "out.text_embeds");
    if (rc == PF_OK) {
        if (want_proj && pf_clip_projection_dim(m) == 0)
            rc = pf_error(PF_ERR_NOT_FOUND, "case %s wants out.text_embeds, but %s has no text_projection", c->name,
                          dir);
        nh = (size_t)B * (size_t)L * (size_t)pf_clip_dim(m);
        np = (size_t)B * (size_t)pf_clip_dim(m);
        nt = (size_t)B * (size_t)pf_clip_projection_dim(m);
    }
    if (rc == PF_OK) {
        hidden = malloc(sizeof(float) * nh);
        pooled = malloc(sizeof(float) * np);
        proj = malloc(sizeof(float) * PF_MAX(nt, (size_t)1));
        if (!hidden || !pooled || !proj) rc = pf_error(PF_ERR_OOM, "out of host memory");
    }
    if (rc == PF_OK) rc = pf_clip_encode(m, ids, B, L, hidden, pooled, want_proj ? proj : NULL);
    if (rc == PF_OK) rc = pf_golden_put(c, "out.last_hidden_state", PF_F32, hidden, nh);
    if (rc == PF_OK && case_has(c, "out.pooler_output")) rc = pf_golden_put(c, "out.pooler_output", PF_F32, pooled, np);
    if (rc == PF_OK && want_proj) rc = pf_golden_put(c, "out.text_embeds", PF_F32, proj, nt);
    pf_clip_free(m);
    free(hidden);
    free(pooled);
    free(proj);
    free(ids);
    return rc;
}

pf_status pf_golden_run_text_encoder(pf_golden_case *c) {
    if (!c || !c->file) return pf_error(PF_ERR_INVALID_ARG, "text_encoder runner: no case file");
    if (!c->model_dir) return pf_error(PF_ERR_FORMAT, "case %s: no model_dir in the case metadata", c->name);
    char *cpath = pf_path_join(c->model_dir, "config.json");
    if (!cpath) return pf_error(PF_ERR_OOM, "out of host memory");
    pf_json *j;
    pf_status rc = pf_json_load(cpath, &j);
    free(cpath);
    if (rc != PF_OK) return rc;
    const char *mt = pf_json_opt_str(j, "model_type", "", &rc);
    bool t5 = rc == PF_OK && !strcmp(mt, "t5");
    bool clip = rc == PF_OK && (!strcmp(mt, "clip_text_model") || !strcmp(mt, "clip"));
    char type[64];
    snprintf(type, sizeof type, "%s", rc == PF_OK ? mt : "");
    pf_json_free(j);
    if (rc != PF_OK) return rc;
    if (t5) return run_t5(c, c->model_dir);
    if (clip) return run_clip(c, c->model_dir);
    return pf_golden_skip(c, "text encoder model_type '%s' in %s is not one pflow runs (t5, clip_text_model)", type,
                          c->model_dir);
}
