/*
 * T5 and CLIP text encoders on tiny random models: relative-position buckets
 * against the definition, the meaning of the T5 key mask and of CLIP's causal
 * mask and pooling, graph caching, bf16 weights against f32, released sizes.
 */
#include "pf_test.h"
#include "pf_text.h"
#include "pf_tiny_text.h"
#include "text_impl.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static pf_backend *cpu(bool reference) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 1, .reference = reference};
    if (pf_backend_create("cpu", &o, &be) != PF_OK) return NULL;
    return be;
}

static void tiny_t5(pf_t5_config *c) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 50;
    c->d_model = 16;
    c->d_kv = 6;
    c->num_heads = 3;
    c->d_ff = 24;
    c->num_layers = 2;
    c->rel_buckets = 32;
    c->rel_max_distance = 128;
    c->eps = 1e-6f;
    c->act = PF_UNARY_GELU_TANH;
}

static void tiny_clip(pf_clip_config *c) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 60;
    c->hidden = 16;
    c->heads = 2;
    c->intermediate = 32;
    c->layers = 2;
    c->max_positions = 12;
    c->projection_dim = 8;
    c->eps = 1e-5f;
    c->act = PF_UNARY_QUICK_GELU;
    c->eos_token_id = 2;
}

/* transformers' _relative_position_bucket written from its definition in double. */
static int bucket_def(int rel, int nb, int md) {
    nb /= 2;
    int out = rel > 0 ? nb : 0, a = abs(rel), me = nb / 2;
    if (a < me) return out + a;
    int large = me + (int)(log((double)a / me) / log((double)md / me) * (nb - me));
    return out + (large < nb - 1 ? large : nb - 1);
}

static pf_test_result test_relative_buckets(void) {
    /* values by hand for the released 32 buckets / 128 */
    CHECK(pf_t5_relative_bucket(0, 32, 128) == 0);
    CHECK(pf_t5_relative_bucket(-1, 32, 128) == 1);
    CHECK(pf_t5_relative_bucket(1, 32, 128) == 17);
    CHECK(pf_t5_relative_bucket(-7, 32, 128) == 7);
    CHECK(pf_t5_relative_bucket(-8, 32, 128) == 8);
    CHECK(pf_t5_relative_bucket(16, 32, 128) == 26);  /* 8 + log(2)/log(16)*8 = 8 + 2 */
    CHECK(pf_t5_relative_bucket(-32, 32, 128) == 12); /* 8 + 4 */
    CHECK(pf_t5_relative_bucket(-127, 32, 128) == 15);
    CHECK(pf_t5_relative_bucket(5000, 32, 128) == 31);
    static const int cfg[][2] = {{32, 128}, {64, 256}, {32, 64}, {16, 32}, {128, 1024}, {8, 20}, {48, 200}};
    for (size_t c = 0; c < PF_ARRAY_LEN(cfg); c++)
        for (int r = -3000; r <= 3000; r++) {
            int got = pf_t5_relative_bucket(r, cfg[c][0], cfg[c][1]), want = bucket_def(r, cfg[c][0], cfg[c][1]);
            CHECK_MSG(got == want, "buckets %d / %d, rel %d: %d, expected %d", cfg[c][0], cfg[c][1], r, got, want);
        }
    return PF_T_PASS;
}

/* Padded keys are invisible: the valid prefix of a padded row equals the same
 * tokens encoded alone (its relative positions are the same). */
