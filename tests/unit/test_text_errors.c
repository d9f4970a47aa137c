/*
 * Text encoders on bad input: missing and mis-shaped tensors reported by name (all
 * of them at once), bad config.json files, ids outside the vocabulary, bad masks and
 * shapes, and the two spellings the loaders must accept (encoder.embed_tokens.weight
 * for shared.weight; CLIP keys without "text_model.").
 */
#include "pf_safetensors.h"
#include "pf_test.h"
#include "pf_text.h"
#include "pf_tiny_text.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_tmp[256];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static bool tmp_setup(void) {
    snprintf(g_tmp, sizeof g_tmp, "%s/pf_text_errors_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(g_tmp) != NULL;
}
static void tmp_cleanup(void) { nftw(g_tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static char *tmp_path(const char *sub) {
    static char buf[32][512]; /* callers keep a few paths at once */
    static int k;
    char *p = buf[k++ % 32];
    snprintf(p, 512, "%s/%s", g_tmp, sub);
    return p;
}

static pf_backend *cpu(void) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 1, .reference = true};
    if (pf_backend_create("cpu", &o, &be) != PF_OK) return NULL;
    return be;
}

static void small_t5(pf_t5_config *c) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 40;
    c->d_model = 8;
    c->d_kv = 4;
    c->num_heads = 2;
    c->d_ff = 12;
    c->num_layers = 2;
    c->rel_buckets = 32;
    c->rel_max_distance = 128;
    c->eps = 1e-6f;
    c->act = PF_UNARY_GELU_TANH;
}

static void small_clip(pf_clip_config *c, int proj) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 30;
    c->hidden = 8;
    c->heads = 2;
    c->intermediate = 16;
    c->layers = 2;
    c->max_positions = 10;
    c->projection_dim = proj;
    c->eps = 1e-5f;
    c->act = PF_UNARY_QUICK_GELU;
    c->eos_token_id = 2;
}

/* Copy src_dir's model.safetensors into dst_dir (with src_dir's config.json), dropping
 * tensor `drop`, renaming `from` -> `to` (prefix match when from ends in '.'), and
 * giving tensor `reshape` one more column. Any of them may be NULL. */
static pf_status rewrite(const char *src_dir, const char *dst_dir, const char *drop, const char *from, const char *to,
                         const char *reshape) {
    char path[600], cfg[600], *text = NULL;
    size_t len;
    if (mkdir(dst_dir, 0755) != 0) return pf_error(PF_ERR_IO, "mkdir %s", dst_dir);
    snprintf(cfg, sizeof cfg, "%s/config.json", src_dir);
    PF_TRY(pf_read_file(cfg, &text, &len));
    snprintf(cfg, sizeof cfg, "%s/config.json", dst_dir);
    FILE *f = fopen(cfg, "wb");
    if (!f) return pf_error(PF_ERR_IO, "%s", cfg);
    fwrite(text, 1, len, f);
    fclose(f);
    free(text);
    snprintf(path, sizeof path, "%s/model.safetensors", src_dir);
    pf_st_file *st;
    PF_TRY(pf_st_open(path, &st));
    int n = pf_st_count(st), k = 0;
    pf_st_write_tensor *t = calloc((size_t)n, sizeof *t);
    int64_t(*shapes)[PF_MAX_DIMS] = calloc((size_t)n, sizeof *shapes);
    char(*names)[200] = calloc((size_t)n, sizeof *names);
    float **bufs = calloc((size_t)n, sizeof *bufs);
    for (int i = 0; i < n; i++) {
        const pf_st_tensor *s = pf_st_at(st, i);
        if (drop && !strcmp(s->name, drop)) continue;
        size_t fl = from ? strlen(from) : 0;
        if (from && from[fl - 1] == '.' && !strncmp(s->name, from, fl))
            snprintf(names[k], sizeof names[k], "%s%s", to, s->name + fl);
        else if (from && !strcmp(s->name, from))
            snprintf(names[k], sizeof names[k], "%s", to);
        else
            snprintf(names[k], sizeof names[k], "%s", s->name);
        for (int d = 0; d < s->ndim; d++) shapes[k][d] = s->shape[d];
        t[k] = (pf_st_write_tensor){
            .name = names[k], .dtype = s->dtype, .ndim = s->ndim, .shape = shapes[k], .data = s->data};
        if (reshape && !strcmp(s->name, reshape)) {
            size_t cols = (size_t)s->shape[s->ndim - 1], rows = s->nbytes / 4 / cols;
            bufs[k] = calloc(rows * (cols + 1), sizeof(float));
            shapes[k][s->ndim - 1] += 1;
            t[k].data = bufs[k];
        }
        k++;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dst_dir);
    pf_status rc = pf_st_write(path, t, k, NULL, NULL, 0);
    for (int i = 0; i < n; i++) free(bufs[i]);
    free(bufs);
    free(t);
    free(shapes);
    free(names);
    pf_st_close(st);
    return rc;
}

