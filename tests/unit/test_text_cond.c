/*
 * Prompt conditioning end to end on tiny model roots assembled at test time: tiny
 * random encoders with the real vocabularies (pf_tiny_text_write_root) and the real
 * tokenizer files of the golden pack. The result must equal the pieces done by hand:
 * the official strings, [negative, positive] order, T5 128 tokens with its mask,
 * CLIP 77, miniFLUX pooler_output, SD3 CLIP-L ++ CLIP-G text_embeds.
 */
#include "pf_test.h"
#include "pf_text.h"
#include "pf_tiny_text.h"
#include "pf_tokenizer.h"

#include <ftw.h>
#include <unistd.h>

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static pf_backend *cpu(void) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 0, .reference = false};
    if (pf_backend_create("cpu", &o, &be) != PF_OK) return NULL;
    return be;
}

static const char *tok_pack(void) {
    static char buf[1024];
    const char *pack = pf_test_golden_dir();
    if (!pack) return NULL;
    snprintf(buf, sizeof buf, "%s/tokenizers", pack);
    return pf_dir_exists(buf) ? buf : NULL;
}

/* The conditioning of [negative, positive] computed piece by piece. */
static pf_status by_hand(const char *root, pf_dit_variant v, pf_backend *be, const char *prompt, const char *negative,
                         pf_prompt_embeds *e) {
    char positive[4096], dir[1200];
    snprintf(positive, sizeof positive, "%s, hyper quality, Ultra HD, 8K", prompt);
    const char *texts[2] = {negative, positive};
    bool flux = v == PF_DIT_FLUX;
    pf_tokenizer *tok;
    int32_t ids[2 * 128], mask[2 * 128];
    /* T5 */
    snprintf(dir, sizeof dir, "%s/%s", root, flux ? "tokenizer_2" : "tokenizer_3");
    PF_TRY(pf_tokenizer_load_t5(dir, &tok));
    for (int b = 0; b < 2; b++) PF_TRY(pf_tokenize(tok, texts[b], 128, ids + 128 * b, mask + 128 * b, NULL));
    pf_tokenizer_free(tok);
    pf_t5 *t5;
    snprintf(dir, sizeof dir, "%s/%s", root, flux ? "text_encoder_2" : "text_encoder_3");
    PF_TRY(pf_t5_load(dir, be, PF_F32, &t5));
    e->text_dim = pf_t5_dim(t5);
    e->hidden = malloc(sizeof(float) * 2 * 128 * (size_t)e->text_dim);
    e->mask = malloc(sizeof(int32_t) * 2 * 128);
    memcpy(e->mask, mask, sizeof mask);
    PF_TRY(pf_t5_encode(t5, ids, mask, 2, 128, e->hidden));
    pf_t5_free(t5);
    /* CLIP(s) */
    e->pooled = malloc(sizeof(float) * 2 * 4096);
    e->pooled_dim = 0;
    float part[2 * 2048];
    for (int i = 0; i < (flux ? 1 : 2); i++) {
        snprintf(dir, sizeof dir, "%s/%s", root, i ? "tokenizer_2" : "tokenizer");
        PF_TRY(pf_tokenizer_load_clip(dir, &tok));
        for (int b = 0; b < 2; b++) PF_TRY(pf_tokenize(tok, texts[b], 77, ids + 77 * b, mask + 77 * b, NULL));
        pf_tokenizer_free(tok);
        if (i == 1)
            for (int b = 0; b < 2; b++)
                if (mask[77 * b + 76] == 0 && ids[77 * b + 76] != 0)
                    return pf_error(PF_ERR_INTERNAL, "SD3 tokenizer_2 pads with %d, expected 0 (\"!\")",
                                    ids[77 * b + 76]);
        pf_clip *clip;
        snprintf(dir, sizeof dir, "%s/%s", root, i ? "text_encoder_2" : "text_encoder");
        PF_TRY(pf_clip_load(dir, be, PF_F32, &clip));
        int w = flux ? pf_clip_dim(clip) : pf_clip_projection_dim(clip);
        PF_TRY(flux ? pf_clip_encode(clip, ids, 2, 77, NULL, part, NULL)
                    : pf_clip_encode(clip, ids, 2, 77, NULL, NULL, part));
        pf_clip_free(clip);
        /* concatenated along the feature axis: [CLIP-L | CLIP-G] per row */
        for (int b = 0; b < 2; b++)
            memcpy(e->pooled + (size_t)b * 4096 + e->pooled_dim, part + (size_t)b * w, sizeof(float) * (size_t)w);
        e->pooled_dim += w;
    }
    return PF_OK;
}

static bool same(const pf_prompt_embeds *a, const pf_prompt_embeds *h) {
    if (a->batch != 2 || a->tokens != 128 || a->text_dim != h->text_dim || a->pooled_dim != h->pooled_dim) return false;
    if (memcmp(a->hidden, h->hidden, sizeof(float) * 2 * 128 * (size_t)a->text_dim)) return false;
    if (memcmp(a->mask, h->mask, sizeof(int32_t) * 2 * 128)) return false;
    for (int b = 0; b < 2; b++)
        if (memcmp(a->pooled + (size_t)b * a->pooled_dim, h->pooled + (size_t)b * 4096,
                   sizeof(float) * (size_t)a->pooled_dim))
            return false;
    return true;
}

