/*
 * Prompt conditioning of both pipeline variants (FluxTextEncoderWithMask,
 * SD3TextEncoderWithMask; facts §1.3):
 *
 *   batch = [negative, positive + ", hyper quality, Ultra HD, 8K"]
 *   T5:   128 tokens, padded, mask -> hidden [2, 128, d_model] + mask [2, 128]
 *   miniFLUX pooled = CLIP-L pooler_output                         [2, 768]
 *   SD3 pooled      = CLIP-L text_embeds (768) ++ CLIP-G text_embeds (1280) [2, 2048]
 *   both CLIPs take 77 tokens (the CLIP-L tokenizer's model_max_length); SD3's
 *   tokenizer_2 pads with "!" (id 0), which its own tokenizer config says.
 *
 * Memory: pf_text_encoder_open loads the tokenizers and checks every encoder's
 * config and weight names/shapes (no weights are read). pf_text_encode_prompts
 * loads one encoder at a time and frees it as soon as its outputs are on the
 * host, so at most one encoder is resident and none is left for the DiT to
 * compete with. Encoding again loads them again.
 */
#include "pf_tokenizer.h"
#include "text_impl.h"

const char *const pf_prompt_suffix = ", hyper quality, Ultra HD, 8K";
const char *const pf_default_negative_prompt =
    "cartoon style, worst quality, low quality, blurry, absolute black, absolute white, low res, extra limbs, "
    "extra digits, misplaced objects, mutated anatomy, monochrome, horror";

struct pf_text_encoder {
    pf_dit_variant variant;
    pf_backend *be;
    pf_dtype dtype;
    char *t5_dir;
    char *clip_dir[2]; /* [0] CLIP-L text_encoder/, [1] SD3 CLIP-G text_encoder_2/ (else NULL) */
    pf_tokenizer *t5_tok;
    pf_tokenizer *clip_tok[2];
    int n_clip;
    int text_dim;    /* T5 d_model */
    int clip_out[2]; /* pooled width each CLIP contributes */
    int pooled_dim;
};

void pf_prompt_embeds_free(pf_prompt_embeds *e) {
    if (!e) return;
    free(e->hidden);
    free(e->mask);
    free(e->pooled);
    memset(e, 0, sizeof *e);
}

void pf_text_encoder_free(pf_text_encoder *e) {
    if (!e) return;
    pf_tokenizer_free(e->t5_tok);
    for (int i = 0; i < 2; i++) {
        pf_tokenizer_free(e->clip_tok[i]);
        free(e->clip_dir[i]);
    }
    free(e->t5_dir);
    free(e);
}

static pf_status cond_join(const char *root, const char *sub, char **out) {
    *out = pf_path_join(root, sub);
    if (!*out) return pf_error(PF_ERR_OOM, "out of host memory");
    if (!pf_dir_exists(*out)) return pf_error(PF_ERR_NOT_FOUND, "%s: missing folder %s", root, sub);
    return PF_OK;
}

