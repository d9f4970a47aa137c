/* The file noise source: recorded draws come back in order with their shapes checked,
 * and running out of block draws is a clear error. */
#include "pf_noise.h"
#include "pf_test.h"

#include <unistd.h>

static pf_test_result test_file_order_and_shapes(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/test_noise_file_%d.safetensors", PF_TEST_BINARY_DIR, (int)getpid());
    float init[2 * 2 * 2] = {1, 2, 3, 4, 5, 6, 7, 8}, b0[4] = {1, -1, 2, -2}, b1[16], post[4] = {9, 8, 7, 6};
    for (int i = 0; i < 16; i++) b1[i] = (float)(i % 4) - 1.5f;
    int64_t si[5] = {1, 2, 1, 2, 2}, sb0[5] = {1, 1, 1, 2, 2}, sb1[5] = {1, 1, 1, 4, 4}, sp[5] = {1, 1, 1, 2, 2};
    /* written out of order: the source goes by name, not file position */
    pf_st_write_tensor t[4] = {{"in.block_noise_001", PF_F32, 5, sb1, b1},
                               {"in.noise_init", PF_F32, 5, si, init},
                               {"in.posterior_noise", PF_F32, 5, sp, post},
                               {"in.block_noise_000", PF_F32, 5, sb0, b0}};
    CHECK_OK(pf_st_write(path, t, 4, NULL, NULL, 0));
    pf_noise *n = NULL;
    CHECK_OK(pf_noise_open_file(path, &n));
    CHECK(strstr(pf_noise_describe(n), "test_noise_file"));
    float out[16];
    CHECK_OK(pf_noise_initial(n, si, out));
    CHECK(memcmp(out, init, sizeof init) == 0);
    CHECK_OK(pf_noise_posterior(n, sp, out));
    CHECK(memcmp(out, post, sizeof post) == 0);
    /* a shape mismatch names the tensor and both shapes, and does not consume the draw */
    CHECK_ERR(pf_noise_block(n, sb1, out), PF_ERR_SHAPE, "in.block_noise_000 is [1, 1, 1, 2, 2]");
    CHECK(pf_noise_block_draws(n) == 0);
    CHECK_OK(pf_noise_block(n, sb0, out));
    CHECK(memcmp(out, b0, sizeof b0) == 0);
    CHECK_OK(pf_noise_block(n, sb1, out));
    CHECK(memcmp(out, b1, sizeof b1) == 0);
    CHECK(pf_noise_block_draws(n) == 2);
    CHECK_ERR(pf_noise_block(n, sb1, out), PF_ERR_NOT_FOUND, "in.block_noise_002");
    CHECK(strstr(pf_last_error(), "holds 2"));
    pf_noise_free(n);
    unlink(path);
    /* a file without the initial noise */
    pf_st_write_tensor only[1] = {{"in.block_noise_000", PF_F32, 5, sb0, b0}};
    CHECK_OK(pf_st_write(path, only, 1, NULL, NULL, 0));
    CHECK_OK(pf_noise_open_file(path, &n));
    CHECK_ERR(pf_noise_initial(n, si, out), PF_ERR_NOT_FOUND, "in.noise_init");
    pf_noise_free(n);
    unlink(path);
    CHECK_ERR(pf_noise_open_file(path, &n), PF_ERR_IO, "noise file");
    CHECK(n == NULL);
    return PF_T_PASS;
}

/* A golden pipeline case: its block draws each sum to zero per 2x2 block. */
static pf_test_result test_golden_case_draws(void) {
    const char *pack = pf_test_golden_dir();
    if (!pack || !pf_dir_exists(pack)) SKIP("no golden pack");
    char *path = pf_path_join(pack, "cases/pipeline_t2v_pyramid_flux.safetensors");
    if (!pf_file_exists(path)) {
        free(path);
        SKIP("the pack has no pipeline_t2v_pyramid_flux case");
    }
    pf_st_file *f = NULL;
    CHECK_OK(pf_st_open(path, &f));
    free(path);
    pf_noise *n = NULL;
    CHECK_OK(pf_noise_from_st(f, &n));
    for (int i = 0;; i++) {
        char name[32];
        snprintf(name, sizeof name, "in.block_noise_%03d", i);
        const pf_st_tensor *t = pf_st_find(f, name);
        if (!t) {
            CHECK(pf_noise_block_draws(n) == i && i > 0);
            break;
        }
        CHECK(t->ndim == 5);
        int64_t H = t->shape[3], W = t->shape[4];
        size_t cnt = (size_t)(t->shape[0] * t->shape[1] * t->shape[2] * H * W);
        float *v = malloc(cnt * sizeof(float));
        CHECK_OK(pf_noise_block(n, t->shape, v));
        for (size_t p = 0; p < cnt / (size_t)(H * W); p++)
            for (int64_t h = 0; h < H; h += 2)
                for (int64_t w = 0; w < W; w += 2) {
                    const float *q = v + p * (size_t)(H * W);
                    CHECK_NEAR(q[h * W + w] + q[h * W + w + 1] + q[(h + 1) * W + w] + q[(h + 1) * W + w + 1], 0.0, 1e-5);
                }
        free(v);
    }
    pf_noise_free(n);
    pf_st_close(f);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_file_order_and_shapes), PF_TEST(test_golden_case_draws))
