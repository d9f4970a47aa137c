/* Weight store and loader: folders, shards, torch zips, dtype conversion, accumulated errors. */
#include "pf_test.h"
#include "pf_test_files.h"
#include "pf_weights.h"

static bool ends_with(const char *s, const char *x) {
    size_t a = strlen(s), b = strlen(x);
    return a >= b && !strcmp(s + a - b, x);
}

static pf_backend *cpu(void) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 1, .reference = true};
    if (pf_backend_create("cpu", &o, &be) != PF_OK) return NULL;
    return be;
}

/* The VAE folder has both formats: the folder opens the safetensors, the .bin opens through the
 * torch reader, and both give the same tensors. */
static pf_test_result test_golden_vae_both_formats(void) {
    const char *g = pf_test_golden_dir();
    char dir[4096], bin[4200];
    if (!g || !pf_dir_exists(pf_test_fmt(dir, sizeof dir, "%s/miniflux/causal_video_vae", g))) SKIP("no golden VAE");
    pf_test_fmt(bin, sizeof bin, "%s/diffusion_pytorch_model.bin", dir);
    pf_weights *a, *b;
    CHECK_OK(pf_weights_open_dir(dir, &a));
    CHECK(ends_with(pf_weights_source(a), "diffusion_pytorch_model.safetensors"));
    CHECK_OK(pf_weights_open_file(bin, &b));
    CHECK(!strcmp(pf_weights_source(b), bin));
    CHECK(pf_weights_count(a) == pf_weights_count(b) && pf_weights_count(a) > 0);
    int64_t total = 0;
    for (int i = 0; i < pf_weights_count(a); i++) {
        const pf_weight_info *ia = pf_weights_at(a, i), *ib = pf_weights_find(b, ia->name);
        CHECK_MSG(ib, "'%s' missing from the .bin", ia->name);
        CHECK(pf_weights_find(a, ia->name) == ia);
        CHECK(ia->ndim == ib->ndim && ia->dtype == ib->dtype && ends_with(ib->file, ".bin"));
        size_t n = 1;
        for (int d = 0; d < ia->ndim; d++) n *= (size_t)ia->shape[d];
        total += (int64_t)n;
        float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        CHECK(x && y);
        CHECK_OK(pf_weights_read(a, ia->name, PF_F32, x, n));
        CHECK_OK(pf_weights_read(b, ia->name, PF_F32, y, n));
        bool same = !memcmp(x, y, n * sizeof *x);
        free(x);
        free(y);
        CHECK_MSG(same, "'%s' differs between the formats", ia->name);
    }
    /* check-only loading counts every element */
    pf_loader L;
    pf_loader_init(&L, a, NULL, PF_F32, "VAE");
    for (int i = 0; i < pf_weights_count(a); i++) {
        const pf_weight_info *in = pf_weights_at(a, i);
        CHECK(pf_load_as(&L, PF_F32, in->name, in->ndim, in->shape) == NULL); /* no pool: nothing allocated */
    }
    CHECK(L.n_params == total);
    CHECK_OK(pf_loader_finish(&L));
    pf_weights_close(a);
    pf_weights_close(b);
    return PF_T_PASS;
}

