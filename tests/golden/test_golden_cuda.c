/* The golden gate on the CUDA backend: `pflow check-golden --backend cuda` at --dtype f32
 * (GPU thresholds: true f32, no TF32) and --dtype bf16 (nmse <= 2e-3). Skips without a
 * CUDA device, without a pack, or while no case kind has a runner. */
#include "pf_golden.h"
#include "pf_test.h"

static pf_test_result run_pack(pf_dtype dt) {
    pf_backend *be = NULL;
    if (pf_backend_create("cuda", NULL, &be) != PF_OK) SKIP("no CUDA backend: %s", pf_last_error());
    pf_backend_free(be);
    const char *g = pf_test_golden_dir();
    if (!g || !pf_dir_exists(g)) SKIP("no golden pack");
    pf_golden_opts o = {.backend = "cuda", .dtype = dt};
    int np = 0, nf = 0, ns = 0;
    pf_status s = pf_golden_check_pack(g, &o, stderr, &np, &nf, &ns);
    CHECK_MSG(s == PF_OK && nf == 0, "%d cases failed at --dtype %s: %s", nf, pf_dtype_name(dt), pf_last_error());
    if (np == 0) SKIP("no case has a runner in this build (%d skipped)", ns);
    return PF_T_PASS;
}

static pf_test_result test_pack_cuda_f32(void) { return run_pack(PF_F32); }
static pf_test_result test_pack_cuda_bf16(void) { return run_pack(PF_BF16); }

PF_TEST_MAIN(PF_TEST(test_pack_cuda_f32), PF_TEST(test_pack_cuda_bf16))