static pf_status write_text(const char *dir, const char *file, const char *text) {
    char path[600];
    if (!pf_dir_exists(dir) && mkdir(dir, 0755) != 0) return pf_error(PF_ERR_IO, "mkdir %s", dir);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    if (!f) return pf_error(PF_ERR_IO, "%s", path);
    fputs(text, f);
    fclose(f);
    return PF_OK;
}

/* A call must fail (any status) with a message containing `needle`. */
#define CHECK_FAILS(expr, needle)                                                                                      \
    do {                                                                                                               \
        pf_clear_error();                                                                                              \
        pf_status s_ = (expr);                                                                                         \
        CHECK_MSG(s_ != PF_OK, "%s succeeded", #expr);                                                                 \
        CHECK_MSG(strstr(pf_last_error(), (needle)) != NULL, "message '%s' lacks '%s'", pf_last_error(),               \
                  (const char *)(needle));                                                                             \
    } while (0)

static pf_test_result test_t5_tensors(void) {
    if (!tmp_setup()) SKIP("no temp dir");
    pf_backend *be = cpu();
    CHECK(be);
    pf_t5_config c;
    small_t5(&c);
    const char *good = tmp_path("t5");
    CHECK_OK(pf_tiny_t5_write(good, &c, 5));
    pf_t5 *m = NULL;
    CHECK_OK(pf_t5_load(good, be, PF_F32, &m));
    CHECK(pf_t5_dim(m) == 8 && pf_t5_get_config(m)->num_layers == 2);
    pf_t5_free(m);

    /* one missing and one mis-shaped tensor: both named in one error */
    const char *bad = tmp_path("t5_bad");
    CHECK_OK(rewrite(good, bad, "encoder.block.1.layer.1.DenseReluDense.wo.weight", NULL, NULL,
                     "encoder.block.0.layer.0.SelfAttention.q.weight"));
    m = (pf_t5 *)1;
    CHECK_FAILS(pf_t5_load(bad, be, PF_F32, &m), "encoder.block.1.layer.1.DenseReluDense.wo.weight");
    CHECK(m == NULL);
    CHECK_MSG(strstr(pf_last_error(), "encoder.block.0.layer.0.SelfAttention.q.weight"), "%s", pf_last_error());

    /* no embedding under either name */
    const char *noemb = tmp_path("t5_noemb");
    CHECK_OK(rewrite(good, noemb, "shared.weight", NULL, NULL, NULL));
    CHECK_FAILS(pf_t5_load(noemb, be, PF_F32, &m), "shared.weight");

    /* encoder.embed_tokens.weight alone is the same model */
    const char *alt = tmp_path("t5_alt");
    CHECK_OK(rewrite(good, alt, NULL, "shared.weight", "encoder.embed_tokens.weight", NULL));
    pf_t5 *a = NULL, *b = NULL;
    CHECK_OK(pf_t5_load(good, be, PF_F32, &a));
    CHECK_OK(pf_t5_load(alt, be, PF_BF16, &b)); /* and bf16 weights load too */
    int32_t ids[6] = {1, 5, 9, 39, 0, 2};
    float ha[6 * 8], hb[6 * 8];
    CHECK_OK(pf_t5_encode(a, ids, NULL, 2, 3, ha));
    CHECK_OK(pf_t5_encode(b, ids, NULL, 2, 3, hb));
    for (int i = 0; i < 6 * 8; i++) CHECK_NEAR(ha[i], hb[i], 0.1);

    /* missing folder, bad dtype */
    CHECK_FAILS(pf_t5_load(tmp_path("nowhere"), be, PF_F32, &m), "nowhere");
    CHECK_ERR(pf_t5_load(good, be, PF_I32, &m), PF_ERR_INVALID_ARG, "dtype");
    pf_t5_free(a);
    pf_t5_free(b);
    pf_backend_free(be);
    tmp_cleanup();
    return PF_T_PASS;
}

static pf_test_result test_t5_configs(void) {
    if (!tmp_setup()) SKIP("no temp dir");
    static const struct {
        const char *json, *needle;
        pf_status st; /* PF_OK: any error status */
    } cases[] = {
        {"{\"d_kv\": 4, \"num_heads\": 2, \"d_ff\": 12, \"num_layers\": 2, \"vocab_size\": 40, "
         "\"feed_forward_proj\": \"gated-gelu\"}",
         "d_model", PF_OK},
        {"{\"d_model\": 8, \"d_kv\": 4, \"num_heads\": -2, \"d_ff\": 12, \"num_layers\": 2, \"vocab_size\": 40, "
         "\"feed_forward_proj\": \"gated-gelu\"}",
         "num_heads", PF_OK},
        {"{\"d_model\": \"8\", \"d_kv\": 4, \"num_heads\": 2, \"d_ff\": 12, \"num_layers\": 2, \"vocab_size\": 40, "
         "\"feed_forward_proj\": \"gated-gelu\"}",
         "d_model", PF_OK},
        {"{\"d_model\": 8, \"d_kv\": 4, \"num_heads\": 2, \"d_ff\": 12, \"num_layers\": 2, \"vocab_size\": 40, "
         "\"feed_forward_proj\": \"relu\"}",
         "feed_forward_proj", PF_ERR_UNSUPPORTED},
        {"{\"d_model\": 8, \"d_kv\": 4, \"num_heads\": 2, \"d_ff\": 12, \"num_layers\": 2, \"vocab_size\": 40}",
         "feed_forward_proj", PF_ERR_UNSUPPORTED}, /* transformers' default is relu */
        {"{\"d_model\": 8, \"d_kv\": 4, \"num_heads\": 2, \"d_ff\": 12, \"num_layers\": 2, \"vocab_size\": 40, "
         "\"feed_forward_proj\": \"gated-tanh\"}",
         "tanh", PF_ERR_UNSUPPORTED},
        {"{\"d_model\": 8, \"d_kv\": 4, \"num_heads\": 2, \"d_ff\": 12, \"num_layers\": 2, \"vocab_size\": 40, "
         "\"feed_forward_proj\": \"gated-gelu\", \"relative_attention_num_buckets\": 2}",
         "relative_attention_num_buckets", PF_ERR_FORMAT},
        {"{\"d_model\": 8, \"d_kv\": 4, \"num_heads\": 2, \"d_ff\": 12, \"num_layers\": 2, \"vocab_size\": 40, "
         "\"feed_forward_proj\": \"gated-gelu\", \"layer_norm_epsilon\": -1}",
         "layer_norm_epsilon", PF_ERR_FORMAT},
        {"{\"d_model\": 8, ", "config.json", PF_OK},
    };
    for (size_t i = 0; i < PF_ARRAY_LEN(cases); i++) {
        char sub[32];
        snprintf(sub, sizeof sub, "cfg%zu", i);
        const char *dir = tmp_path(sub);
        CHECK_OK(write_text(dir, "config.json", cases[i].json));
        pf_t5_config c;
        char *p = pf_path_join(dir, "config.json");
        pf_clear_error();
        pf_status rc = pf_t5_config_load(p, &c);
        free(p);
        CHECK_MSG(rc != PF_OK, "config %zu accepted", i);
        CHECK_MSG(cases[i].st == PF_OK || rc == cases[i].st, "config %zu: %s", i, pf_status_str(rc));
        CHECK_MSG(strstr(pf_last_error(), cases[i].needle), "config %zu: '%s' lacks '%s'", i, pf_last_error(),
                  cases[i].needle);
        pf_backend *be = cpu();
        pf_t5 *m = NULL;
        CHECK_FAILS(pf_t5_load(dir, be, PF_F32, &m), cases[i].needle); /* the loader says the same */
        pf_backend_free(be);
    }
    tmp_cleanup();
    return PF_T_PASS;
}

static pf_test_result test_clip_tensors_and_configs(void) {
    if (!tmp_setup()) SKIP("no temp dir");
    pf_backend *be = cpu();
    CHECK(be);
    pf_clip_config c;
    small_clip(&c, 6);
    const char *good = tmp_path("clip");
    CHECK_OK(pf_tiny_clip_write(good, &c, 9));
    /* keys without "text_model." (CLIPTextModel saved by transformers 5) are the same model */
    const char *nopre = tmp_path("clip_nopre");
    CHECK_OK(rewrite(good, nopre, NULL, "text_model.", "", NULL));
    pf_clip *a = NULL, *b = NULL;
    CHECK_OK(pf_clip_load(good, be, PF_F32, &a));
    CHECK_OK(pf_clip_load(nopre, be, PF_F32, &b));
    CHECK(pf_clip_projection_dim(a) == 6 && pf_clip_projection_dim(b) == 6);
    int32_t ids[2 * 5] = {28, 3, 4, 29, 29, 28, 7, 8, 9, 29};
    float ha[2 * 5 * 8], hb[2 * 5 * 8], pa[2 * 8], pb[2 * 8], ta[2 * 6], tb[2 * 6];
    CHECK_OK(pf_clip_encode(a, ids, 2, 5, ha, pa, ta));
    CHECK_OK(pf_clip_encode(b, ids, 2, 5, hb, pb, tb));
    CHECK(!memcmp(ha, hb, sizeof ha) && !memcmp(pa, pb, sizeof pa) && !memcmp(ta, tb, sizeof ta));

    /* missing / mis-shaped, with and without the prefix */
    const char *bad = tmp_path("clip_bad");
    CHECK_OK(rewrite(good, bad, "text_model.encoder.layers.1.mlp.fc2.bias", NULL, NULL,
                     "text_model.embeddings.position_embedding.weight"));
    pf_clip *m = NULL;
    CHECK_FAILS(pf_clip_load(bad, be, PF_F32, &m), "text_model.encoder.layers.1.mlp.fc2.bias");
    CHECK_MSG(strstr(pf_last_error(), "text_model.embeddings.position_embedding.weight"), "%s", pf_last_error());
    const char *bad2 = tmp_path("clip_bad2");
    CHECK_OK(rewrite(nopre, bad2, "encoder.layers.0.self_attn.k_proj.weight", NULL, NULL, NULL));
    CHECK_FAILS(pf_clip_load(bad2, be, PF_F32, &m), "encoder.layers.0.self_attn.k_proj.weight");
    /* CLIPTextModelWithProjection without its projection */
    const char *noproj = tmp_path("clip_noproj");
    CHECK_OK(rewrite(good, noproj, "text_projection.weight", NULL, NULL, NULL));
    CHECK_FAILS(pf_clip_load(noproj, be, PF_F32, &m), "text_projection.weight");

    /* configs */
    const char *cfg = tmp_path("clip_cfg");
    CHECK_OK(write_text(cfg, "config.json",
                        "{\"hidden_size\": 30, \"num_attention_heads\": 4, \"intermediate_size\": 8, "
                        "\"num_hidden_layers\": 1, \"vocab_size\": 30}"));
    CHECK_FAILS(pf_clip_load(cfg, be, PF_F32, &m), "num_attention_heads");
    CHECK_OK(write_text(cfg, "config.json",
                        "{\"hidden_size\": 8, \"num_attention_heads\": 2, \"intermediate_size\": 8, "
                        "\"num_hidden_layers\": 1, \"vocab_size\": 30, \"hidden_act\": \"relu\"}"));
    CHECK_ERR(pf_clip_load(cfg, be, PF_F32, &m), PF_ERR_UNSUPPORTED, "relu");
    CHECK_OK(write_text(cfg, "config.json", "[1, 2]"));
    CHECK_FAILS(pf_clip_load(cfg, be, PF_F32, &m), "config.json");
    CHECK_OK(
        write_text(cfg, "config.json",
                   "{\"hidden_size\": 8, \"num_attention_heads\": 2, \"num_hidden_layers\": 1, \"vocab_size\": 30}"));
    CHECK_FAILS(pf_clip_load(cfg, be, PF_F32, &m), "intermediate_size");
    pf_clip_free(a);
    pf_clip_free(b);
    pf_backend_free(be);
    tmp_cleanup();
    return PF_T_PASS;
}

static pf_test_result test_bad_ids_and_shapes(void) {
    pf_backend *be = cpu();
    CHECK(be);
    pf_t5_config tc;
    small_t5(&tc);
    pf_clip_config cc;
    small_clip(&cc, 0);
    pf_t5 *t5;
    pf_clip *clip;
    CHECK_OK(pf_t5_create_random(&tc, be, PF_F32, 1, &t5));
    CHECK_OK(pf_clip_create_random(&cc, be, PF_F32, 1, &clip));
    int32_t ids[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mask[8] = {1, 1, 1, 1, 1, 1, 0, 0};
    float out[8 * 8], pooled[2 * 8], proj[2 * 8];

    ids[5] = 40; /* == vocab_size */
    CHECK_ERR(pf_t5_encode(t5, ids, mask, 2, 4, out), PF_ERR_INVALID_ARG, "input id 40 at [1, 1]");
    ids[5] = -3;
    CHECK_ERR(pf_t5_encode(t5, ids, mask, 2, 4, out), PF_ERR_INVALID_ARG, "outside the vocabulary");
    ids[5] = 6;
    mask[2] = 2;
    CHECK_ERR(pf_t5_encode(t5, ids, mask, 2, 4, out), PF_ERR_INVALID_ARG, "attention_mask");
    mask[2] = 1;
    CHECK_ERR(pf_t5_encode(t5, ids, mask, 0, 4, out), PF_ERR_INVALID_ARG, "shape");
    CHECK_ERR(pf_t5_encode(t5, NULL, mask, 2, 4, out), PF_ERR_INVALID_ARG, "NULL");
    CHECK_OK(pf_t5_encode(t5, ids, mask, 2, 4, out));

    ids[7] = 30;
    CHECK_ERR(pf_clip_encode(clip, ids, 2, 4, out, pooled, NULL), PF_ERR_INVALID_ARG, "input id 30 at [1, 3]");
    ids[7] = 8;
    int32_t many[11] = {0};
    CHECK_ERR(pf_clip_encode(clip, many, 1, 11, NULL, pooled, NULL), PF_ERR_INVALID_ARG, "max_position_embeddings");
    CHECK_ERR(pf_clip_encode(clip, ids, 2, 4, NULL, NULL, proj), PF_ERR_INVALID_ARG, "text_projection");
    CHECK_OK(pf_clip_encode(clip, ids, 2, 4, NULL, pooled, NULL));

    /* random constructors refuse nonsense */
    pf_t5 *m = NULL;
    tc.num_heads = 0;
    CHECK_ERR(pf_t5_create_random(&tc, be, PF_F32, 1, &m), PF_ERR_INVALID_ARG, "positive");
    cc.heads = 3;
    pf_clip *n = NULL;
    CHECK_FAILS(pf_clip_create_random(&cc, be, PF_F32, 1, &n), "num_attention_heads");
    pf_t5_free(t5);
    pf_clip_free(clip);
    pf_backend_free(be);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_t5_tensors), PF_TEST(test_t5_configs), PF_TEST(test_clip_tensors_and_configs),
             PF_TEST(test_bad_ids_and_shapes))