static pf_test_result test_t5_mask_means_prefix(void) {
    pf_backend *be = cpu(true);
    CHECK(be);
    pf_t5_config c;
    tiny_t5(&c);
    pf_t5 *m;
    CHECK_OK(pf_t5_create_random(&c, be, PF_F32, 7, &m));
    enum { B = 2, L = 10 };
    int32_t ids[B * L], mask[B * L];
    const int valid[B] = {4, 10};
    for (int b = 0; b < B; b++)
        for (int i = 0; i < L; i++) {
            ids[b * L + i] = i < valid[b] ? 3 + (b * 7 + i * 5) % 40 : 0;
            mask[b * L + i] = i < valid[b];
        }
    float full[B * L * 16], nomask[B * L * 16], part[4 * 16];
    CHECK_OK(pf_t5_encode(m, ids, mask, B, L, full));
    CHECK_OK(pf_t5_encode(m, ids, NULL, B, L, nomask));
    CHECK_OK(pf_t5_encode(m, ids, NULL, 1, 4, part)); /* row 0's valid tokens alone */
    double d_prefix = 0.0, d_mask = 0.0, d_full_row = 0.0;
    for (int i = 0; i < 4 * 16; i++) d_prefix = fmax(d_prefix, fabs(full[i] - part[i]));
    for (int i = 0; i < L * 16; i++) d_mask = fmax(d_mask, fabs(full[i] - nomask[i]));
    for (int i = L * 16; i < 2 * L * 16; i++) d_full_row = fmax(d_full_row, fabs(full[i] - nomask[i]));
    CHECK_MSG(d_prefix < 1e-5, "masked prefix differs by %g", d_prefix);
    CHECK_MSG(d_mask > 1e-3, "the mask changed nothing (%g)", d_mask);
    CHECK_MSG(d_full_row == 0.0, "an all-valid row depends on the mask (%g)", d_full_row);
    /* cached graphs: the first shape again gives the same numbers */
    float again[B * L * 16];
    CHECK_OK(pf_t5_encode(m, ids, mask, B, L, again));
    CHECK(!memcmp(again, full, sizeof full));
    pf_text_stats st;
    pf_t5_get_stats(m, &st);
    CHECK(st.n_graphs == 2 && st.weight_bytes > 0 && st.flops > 0.0);
    pf_t5_free(m);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* Causal: changing later tokens leaves earlier positions alone. Pooling picks the
 * EOS row: argmax(ids) for eos_token_id 2, else the first eos id. */
static pf_test_result test_clip_causal_and_pooling(void) {
    pf_backend *be = cpu(true);
    CHECK(be);
    pf_clip_config c;
    tiny_clip(&c);
    enum { B = 2, L = 12, D = 16 };
    for (int variant = 0; variant < 2; variant++) {
        c.eos_token_id = variant == 0 ? 2 : 58;
        pf_clip *m;
        CHECK_OK(pf_clip_create_random(&c, be, PF_F32, 3, &m));
        CHECK(pf_clip_dim(m) == D && pf_clip_projection_dim(m) == 8);
        int32_t ids[B * L], ids2[B * L];
        /* BOS 58, words, EOS 59 at 5 (row 0) and 9 (row 1), then padding 59 / 0 */
        for (int b = 0; b < B; b++)
            for (int i = 0; i < L; i++) {
                int eos = b ? 9 : 5;
                ids[b * L + i] = i == 0 ? 58 : i < eos ? 3 + (i * 11 + b) % 50 : i == eos ? 59 : (b ? 0 : 59);
            }
        if (variant == 1) { /* eos id 58 here: the first 58 is position 0 ... put one later */
            ids[0 * L + 0] = 57;
            ids[1 * L + 0] = 57;
            ids[0 * L + 3] = 58;
            ids[1 * L + 7] = 58;
        }
        memcpy(ids2, ids, sizeof ids);
        ids2[0 * L + 11] = 4; /* after every pooled position */
        ids2[1 * L + 10] = 4;
        float h[B * L * D], h2[B * L * D], pooled[B * D], proj[B * 8];
        CHECK_OK(pf_clip_encode(m, ids, B, L, h, pooled, proj));
        CHECK_OK(pf_clip_encode(m, ids2, B, L, h2, NULL, NULL));
        for (int b = 0; b < B; b++)
            for (int i = 0; i < L; i++) {
                int changed = b ? 10 : 11;
                double d = 0.0;
                for (int k = 0; k < D; k++) d = fmax(d, fabs(h[(b * L + i) * D + k] - h2[(b * L + i) * D + k]));
                if (i < changed)
                    CHECK_MSG(d == 0.0, "row %d position %d sees a later token", b, i);
                else
                    CHECK_MSG(d > 0.0, "row %d position %d did not change", b, i);
            }
        int32_t pos[B];
        pf_clip_eos_positions(ids, B, L, c.eos_token_id, pos);
        CHECK(pos[0] == (variant ? 3 : 5) && pos[1] == (variant ? 7 : 9));
        for (int b = 0; b < B; b++) CHECK(!memcmp(pooled + b * D, h + (b * L + pos[b]) * D, sizeof(float) * D));
        pf_clip_free(m);
    }
    pf_backend_free(be);
    return PF_T_PASS;
}

/* bf16 weights are the f32 model rounded: outputs agree to bf16 accuracy. */
static pf_test_result test_bf16_weights(void) {
    pf_backend *be = cpu(true);
    CHECK(be);
    pf_t5_config c;
    tiny_t5(&c);
    pf_t5 *a, *b;
    CHECK_OK(pf_t5_create_random(&c, be, PF_F32, 11, &a));
    CHECK_OK(pf_t5_create_random(&c, be, PF_BF16, 11, &b));
    enum { L = 8 };
    int32_t ids[2 * L];
    for (int i = 0; i < 2 * L; i++) ids[i] = (i * 13) % 50;
    float ha[2 * L * 16], hb[2 * L * 16];
    CHECK_OK(pf_t5_encode(a, ids, NULL, 2, L, ha));
    CHECK_OK(pf_t5_encode(b, ids, NULL, 2, L, hb));
    double num = 0.0, den = 0.0;
    for (int i = 0; i < 2 * L * 16; i++) {
        num += (ha[i] - hb[i]) * (double)(ha[i] - hb[i]);
        den += ha[i] * (double)ha[i];
    }
    CHECK_MSG(num / den < 2e-3 && num > 0.0, "nmse %g", num / den);
    pf_text_stats sa, sb;
    pf_t5_get_stats(a, &sa);
    pf_t5_get_stats(b, &sb);
    CHECK(sb.weight_bytes < sa.weight_bytes);
    pf_t5_free(a);
    pf_t5_free(b);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* The released sizes on the meta backend (no memory): parameter counts and bytes. */
static pf_test_result test_released_sizes(void) {
    pf_backend *meta;
    CHECK_OK(pf_backend_meta_create(&meta));
    pf_t5_config c;
    pf_t5_config_xxl(&c);
    CHECK_MSG(c.n_params > 4700000000LL && c.n_params < 4800000000LL, "T5-XXL %lld", (long long)c.n_params);
    pf_t5 *m;
    CHECK_OK(pf_t5_create_random(&c, meta, PF_BF16, 1, &m));
    pf_text_stats st;
    pf_t5_get_stats(m, &st);
    /* 2 bytes per matrix weight, the small f32 tables twice that */
    CHECK_MSG(st.weight_bytes >= (size_t)c.n_params * 2 && st.weight_bytes < (size_t)c.n_params * 2 + (64u << 20),
              "weights %zu B for %lld", st.weight_bytes, (long long)c.n_params);
    pf_t5_free(m);
    pf_clip_config l, g;
    pf_clip_config_l(&l, false);
    pf_clip_config_bigg(&g);
    /* CLIP-L text tower 123 M (the 246 MB fp16 file); bigG text tower 695 M (1.39 GB) */
    CHECK_MSG(l.n_params > 122000000 && l.n_params < 124000000, "CLIP-L %lld", (long long)l.n_params);
    CHECK_MSG(g.n_params > 690000000 && g.n_params < 700000000, "bigG %lld", (long long)g.n_params);
    pf_backend_free(meta);
    return PF_T_PASS;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static bool same_file(const char *a, const char *b) {
    char *da = NULL, *db = NULL;
    size_t na = 0, nb = 0;
    bool same =
        pf_read_file(a, &da, &na) == PF_OK && pf_read_file(b, &db, &nb) == PF_OK && na == nb && !memcmp(da, db, na);
    free(da);
    free(db);
    return same;
}

/* The tiny writers: the same seed writes the same bytes; what they write loads back
 * with the config asked for; the variant specs fit the DiT's widths. */
static pf_test_result test_tiny_writers(void) {
    char root[256];
    snprintf(root, sizeof root, "%s/pf_tiny_text_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) SKIP("no temp dir");
    pf_tiny_text_spec fl, sd;
    CHECK_OK(pf_tiny_text_spec_default(PF_DIT_FLUX, 64, 32, &fl));
    CHECK_OK(pf_tiny_text_spec_default(PF_DIT_MMDIT, 64, 48, &sd));
    CHECK(fl.t5.d_model == 64 && fl.clip.hidden == 32 && fl.clip.projection_dim == 0);
    CHECK(sd.t5.d_model == 64 && sd.clip.projection_dim + sd.clip2.projection_dim == 48);
    CHECK(fl.t5.vocab_size >= 32100 && fl.clip.vocab_size == 49408);
    CHECK_ERR(pf_tiny_text_spec_default(PF_DIT_MMDIT, 64, 1, &sd), PF_ERR_INVALID_ARG, "pooled_dim");
    char d[4][300];
    for (int i = 0; i < 4; i++) snprintf(d[i], sizeof d[i], "%s/%c", root, 'a' + i);
    pf_t5_config tc;
    tiny_t5(&tc);
    pf_clip_config cc;
    tiny_clip(&cc);
    CHECK_OK(pf_tiny_t5_write(d[0], &tc, 99));
    CHECK_OK(pf_tiny_t5_write(d[1], &tc, 99));
    CHECK_OK(pf_tiny_clip_write(d[2], &cc, 99));
    char pa[400], pb[400];
    snprintf(pa, sizeof pa, "%s/model.safetensors", d[0]);
    snprintf(pb, sizeof pb, "%s/model.safetensors", d[1]);
    CHECK(same_file(pa, pb));
    CHECK_OK(pf_tiny_t5_write(d[1], &tc, 100));
    CHECK(!same_file(pa, pb));
    pf_t5_config back;
    char cfg[400];
    snprintf(cfg, sizeof cfg, "%s/config.json", d[0]);
    CHECK_OK(pf_t5_config_load(cfg, &back));
    tc.n_params = back.n_params;
    CHECK(!memcmp(&back, &tc, sizeof tc));
    pf_backend *be = cpu(true);
    pf_clip *m;
    CHECK_OK(pf_clip_load(d[2], be, PF_F32, &m));
    pf_clip_config cb = *pf_clip_get_config(m);
    cc.n_params = cb.n_params;
    CHECK(!memcmp(&cb, &cc, sizeof cc));
    pf_clip_free(m);
    cc.projection_dim = 0; /* CLIPTextModel: no text_projection written or loaded */
    CHECK_OK(pf_tiny_clip_write(d[3], &cc, 1));
    CHECK_OK(pf_clip_load(d[3], be, PF_F32, &m));
    CHECK(pf_clip_projection_dim(m) == 0);
    pf_clip_free(m);
    pf_backend_free(be);
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_relative_buckets), PF_TEST(test_tiny_writers), PF_TEST(test_t5_mask_means_prefix),
             PF_TEST(test_clip_causal_and_pooling), PF_TEST(test_bf16_weights), PF_TEST(test_released_sizes))
