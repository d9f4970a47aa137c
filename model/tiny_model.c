/* A whole tiny random-weight model folder (pf_tiny_model.h). */
#include "pf_tiny_model.h"

#include "pf_model_files.h"

#include <dirent.h>
#include <errno.h>

pf_status pf_tiny_model_spec_default(pf_dit_variant v, pf_tiny_model_spec *s) {
    if (!s) return pf_error(PF_ERR_INVALID_ARG, "pf_tiny_model_spec_default: NULL spec");
    if (v != PF_DIT_FLUX && v != PF_DIT_MMDIT) return pf_error(PF_ERR_INVALID_ARG, "unknown model variant %d", (int)v);
    memset(s, 0, sizeof *s);
    s->variant = v;
    pf_dit_config *d = &s->dit;
    pf_dit_config_released(v, d);
    d->heads = 2; /* head_dim stays 64: miniFLUX's RoPE axes are 16 + 24 + 24 */
    d->hidden = d->heads * d->head_dim;
    d->text_dim = 64;
    if (v == PF_DIT_FLUX) {
        d->n_double = 1;
        d->n_single = 1;
        d->pooled_dim = 32;
    } else {
        d->n_double = 2; /* the last joint block is context_pre_only; keep one ordinary block */
        d->n_single = 0;
        d->pooled_dim = 48;
        /* the released 192 / sample_size 128 halved: enough for 768p grids (80 x 48 patches) */
        d->pos_embed_max_size = 96;
        d->base_size = 32;
    }
    d->n_params = 0;
    pf_vae_config *c = &s->vae;
    pf_vae_config_released(c);
    static const int ch[4] = {4, 4, 4, 4};
    for (int i = 0; i < 4; i++) {
        c->enc_channels[i] = c->dec_channels[i] = ch[i];
        c->enc_layers[i] = c->dec_layers[i] = 1;
    }
    c->norm_groups = c->dec_norm_groups = 2;
    c->n_params = 0;
    s->resolutions[0] = true;
    return pf_tiny_text_spec_default(v, d->text_dim, d->pooled_dim, &s->text);
}

bool pf_tiny_model_is(const char *root) {
    char *m = root ? pf_path_join(root, PF_TINY_MODEL_MARKER) : NULL;
    bool is = m && pf_file_exists(m);
    free(m);
    return is;
}

/* A folder we may write into: new, empty, or an earlier tiny model. */
static pf_status tiny_model_check_root(const char *root) {
    if (!pf_dir_exists(root)) {
        if (pf_file_exists(root)) return pf_error(PF_ERR_IO, "%s is a file; give a folder for the tiny model", root);
        return PF_OK;
    }
    if (pf_tiny_model_is(root)) return PF_OK;
    DIR *d = opendir(root);
    if (!d) return pf_error(PF_ERR_IO, "cannot read the folder %s: %s", root, strerror(errno));
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = false;
    closedir(d);
    if (!empty)
        return pf_error(PF_ERR_INVALID_ARG,
                        "%s is not empty and holds no tiny model (%s); choose a new or empty folder so that nothing "
                        "else is overwritten",
                        root, PF_TINY_MODEL_MARKER);
    return PF_OK;
}

pf_status pf_tiny_model_write(const char *root, const pf_tiny_model_spec *s, const char *tok_pack, uint64_t seed) {
    if (!root || !*root || !s || !tok_pack) return pf_error(PF_ERR_INVALID_ARG, "pf_tiny_model_write: NULL argument");
    if (!pf_dir_exists(tok_pack))
        return pf_error(PF_ERR_NOT_FOUND,
                        "tokenizer files not found at %s (the repository's data/tokenizers folder: pass its path)",
                        tok_pack);
    PF_TRY(tiny_model_check_root(root));
    PF_TRY(pf_mkdir_p(root));
    /* the weights only pass through a CPU backend on their way to the files (one thread: nothing is
     * computed); random weights are counter-based, so the same seed gives the same bytes anywhere */
    pf_backend_options bo = {.device = -1, .threads = 1, .reference = false};
    pf_backend *be = NULL;
    PF_TRY(pf_backend_create("cpu", &bo, &be));
    char *vae_dir = pf_path_join(root, "causal_video_vae");
    pf_status rc = vae_dir ? PF_OK : pf_error(PF_ERR_OOM, "out of host memory");
    static const char *const res[3] = {"384p", "768p", "image"};
    bool any = false;
    for (int r = 0; r < 3; r++) any |= s->resolutions[r];
    if (!any) rc = pf_error(PF_ERR_INVALID_ARG, "tiny model: no resolution to write (384p, 768p or image)");
    pf_dit *dit = NULL;
    pf_vae *vae = NULL;
    int64_t dit_params = 0;
    for (int r = 0; r < 3 && rc == PF_OK; r++) {
        if (!s->resolutions[r]) continue;
        char sub[64];
        snprintf(sub, sizeof sub, "diffusion_transformer_%s", res[r]);
        char *dit_dir = pf_path_join(root, sub);
        if (!dit_dir) rc = pf_error(PF_ERR_OOM, "out of host memory");
        /* 384p keeps the plain seed: a model with only it is the same whatever else was asked */
        if (rc == PF_OK) rc = pf_dit_create_random(&s->dit, be, PF_F32, seed + 1000u * (uint64_t)r, &dit);
        if (rc == PF_OK) rc = pf_dit_save(dit, dit_dir);
        if (rc == PF_OK) dit_params = pf_dit_get_config(dit)->n_params;
        pf_dit_free(dit);
        dit = NULL;
        free(dit_dir);
    }
    if (rc == PF_OK) rc = pf_vae_create_random(&s->vae, be, PF_F32, seed + 1, &vae);
    if (rc == PF_OK) rc = pf_vae_save(vae, vae_dir);
    if (rc == PF_OK) rc = pf_tiny_text_write_root(root, s->variant, &s->text, tok_pack, seed + 2);
    if (rc == PF_OK) {
        char marker[1024];
        snprintf(marker, sizeof marker,
                 "{\n"
                 "  \"made_by\": \"pflow %s make-tiny-model\",\n"
                 "  \"variant\": \"%s\",\n"
                 "  \"seed\": %llu,\n"
                 "  \"random_weights\": true,\n"
                 "  \"note\": \"random weights: generations are noise; use it to try pflow, not to judge quality\",\n"
                 "  \"dit_params\": %lld,\n"
                 "  \"vae_params\": %lld\n"
                 "}\n",
                 pf_version(), s->variant == PF_DIT_FLUX ? "miniflux" : "sd3", (unsigned long long)seed,
                 (long long)dit_params, (long long)pf_vae_get_config(vae)->n_params);
        rc = pf_write_text_file(root, PF_TINY_MODEL_MARKER, marker);
    }
    pf_vae_free(vae);
    pf_backend_free(be);
    free(vae_dir);
    return rc;
}
