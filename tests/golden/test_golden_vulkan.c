/*
 * The golden gate on the Vulkan backend: `pflow check-golden --backend vulkan` over the
 * pack at f32 (GPU thresholds of DESIGN.md: models max_abs <= 5e-4, pipelines latents
 * <= 5e-3 and frames 0.5 %), and the model cases (dit_*, vae_*, text_*) at bf16 (nmse
 * <= 2e-3; the pipelines have no bf16 threshold, so they are not rerun there: lavapipe
 * takes minutes per pipeline). Sanitizer builds check host code: they run the model
 * cases at f32 only (the pipeline's host code is the CPU golden tests' too). Skipped (77)
 * without a Vulkan device or golden
 * pack, or while no kind has a runner; fails when any case fails, and when the
 * validation layer (on by default in Debug builds) reported anything.
 */
#include "pf_golden.h"
#include "pf_test.h"
#ifdef PF_HAVE_VULKAN
#include "vulkan/pf_vulkan.h"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define PF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PF_SANITIZED 1
#endif
#endif

static pf_test_result run_pack(pf_dtype dt, const char *filter, int *n_passed) {
    const char *g = pf_test_golden_dir();
    if (!g || !pf_dir_exists(g)) SKIP("no golden pack");
    pf_backend *be;
    pf_status rc = pf_backend_create("vulkan", NULL, &be);
    if (rc != PF_OK) SKIP("no Vulkan backend: %s", pf_last_error());
    pf_backend_free(be);
    pf_golden_opts o = {.backend = "vulkan", .dtype = dt, .filter = filter};
    int np = 0, nf = 0, ns = 0;
    pf_status s = pf_golden_check_pack(g, &o, stderr, &np, &nf, &ns);
    CHECK_MSG(s == PF_OK && nf == 0, "%d failed: %s", nf, pf_last_error());
#ifdef PF_HAVE_VULKAN
    CHECK_MSG(pf_vulkan_validation_messages() == 0, "%d validation-layer messages", pf_vulkan_validation_messages());
#endif
    *n_passed += np;
    return PF_T_PASS;
}

/* the model cases by name (case files are named for their kind) */
static const char *const model_cases[] = {"dit_", "vae_", "text_"};

static pf_test_result run_models(pf_dtype dt) {
    int np = 0;
    for (size_t i = 0; i < PF_ARRAY_LEN(model_cases); i++) {
        pf_test_result r = run_pack(dt, model_cases[i], &np);
        if (r != PF_T_PASS) return r;
    }
    if (np == 0) SKIP("no model case has a runner in this build");
    return PF_T_PASS;
}

static pf_test_result test_pack_f32(void) {
#ifdef PF_SANITIZED
    return run_models(PF_F32);
#else
    int np = 0;
    pf_test_result r = run_pack(PF_F32, NULL, &np);
    if (r == PF_T_PASS && np == 0) SKIP("no case has a runner in this build");
    return r;
#endif
}

static pf_test_result test_models_bf16(void) {
#ifdef PF_SANITIZED
    SKIP("sanitizer build: the f32 pass covers the host code");
#else
    return run_models(PF_BF16);
#endif
}

PF_TEST_MAIN(PF_TEST(test_pack_f32), PF_TEST(test_models_bf16))
