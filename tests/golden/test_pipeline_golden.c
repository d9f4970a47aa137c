/* check-golden on the pipeline cases of the golden pack: every latent the case holds
 * within 1e-3 and the uint8 frames off by at most one level on at most 0.1 % of the
 * values (the framework's pipeline rule); the figures are printed. */
#include "golden_impl.h"
#include "pf_test.h"

static pf_test_result run_filter(const char *filter) {
    const char *pack = pf_test_golden_dir();
    if (!pack || !pf_dir_exists(pack)) SKIP("no golden pack (PF_GOLDEN_DIR)");
    pf_golden_opts o = {.backend = "cpu", .dtype = PF_F32, .filter = filter, .threads = 0, .verbose = true};
    int passed = 0, failed = 0, skipped = 0;
    pf_status rc = pf_golden_check_pack(pack, &o, stderr, &passed, &failed, &skipped);
    CHECK_MSG(rc == PF_OK || failed > 0, "%s", pf_last_error());
    if (passed + failed + skipped == 0) SKIP("the pack has no %s cases", filter);
    CHECK(failed == 0);
    CHECK(skipped == 0);
    return PF_T_PASS;
}

static pf_test_result test_pipeline_t2v(void) { return run_filter("pipeline_t2v"); }
static pf_test_result test_pipeline_i2v(void) { return run_filter("pipeline_i2v"); }

PF_TEST_MAIN(PF_TEST(test_pipeline_t2v), PF_TEST(test_pipeline_i2v))
