/* Locating the parts of a released model folder. */
#include "pf_model_dir.h"

static const char *const pf_resolutions[] = {"384p", "768p", "image"};

void pf_model_dir_free(pf_model_dir *d) {
    if (!d) return;
    free(d->root);
    free(d->dit_dir);
    free(d->vae_dir);
    memset(d, 0, sizeof *d);
}

static char *pf_dit_subdir(const char *root, const char *res) {
    char name[64];
    snprintf(name, sizeof name, "diffusion_transformer_%s", res);
    return pf_path_join(root, name);
}

pf_status pf_model_dir_find(const char *root, const char *resolution, pf_model_dir *out) {
    memset(out, 0, sizeof *out);
    if (!root || !*root) return pf_error(PF_ERR_INVALID_ARG, "model folder: no path given");
    if (!pf_dir_exists(root)) return pf_error(PF_ERR_NOT_FOUND, "model folder %s does not exist", root);
    const char *chosen = NULL;
    int n_found = 0;
    char found[64] = "";
    for (size_t i = 0; i < PF_ARRAY_LEN(pf_resolutions); i++) {
        char *d = pf_dit_subdir(root, pf_resolutions[i]);
        if (!d) return PF_ERR_OOM;
        if (pf_dir_exists(d)) {
            if (!chosen) chosen = pf_resolutions[i];
            n_found++;
            snprintf(found + strlen(found), sizeof found - strlen(found), "%s%s", n_found > 1 ? ", " : "",
                     pf_resolutions[i]);
        }
        free(d);
    }
    if (resolution && *resolution) {
        bool known = false;
        for (size_t i = 0; i < PF_ARRAY_LEN(pf_resolutions); i++) known |= !strcmp(resolution, pf_resolutions[i]);
        if (!known)
            return pf_error(PF_ERR_INVALID_ARG, "model folder %s: resolution '%s' (expected 384p, 768p or image)", root,
                            resolution);
        char *d = pf_dit_subdir(root, resolution);
        if (!d) return PF_ERR_OOM;
        bool ok = pf_dir_exists(d);
        free(d);
        if (!ok)
            return pf_error(PF_ERR_NOT_FOUND, "model folder %s has no diffusion_transformer_%s/ (it has: %s)", root,
                            resolution, n_found ? found : "no diffusion_transformer_* folder");
        chosen = resolution;
    } else if (!chosen) {
        return pf_error(PF_ERR_NOT_FOUND,
                        "model folder %s has no diffusion_transformer_384p/, _768p/ or _image/ (is it a Pyramid Flow "
                        "download such as rain1011/pyramid-flow-miniflux?)",
                        root);
    } else if (n_found > 1) {
        PF_INFO("model folder %s holds %s; using %s", root, found, chosen);
    }
    out->root = pf_strdup(root);
    out->dit_dir = pf_dit_subdir(root, chosen);
    out->vae_dir = pf_path_join(root, "causal_video_vae");
    snprintf(out->resolution, sizeof out->resolution, "%s", chosen);
    if (!out->root || !out->dit_dir || !out->vae_dir) {
        pf_model_dir_free(out);
        return PF_ERR_OOM;
    }
    if (!pf_dir_exists(out->vae_dir)) {
        pf_status rc = pf_error(PF_ERR_NOT_FOUND, "model folder %s has no causal_video_vae/", root);
        pf_model_dir_free(out);
        return rc;
    }
    char *te = pf_path_join(root, "text_encoder"), *tk = pf_path_join(root, "tokenizer");
    out->has_text = te && tk && pf_dir_exists(te) && pf_dir_exists(tk);
    free(te);
    free(tk);
    return PF_OK;
}