/* Several problems: every one is in the single final error, with the tensor, shapes and file. */
static pf_test_result test_loader_reports_every_problem(void) {
    char *dir = pf_test_tmpdir("weights-errors");
    CHECK(dir);
    char path[4096];
    pf_test_fmt(path, sizeof path, "%s/model.safetensors", dir);
    float a[6] = {0}, b[4] = {0};
    int64_t ids[3] = {1, 2, 3}, s23[2] = {2, 3}, s4[1] = {4}, s3[1] = {3};
    pf_st_write_tensor t[] = {{"a", PF_F32, 2, s23, a}, {"b", PF_F32, 1, s4, b}, {"ids", PF_I64, 1, s3, ids}};
    CHECK_OK(pf_st_write(path, t, 3, NULL, NULL, 0));
    pf_weights *w;
    CHECK_OK(pf_weights_open_dir(dir, &w));
    pf_loader L;
    pf_loader_init(&L, w, NULL, PF_F32, "DiT");
    CHECK(pf_load(&L, "a", 2, (int64_t)2, (int64_t)3) == NULL && L.n_errors == 0); /* fine, check only */
    CHECK(pf_load(&L, "b", 1, (int64_t)5) == NULL);
    CHECK(pf_load(&L, "c", 2, (int64_t)7, (int64_t)8) == NULL);
    CHECK(pf_load(&L, "ids", 1, (int64_t)3) == NULL);
    int64_t s32[2] = {3, 2};
    CHECK(pf_load_as(&L, PF_F32, "a", 2, s32) == NULL);
    pf_loader_fail(&L, "config: %d heads do not divide width %d", 3, 128);
    CHECK(L.n_errors == 5 && L.n_params == 6);
    CHECK_ERR(pf_loader_finish(&L), PF_ERR_SHAPE, "DiT: 5 problems");
    const char *m = pf_last_error();
    const char *needles[] = {path, "'b': shape [4]", "expected [5]", "missing tensor 'c' (expected [7, 8])", "'ids'",
                             "i64", "'a': shape [2, 3]", "expected [3, 2]", "3 heads do not divide width 128"};
    for (size_t i = 0; i < PF_ARRAY_LEN(needles); i++) CHECK_MSG(strstr(m, needles[i]), "'%s' lacks '%s'", m, needles[i]);
    CHECK(L.errors == NULL && L.n_errors == 0);
    /* a fresh loader with only a missing tensor reports NOT_FOUND */
    pf_loader_init(&L, w, NULL, PF_F32, "T5");
    CHECK(pf_load(&L, "nope", 1, (int64_t)1) == NULL);
    CHECK_ERR(pf_loader_finish(&L), PF_ERR_NOT_FOUND, "T5: 1 problem with the weights in");
    /* many problems: the message stays bounded and says how many it left out */
    pf_loader_init(&L, w, NULL, PF_F32, "VAE");
    for (int i = 0; i < 200; i++) pf_loadf(&L, 1, s3, "decoder.blocks.%d.weight", i);
    CHECK(L.n_errors == 200);
    CHECK_ERR(pf_loader_finish(&L), PF_ERR_NOT_FOUND, "VAE: 200 problems");
    CHECK(strstr(pf_last_error(), "decoder.blocks.0.weight") && strstr(pf_last_error(), "more"));
    CHECK(strlen(pf_last_error()) < 2000);
    pf_weights_close(w);
    pf_test_rmtree(dir);
    return PF_T_PASS;
}

/* Values through a CPU pool, with the conversions computed by hand:
 * bf16 keeps the top 16 bits rounded to nearest even; f16 of 1.0 is 0x3c00, of -2.5 0xc100. */
