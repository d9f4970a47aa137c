/*
 * `pflow generate --backend vulkan|cuda` end to end on the tiny model, against the same
 * generation on the CPU: the frames (PNG, f32 weights and latents on both sides, one step
 * per stage) must agree to within a few 8-bit levels, and the summary must name the
 * backend that ran. A backend this build or machine lacks is skipped, not passed: on CI
 * the Vulkan case runs on lavapipe, the CUDA case on the GPU machine only.
 */
#include "pf_backend.h"
#include "pf_image.h"
#include "pf_test_cli.h"
#include "pf_video.h"

#include <math.h>

static char *g_dir, *g_model;

static bool setup(void) {
    if (g_model) return true;
    g_dir = pf_tm_mkdtemp("test_cli_backends");
    if (g_dir) g_model = pf_cli_tiny_model(g_dir, "tiny", "5");
    return g_model != NULL;
}

/* 9 frames of 128x64 as PNGs under DIR/TAG/, on BACKEND at f32. */
static bool generate(const char *backend, const char *tag, pf_cli_run *r) {
    char *d = pf_tm_join(g_dir, tag);
    if (!d || mkdir(d, 0755) != 0) {
        free(d);
        return false;
    }
    char *pattern = pf_tm_join(d, "f_%02d.png");
    const char *args[] = {"generate", "-m", g_model, "-p", "a lighthouse at dusk", "--steps", "1,1,1",
                          "--video-steps", "1,1,1", "--temp", "2", "--width", "128", "--height", "64",
                          "--seed", "9", "--dtype", "f32", "--act", "f32", "--backend", backend, "-o", pattern, NULL};
    pf_cli_exec(r, g_dir, args);
    free(pattern);
    free(d);
    return true;
}

/* Largest per-value difference in 8-bit levels over the 9 frames, and the mean. */
static bool compare(const char *tag_a, const char *tag_b, int *max_diff, double *mean_diff) {
    *max_diff = 0;
    double sum = 0.0;
    size_t n = 0;
    for (int k = 0; k < 9; k++) {
        char name[64];
        pf_image a = {0}, b = {0};
        snprintf(name, sizeof name, "%s/f_%02d.png", tag_a, k);
        char *pa = pf_tm_join(g_dir, name);
        snprintf(name, sizeof name, "%s/f_%02d.png", tag_b, k);
        char *pb = pf_tm_join(g_dir, name);
        bool ok = pa && pb && pf_image_read(pa, &a) == PF_OK && pf_image_read(pb, &b) == PF_OK &&
                  a.width == b.width && a.height == b.height;
        free(pa);
        free(pb);
        if (!ok) {
            pf_image_free(&a);
            pf_image_free(&b);
            return false;
        }
        for (size_t i = 0; i < (size_t)a.width * a.height * 3; i++) {
            int dlt = abs((int)a.rgb[i] - (int)b.rgb[i]);
            *max_diff = dlt > *max_diff ? dlt : *max_diff;
            sum += dlt;
            n++;
        }
        pf_image_free(&a);
        pf_image_free(&b);
    }
    *mean_diff = n ? sum / (double)n : 0.0;
    return n > 0;
}

static pf_test_result run_backend(const char *backend) {
    if (!setup()) return PF_T_FAIL;
    if (!pf_video_format_available(PF_VIDEO_PNG)) SKIP("no libpng in this build");
    pf_backend *be = NULL;
    if (pf_backend_create(backend, NULL, &be) != PF_OK) SKIP("no %s device: %s", backend, pf_last_error());
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    pf_backend_free(be);
    static bool have_cpu;
    pf_cli_run r;
    if (!have_cpu) {
        CHECK(generate("cpu", "cpu", &r));
        CHECK_CLI_OK(&r);
        pf_cli_run_free(&r);
        have_cpu = true;
    }
    CHECK(generate(backend, backend, &r));
    CHECK_CLI_OK(&r);
    char on[64];
    snprintf(on, sizeof on, "f32 activations on %s", backend);
    CHECK_MSG(strstr(r.out, on), "the summary does not say '%s':\n%s", on, r.out);
    CHECK(strstr(r.out, "9 frames, 128x64"));
    pf_cli_run_free(&r);
    int max_diff = 0;
    double mean_diff = 0.0;
    CHECK(compare("cpu", backend, &max_diff, &mean_diff));
    printf("  %s (%s) vs cpu: frames differ by at most %d levels, %.4f on average\n", backend, info.device, max_diff,
           mean_diff);
    /* f32 on both sides: only summation order differs, amplified a little by the sampler */
    CHECK_MSG(max_diff <= 4 && mean_diff < 0.05, "%s frames differ from the CPU's by up to %d levels (mean %.4f)",
              backend, max_diff, mean_diff);
    return PF_T_PASS;
}

static pf_test_result test_vulkan(void) { return run_backend("vulkan"); }
static pf_test_result test_cuda(void) { return run_backend("cuda"); }

static pf_test_result test_cleanup(void) {
    pf_tm_rmtree(g_dir); /* frees the name */
    free(g_model);
    g_dir = g_model = NULL;
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_vulkan), PF_TEST(test_cuda), PF_TEST(test_cleanup))