static pf_test_result run_variant(pf_dit_variant v) {
    const char *pack = tok_pack();
    if (!pack) SKIP("no golden tokenizers (PF_GOLDEN_DIR)");
    char root[256];
    snprintf(root, sizeof root, "%s/pf_text_cond_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(root));
    pf_backend *be = cpu();
    CHECK(be);
    /* a DiT with joint_attention_dim 24 and pooled 16 (miniFLUX) / 20 (SD3) */
    int text_dim = 24, pooled_dim = v == PF_DIT_FLUX ? 16 : 20;
    pf_tiny_text_spec spec;
    CHECK_OK(pf_tiny_text_spec_default(v, text_dim, pooled_dim, &spec));
    CHECK_OK(pf_tiny_text_write_root(root, v, &spec, pack, 42));

    pf_text_encoder *enc;
    CHECK_OK(pf_text_encoder_open(root, v, be, PF_F32, &enc));
    const char *prompt = "A golden retriever runs along a beach at sunset, waves splashing";
    pf_prompt_embeds got, want;
    CHECK_OK(pf_text_encode_prompts(enc, prompt, NULL, &got));
    CHECK(got.batch == 2 && got.tokens == 128 && got.text_dim == text_dim && got.pooled_dim == pooled_dim);
    memset(&want, 0, sizeof want);
    CHECK_OK(by_hand(root, v, be, prompt, pf_default_negative_prompt, &want));
    CHECK_MSG(same(&got, &want), "conditioning differs from the pieces done by hand");
    /* both prompts valid on a few tokens, padded after */
    for (int b = 0; b < 2; b++) CHECK(got.mask[b * 128] == 1 && got.mask[b * 128 + 127] == 0);
    pf_prompt_embeds_free(&want);

    /* an explicit negative prompt; a prompt longer than every limit (truncated with a warning) */
    char longp[3000] = "";
    for (int i = 0; i < 120; i++) strcat(longp, i % 2 ? "mountains " : "rivers and ");
    pf_prompt_embeds g2, w2;
    CHECK_OK(pf_text_encode_prompts(enc, longp, "", &g2));
    memset(&w2, 0, sizeof w2);
    CHECK_OK(by_hand(root, v, be, longp, "", &w2));
    CHECK_MSG(same(&g2, &w2), "long prompt: conditioning differs from the pieces done by hand");
    CHECK(g2.mask[128 + 127] == 1); /* positive row: all 128 tokens used */
    CHECK(memcmp(g2.hidden, got.hidden, sizeof(float) * 128 * (size_t)text_dim)); /* "" is not the default */
    pf_prompt_embeds_free(&w2);
    pf_prompt_embeds_free(&g2);
    pf_prompt_embeds_free(&got);
    CHECK(got.hidden == NULL && got.pooled == NULL);

    CHECK_ERR(pf_text_encode_prompts(enc, NULL, NULL, &got), PF_ERR_INVALID_ARG, "prompt");
    pf_text_encoder_free(enc);

    /* a root without its T5 folder: named in the error */
    char t5dir[300];
    snprintf(t5dir, sizeof t5dir, "%s/%s", root, v == PF_DIT_FLUX ? "text_encoder_2" : "text_encoder_3");
    nftw(t5dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    CHECK_ERR(pf_text_encoder_open(root, v, be, PF_F32, &enc), PF_ERR_NOT_FOUND,
              v == PF_DIT_FLUX ? "text_encoder_2" : "text_encoder_3");
    CHECK(enc == NULL);
    /* the other variant's layout is not this one */
    if (v == PF_DIT_FLUX) CHECK_ERR(pf_text_encoder_open(root, PF_DIT_MMDIT, be, PF_F32, &enc), PF_ERR_NOT_FOUND, "");
    pf_backend_free(be);
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return PF_T_PASS;
}

static pf_test_result test_cond_miniflux(void) { return run_variant(PF_DIT_FLUX); }
static pf_test_result test_cond_sd3(void) { return run_variant(PF_DIT_MMDIT); }

static pf_test_result test_prompt_strings(void) {
    CHECK(!strcmp(pf_prompt_suffix, ", hyper quality, Ultra HD, 8K"));
    CHECK(
        !strncmp(pf_default_negative_prompt, "cartoon style, worst quality, low quality, blurry, absolute black", 64));
    CHECK(strstr(pf_default_negative_prompt, "mutated anatomy, monochrome, horror") != NULL);
    pf_prompt_embeds e = {0};
    pf_prompt_embeds_free(&e); /* freeing an empty result is fine */
    pf_prompt_embeds_free(NULL);
    pf_text_encoder_free(NULL);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_prompt_strings), PF_TEST(test_cond_miniflux), PF_TEST(test_cond_sd3))