static pf_test_result test_loader_converts(void) {
    char *dir = pf_test_tmpdir("weights-convert");
    CHECK(dir);
    char path[4096];
    pf_test_fmt(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", dir);
    float f32[4] = {1.0f, -2.5f, 1.00390625f /* 1 + 2^-8: tie -> 1.0 */, 1.01171875f /* 1 + 3 * 2^-8 -> 1 + 2^-6 */};
    uint16_t bf16[2] = {0x3f80, 0xc020}, f16[2] = {0x3c00, 0xc100}; /* 1.0, -2.5 */
    double f64[2] = {0.1, -3.0};
    int64_t ids[3] = {-1, 7, 2147483647}, big[1] = {4294967296LL};
    int64_t s4[1] = {4}, s2[1] = {2}, s3[1] = {3}, s1[1] = {1};
    pf_st_write_tensor t[] = {{"f32", PF_F32, 1, s4, f32}, {"bf16", PF_BF16, 1, s2, bf16}, {"f16", PF_F16, 1, s2, f16},
                              {"f64", PF_F64, 1, s2, f64}, {"ids", PF_I64, 1, s3, ids},   {"big", PF_I64, 1, s1, big}};
    CHECK_OK(pf_st_write(path, t, (int)PF_ARRAY_LEN(t), NULL, NULL, 0));
    pf_weights *w;
    CHECK_OK(pf_weights_open_file(path, &w));
    CHECK(pf_weights_find(w, "f16")->dtype == PF_F16 && !strcmp(pf_weights_find(w, "f16")->file, path));

    pf_backend *be = cpu();
    CHECK(be);
    pf_pool *pool;
    CHECK_OK(pf_pool_create(be, 1 << 16, &pool));
    pf_loader L;
    pf_loader_init(&L, w, pool, PF_F32, "test");
    pf_tensor *x32 = pf_load(&L, "f32", 1, (int64_t)4), *xb = pf_load(&L, "bf16", 1, (int64_t)2),
              *xh = pf_load(&L, "f16", 1, (int64_t)2), *xd = pf_load(&L, "f64", 1, (int64_t)2);
    int64_t s3v[1] = {3};
    pf_tensor *xi = pf_load_as(&L, PF_I32, "ids", 1, s3v);
    CHECK_OK(pf_loader_finish(&L));
    CHECK(x32 && xb && xh && xd && xi && L.n_params == 13);
    CHECK(x32->dtype == PF_F32 && xi->dtype == PF_I32);
    float v[4];
    CHECK_OK(pf_tensor_get(x32, v, sizeof(float) * 4));
    CHECK(!memcmp(v, f32, sizeof v));
    CHECK_OK(pf_tensor_get(xb, v, sizeof(float) * 2));
    CHECK(v[0] == 1.0f && v[1] == -2.5f);
    CHECK_OK(pf_tensor_get(xh, v, sizeof(float) * 2));
    CHECK(v[0] == 1.0f && v[1] == -2.5f);
    CHECK_OK(pf_tensor_get(xd, v, sizeof(float) * 2));
    CHECK(v[0] == (float)0.1 && v[1] == -3.0f);
    int32_t iv[3];
    CHECK_OK(pf_tensor_get(xi, iv, sizeof iv));
    CHECK(iv[0] == -1 && iv[1] == 7 && iv[2] == 2147483647);

    pf_loader_init(&L, w, pool, PF_BF16, "test");
    pf_tensor *yb = pf_load(&L, "f32", 1, (int64_t)4), *yh = pf_load(&L, "f16", 1, (int64_t)2);
    CHECK_OK(pf_loader_finish(&L));
    uint16_t u[4];
    CHECK(yb->dtype == PF_BF16);
    CHECK_OK(pf_tensor_get(yb, u, sizeof u));
    CHECK(u[0] == 0x3f80 && u[1] == 0xc020 && u[2] == 0x3f80 && u[3] == 0x3f82);
    CHECK_OK(pf_tensor_get(yh, u, 2 * sizeof *u));
    CHECK(u[0] == 0x3f80 && u[1] == 0xc020);

    pf_loader_init(&L, w, pool, PF_F16, "test");
    pf_tensor *zh = pf_load(&L, "bf16", 1, (int64_t)2);
    CHECK_OK(pf_loader_finish(&L));
    CHECK_OK(pf_tensor_get(zh, u, 2 * sizeof *u));
    CHECK(u[0] == 0x3c00 && u[1] == 0xc100);

    /* host reads and their checks */
    pf_loader_init(&L, w, NULL, PF_F32, "test");
    float host[2] = {0};
    int64_t s2v[1] = {2}, s5[1] = {5};
    CHECK(pf_load_host(&L, "f64", 1, s2v, host) && host[1] == -3.0f);
    CHECK(!pf_load_host(&L, "f32", 1, s5, host));
    CHECK(pf_load_host(&L, "bf16", 1, s2v, NULL)); /* shape check only */
    CHECK_ERR(pf_loader_finish(&L), PF_ERR_SHAPE, "'f32': shape [4]");

    /* pf_weights_read: checked integer narrowing, no float <-> int, element count */
    int32_t i32[1];
    CHECK_ERR(pf_weights_read(w, "big", PF_I32, i32, 1), PF_ERR_SHAPE, "does not fit in i32");
    int64_t i64[4];
    CHECK_ERR(pf_weights_read(w, "f32", PF_I64, i64, 4), PF_ERR_SHAPE, "cannot be read as i64");
    CHECK_ERR(pf_weights_read(w, "f32", PF_F32, v, 3), PF_ERR_SHAPE, "has 4 elements, 3 requested");
    CHECK_ERR(pf_weights_read(w, "zzz", PF_F32, v, 1), PF_ERR_NOT_FOUND, "'zzz' not found");
    double d[2];
    CHECK_OK(pf_weights_read(w, "bf16", PF_F64, d, 2));
    CHECK(d[0] == 1.0 && d[1] == -2.5);

    pf_pool_free(pool);
    pf_backend_free(be);
    pf_weights_close(w);
    pf_test_rmtree(dir);
    return PF_T_PASS;
}

static pf_test_result test_sharded_index(void) {
    char *dir = pf_test_tmpdir("weights-shards");
    CHECK(dir);
    char p1[4096], p2[4096], idx[4096];
    float a[2] = {1, 2}, b[3] = {3, 4, 5}, c[1] = {6};
    int64_t s2[1] = {2}, s3[1] = {3}, s1[1] = {1};
    pf_st_write_tensor t1[] = {{"a", PF_F32, 1, s2, a}, {"b", PF_F32, 1, s3, b}};
    pf_st_write_tensor t2[] = {{"c", PF_F32, 1, s1, c}};
    CHECK_OK(pf_st_write(pf_test_fmt(p1, sizeof p1, "%s/model-00001-of-00002.safetensors", dir), t1, 2, NULL, NULL, 0));
    CHECK_OK(pf_st_write(pf_test_fmt(p2, sizeof p2, "%s/model-00002-of-00002.safetensors", dir), t2, 1, NULL, NULL, 0));
    CHECK(pf_test_write_str(pf_test_fmt(idx, sizeof idx, "%s/model.safetensors.index.json", dir),
                            "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {"
                            "\"a\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\","
                            "\"b\": \"model-00001-of-00002.safetensors\"}}"));
    pf_weights *w;
    CHECK_OK(pf_weights_open_dir(dir, &w)); /* the index wins over the shards themselves */
    CHECK(pf_weights_count(w) == 3);
    CHECK(strstr(pf_weights_source(w), "model.safetensors.index.json (2 shards)"));
    CHECK(!strcmp(pf_weights_find(w, "c")->file, p2) && !strcmp(pf_weights_find(w, "b")->file, p1));
    float v[3];
    CHECK_OK(pf_weights_read(w, "b", PF_F32, v, 3));
    CHECK(v[0] == 3 && v[2] == 5);
    CHECK_OK(pf_weights_read(w, "c", PF_F32, v, 1));
    CHECK(v[0] == 6);
    pf_loader L;
    pf_loader_init(&L, w, NULL, PF_F32, "T5");
    pf_load(&L, "c", 1, (int64_t)2);
    CHECK_ERR(pf_loader_finish(&L), PF_ERR_SHAPE, "model-00002-of-00002.safetensors, expected [2]");
    pf_weights_close(w);

    /* a tensor present in two shards is ambiguous */
    pf_st_write_tensor t2b[] = {{"c", PF_F32, 1, s1, c}, {"a", PF_F32, 1, s2, a}};
    CHECK_OK(pf_st_write(p2, t2b, 2, NULL, NULL, 0));
    CHECK_ERR(pf_weights_open_dir(dir, &w), PF_ERR_FORMAT, "tensor 'a' is in both");

    /* a shard that is gone */
    CHECK(remove(p2) == 0);
    CHECK_ERR(pf_weights_open_dir(dir, &w), PF_ERR_NOT_FOUND, "shard 'model-00002-of-00002.safetensors'");
    CHECK(w == NULL);
    pf_test_rmtree(dir);
    return PF_T_PASS;
}

static pf_test_result test_alt_names(void) {
    char *dir = pf_test_tmpdir("weights-alt");
    CHECK(dir);
    char path[4096];
    float e[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int64_t s42[2] = {4, 2};
    pf_st_write_tensor t[] = {{"shared.weight", PF_F32, 2, s42, e}};
    CHECK_OK(pf_st_write(pf_test_fmt(path, sizeof path, "%s/model.safetensors", dir), t, 1, NULL, NULL, 0));
    pf_weights *w;
    CHECK_OK(pf_weights_open_dir(dir, &w));
    pf_backend *be = cpu();
    CHECK(be);
    pf_pool *pool;
    CHECK_OK(pf_pool_create(be, 0, &pool));
    pf_loader L;
    pf_loader_init(&L, w, pool, PF_F32, "T5");
    const char *names[] = {"encoder.embed_tokens.weight", "shared.weight"};
    pf_tensor *x = pf_load_alt(&L, 2, s42, names, 2);
    CHECK(x && !strcmp(x->name, "shared.weight"));
    float v[8];
    CHECK_OK(pf_tensor_get(x, v, sizeof v));
    CHECK(!memcmp(v, e, sizeof v));
    CHECK_OK(pf_loader_finish(&L));
    const char *none[] = {"text_model.embeddings.token_embedding.weight", "embeddings.token_embedding.weight"};
    pf_loader_init(&L, w, pool, PF_F32, "CLIP");
    CHECK(pf_load_alt(&L, 2, s42, none, 2) == NULL);
    CHECK_ERR(pf_loader_finish(&L), PF_ERR_NOT_FOUND, "none of 'text_model.embeddings.token_embedding.weight', "
                                                     "'embeddings.token_embedding.weight' (expected [4, 2])");
    pf_pool_free(pool);
    pf_backend_free(be);
    pf_weights_close(w);
    pf_test_rmtree(dir);
    return PF_T_PASS;
}

/* Which file a folder opens. */
static pf_test_result test_open_dir_choices(void) {
    char *dir = pf_test_tmpdir("weights-dir");
    CHECK(dir);
    char p[4096];
    pf_weights *w = NULL;
    CHECK_ERR(pf_weights_open_dir(dir, &w), PF_ERR_NOT_FOUND, "no weights found");
    CHECK_ERR(pf_weights_open_dir(pf_test_fmt(p, sizeof p, "%s/nope", dir), &w), PF_ERR_NOT_FOUND, "folder not found");
    float v[1] = {0.5f};
    int64_t s1[1] = {1};
    pf_st_write_tensor t[] = {{"x", PF_F32, 1, s1, v}};
    /* only a variant name: used */
    CHECK_OK(pf_st_write(pf_test_fmt(p, sizeof p, "%s/diffusion_pytorch_model.fp16.safetensors", dir), t, 1, NULL, NULL, 0));
    CHECK_OK(pf_weights_open_dir(dir, &w));
    CHECK(ends_with(pf_weights_source(w), "fp16.safetensors"));
    pf_weights_close(w);
    /* two candidates and no standard name: ambiguous */
    CHECK_OK(pf_st_write(pf_test_fmt(p, sizeof p, "%s/other.safetensors", dir), t, 1, NULL, NULL, 0));
    CHECK_ERR(pf_weights_open_dir(dir, &w), PF_ERR_NOT_FOUND, "2 safetensors files");
    /* the standard name wins */
    CHECK_OK(pf_st_write(pf_test_fmt(p, sizeof p, "%s/diffusion_pytorch_model.safetensors", dir), t, 1, NULL, NULL, 0));
    CHECK_OK(pf_weights_open_dir(dir, &w));
    CHECK(ends_with(pf_weights_source(w), "/diffusion_pytorch_model.safetensors"));
    pf_weights_close(w);
    pf_test_rmtree(dir);

    /* a folder with only a torch .bin */
    dir = pf_test_tmpdir("weights-bin");
    CHECK(dir);
    char *raw;
    size_t len;
    CHECK_OK(pf_read_file(pf_test_fmt(p, sizeof p, "%s/torch_mixed.pt", PF_TEST_DATA_DIR), &raw, &len));
    CHECK(pf_test_write(pf_test_fmt(p, sizeof p, "%s/pytorch_model.bin", dir), raw, len));
    free(raw);
    CHECK_OK(pf_weights_open_dir(dir, &w));
    CHECK(ends_with(pf_weights_source(w), "pytorch_model.bin"));
    CHECK(pf_weights_find(w, "six")->ndim == 6 && pf_weights_find(w, "six")->shape[5] == 2);
    pf_loader L;
    pf_loader_init(&L, w, NULL, PF_F32, "x");
    int64_t s6[5] = {2, 2, 2, 2, 2};
    pf_load_as(&L, PF_F32, "six", 5, s6); /* a 6-dim tensor never matches a graph shape */
    CHECK_ERR(pf_loader_finish(&L), PF_ERR_SHAPE, "'six': shape [2, 2, 2, 2, 2, 2]");
    pf_weights_close(w);
    pf_test_rmtree(dir);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_golden_vae_both_formats), PF_TEST(test_loader_reports_every_problem),
             PF_TEST(test_loader_converts), PF_TEST(test_sharded_index), PF_TEST(test_alt_names),
             PF_TEST(test_open_dir_choices))