pf_status pf_text_encoder_open(const char *root, pf_dit_variant v, pf_backend *be, pf_dtype dtype,
                               pf_text_encoder **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_text_encoder_open: NULL output");
    *out = NULL;
    if (!root || !be) return pf_error(PF_ERR_INVALID_ARG, "pf_text_encoder_open: NULL folder or backend");
    if (v != PF_DIT_FLUX && v != PF_DIT_MMDIT) return pf_error(PF_ERR_INVALID_ARG, "unknown model variant %d", (int)v);
    PF_TRY(pf_text_check_dtype(dtype, "text encoders"));
    pf_text_encoder *e = calloc(1, sizeof *e);
    if (!e) return pf_error(PF_ERR_OOM, "out of host memory (text encoder)");
    e->variant = v;
    e->be = be;
    e->dtype = dtype;
    e->n_clip = v == PF_DIT_FLUX ? 1 : 2;
    /* folder names of the released checkpoints (facts §2.1) */
    const char *t5_tok = v == PF_DIT_FLUX ? "tokenizer_2" : "tokenizer_3";
    const char *t5_enc = v == PF_DIT_FLUX ? "text_encoder_2" : "text_encoder_3";
    static const char *const clip_tok[2] = {"tokenizer", "tokenizer_2"};
    static const char *const clip_enc[2] = {"text_encoder", "text_encoder_2"};
    char *tok_dir = NULL;
    pf_status rc = PF_OK;
    pf_t5_config t5c;
    if ((rc = cond_join(root, t5_enc, &e->t5_dir)) != PF_OK) goto fail;
    if ((rc = cond_join(root, t5_tok, &tok_dir)) != PF_OK) goto fail;
    if ((rc = pf_tokenizer_load_t5(tok_dir, &e->t5_tok)) != PF_OK) goto fail;
    free(tok_dir);
    tok_dir = NULL;
    if ((rc = pf_t5_check_dir(e->t5_dir, &t5c)) != PF_OK) goto fail;
    e->text_dim = t5c.d_model;
    for (int i = 0; i < e->n_clip; i++) {
        pf_clip_config cc;
        if ((rc = cond_join(root, clip_enc[i], &e->clip_dir[i])) != PF_OK) goto fail;
        if ((rc = cond_join(root, clip_tok[i], &tok_dir)) != PF_OK) goto fail;
        if ((rc = pf_tokenizer_load_clip(tok_dir, &e->clip_tok[i])) != PF_OK) goto fail;
        free(tok_dir);
        tok_dir = NULL;
        if ((rc = pf_clip_check_dir(e->clip_dir[i], &cc)) != PF_OK) goto fail;
        if (cc.max_positions < PF_CLIP_MAX_TOKENS) {
            rc = pf_error(PF_ERR_FORMAT, "%s: max_position_embeddings %d is less than the %d tokens the pipeline uses",
                          e->clip_dir[i], cc.max_positions, PF_CLIP_MAX_TOKENS);
            goto fail;
        }
        if (v == PF_DIT_MMDIT && cc.projection_dim == 0) {
            rc = pf_error(PF_ERR_NOT_FOUND,
                          "%s: SD3 uses CLIPTextModelWithProjection, but there is no text_projection.weight",
                          e->clip_dir[i]);
            goto fail;
        }
        /* miniFLUX: pooler_output (hidden); SD3: the projected text_embeds */
        e->clip_out[i] = v == PF_DIT_FLUX ? cc.hidden : cc.projection_dim;
        e->pooled_dim += e->clip_out[i];
    }
    *out = e;
    return PF_OK;
fail:
    free(tok_dir);
    pf_text_encoder_free(e);
    return pf_error_wrap(rc, "opening the text encoders of %s", root);
}

/* Tokenize [negative, positive] to fixed-length rows; warns about truncation. */
static pf_status cond_tokenize(pf_tokenizer *tok, const char *const texts[2], int max_len, const char *what,
                               int32_t *ids, int32_t *mask) {
    static const char *const which[2] = {"negative", "positive"};
    for (int b = 0; b < 2; b++) {
        int n_full = 0;
        PF_TRY(pf_tokenize(tok, texts[b], max_len, ids + (size_t)b * max_len, mask + (size_t)b * max_len, &n_full));
        if (n_full > max_len)
            PF_WARN("the %s prompt is %d %s tokens long; the encoder takes %d, the last %d are dropped (as the "
                    "reference pipeline truncates)",
                    which[b], n_full, what, max_len, n_full - max_len);
    }
    return PF_OK;
}

