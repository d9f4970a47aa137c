/* check-golden on the scheduler cases of the golden pack (tables in double at 1e-6,
 * the _bf16 timesteps exact). Which cases exist is the pack's business. */
#include "golden_impl.h"
#include "pf_test.h"

static pf_test_result test_scheduler_cases(void) {
    const char *pack = pf_test_golden_dir();
    if (!pack || !pf_dir_exists(pack)) SKIP("no golden pack (PF_GOLDEN_DIR)");
    pf_golden_opts o = {.backend = "cpu", .dtype = PF_F32, .filter = "scheduler", .threads = 1, .verbose = true};
    int passed = 0, failed = 0, skipped = 0;
    pf_status rc = pf_golden_check_pack(pack, &o, stderr, &passed, &failed, &skipped);
    CHECK_MSG(rc == PF_OK || failed > 0, "%s", pf_last_error());
    if (passed + failed == 0) SKIP("the pack has no scheduler cases");
    CHECK(failed == 0);
    CHECK(skipped == 0);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_scheduler_cases))
