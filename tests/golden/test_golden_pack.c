/* The golden gate: `pflow check-golden` on the pack with this build's runners. Fails when a
 * case fails; skipped (exit 77) while no kind has a runner. Per-kind figures are in the output. */
#include "pf_golden.h"
#include "pf_test.h"

static pf_test_result test_pack(void) {
    const char *g = pf_test_golden_dir();
    if (!g || !pf_dir_exists(g)) SKIP("no golden pack");
    pf_golden_opts o = {.backend = "cpu", .dtype = PF_F32};
    int np = 0, nf = 0, ns = 0;
    pf_status s = pf_golden_check_pack(g, &o, stderr, &np, &nf, &ns);
    CHECK_MSG(s == PF_OK && nf == 0, "%s", pf_last_error());
    if (np == 0) SKIP("no case has a runner in this build (%d skipped)", ns);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_pack))