/* CLIP i's pooled vector of both rows into pooled[:, off : off + width]. */
static pf_status cond_clip(pf_text_encoder *e, int i, const char *const texts[2], float *pooled, int off) {
    int32_t ids[2 * PF_CLIP_MAX_TOKENS], mask[2 * PF_CLIP_MAX_TOKENS];
    PF_TRY(cond_tokenize(e->clip_tok[i], texts, PF_CLIP_MAX_TOKENS, i == 0 ? "CLIP" : "CLIP-G", ids, mask));
    pf_clip *m;
    PF_TRY(pf_clip_load(e->clip_dir[i], e->be, e->dtype, &m));
    int w = e->clip_out[i];
    float *tmp = malloc(sizeof(float) * 2 * (size_t)w);
    if (!tmp) {
        pf_clip_free(m);
        return pf_error(PF_ERR_OOM, "out of host memory (pooled)");
    }
    pf_status rc = e->variant == PF_DIT_FLUX ? pf_clip_encode(m, ids, 2, PF_CLIP_MAX_TOKENS, NULL, tmp, NULL)
                                             : pf_clip_encode(m, ids, 2, PF_CLIP_MAX_TOKENS, NULL, NULL, tmp);
    pf_clip_free(m); /* gone before the next encoder loads */
    if (rc == PF_OK)
        for (int b = 0; b < 2; b++)
            memcpy(pooled + (size_t)b * e->pooled_dim + off, tmp + (size_t)b * w, sizeof(float) * (size_t)w);
    free(tmp);
    return rc;
}

pf_status pf_text_encode_prompts(pf_text_encoder *e, const char *prompt, const char *negative, pf_prompt_embeds *out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_text_encode_prompts: NULL output");
    memset(out, 0, sizeof *out);
    if (!e || !prompt) return pf_error(PF_ERR_INVALID_ARG, "pf_text_encode_prompts: NULL encoder or prompt");
    size_t np = strlen(prompt), ns = strlen(pf_prompt_suffix);
    char *positive = malloc(np + ns + 1);
    if (!positive) return pf_error(PF_ERR_OOM, "out of host memory (prompt)");
    memcpy(positive, prompt, np);
    memcpy(positive + np, pf_prompt_suffix, ns + 1);
    /* CFG order of the pipelines: [negative, positive] */
    const char *const texts[2] = {negative ? negative : pf_default_negative_prompt, positive};

    out->batch = 2;
    out->tokens = PF_T5_MAX_TOKENS;
    out->text_dim = e->text_dim;
    out->pooled_dim = e->pooled_dim;
    out->hidden = malloc(sizeof(float) * 2 * PF_T5_MAX_TOKENS * (size_t)e->text_dim);
    out->mask = malloc(sizeof(int32_t) * 2 * PF_T5_MAX_TOKENS);
    out->pooled = malloc(sizeof(float) * 2 * (size_t)e->pooled_dim);
    pf_status rc = PF_OK;
    if (!out->hidden || !out->mask || !out->pooled) rc = pf_error(PF_ERR_OOM, "out of host memory (prompt embeddings)");

    /* the official encode_prompt order: CLIP(s), then T5 */
    for (int i = 0, off = 0; i < e->n_clip && rc == PF_OK; off += e->clip_out[i], i++)
        rc = cond_clip(e, i, texts, out->pooled, off);

    if (rc == PF_OK) {
        int32_t ids[2 * PF_T5_MAX_TOKENS];
        rc = cond_tokenize(e->t5_tok, texts, PF_T5_MAX_TOKENS, "T5", ids, out->mask);
        pf_t5 *t5 = NULL;
        if (rc == PF_OK) rc = pf_t5_load(e->t5_dir, e->be, e->dtype, &t5);
        if (rc == PF_OK) rc = pf_t5_encode(t5, ids, out->mask, 2, PF_T5_MAX_TOKENS, out->hidden);
        pf_t5_free(t5);
    }
    free(positive);
    if (rc != PF_OK) {
        pf_prompt_embeds_free(out);
        return pf_error_wrap(rc, "encoding the prompts");
    }
    return PF_OK;
}
