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

/* Run the cases matching `filter` with weights `dt` and DiT activations `act`; the output in *text. */
static pf_status run_filtered(const char *g, pf_dtype dt, pf_dtype act, const char *filter, char **text, int *np,
                              int *nf, int *ns) {
    pf_golden_opts o = {.backend = "cpu", .dtype = dt, .act = act, .filter = filter};
    size_t len = 0;
    FILE *f = open_memstream(text, &len);
    if (!f) return PF_ERR_OOM;
    pf_status s = pf_golden_check_pack(g, &o, f, np, nf, ns);
    fclose(f);
    fputs(*text, stderr); /* the figures per case */
    return s;
}

/* check-golden --act bf16: the DiT cases with bf16 activations (the GPU speed path, the
 * official autocast run) pass the bf16 rule (nmse <= 2e-3) with bf16 weights and with f32
 * weights; a pipeline with bf16 activations gives figures without a threshold. */
static pf_test_result test_pack_bf16_activations(void) {
    const char *g = pf_test_golden_dir();
    if (!g || !pf_dir_exists(g)) SKIP("no golden pack");
    char *text = NULL;
    int np = 0, nf = 0, ns = 0;
    pf_status s = run_filtered(g, PF_BF16, PF_BF16, "dit_", &text, &np, &nf, &ns);
    CHECK_MSG(s == PF_OK && nf == 0 && ns == 0, "%s", pf_last_error());
    CHECK(strstr(text, "backend cpu, weights bf16, DiT activations bf16\n"));
    free(text);
    if (np == 0) SKIP("no dit_* case in the pack");
    int n_dit = np;
    s = run_filtered(g, PF_F32, PF_BF16, "dit_", &text, &np, &nf, &ns);
    CHECK_MSG(s == PF_OK && nf == 0 && np == n_dit, "%s", pf_last_error());
    CHECK(strstr(text, "weights f32, DiT activations bf16\n"));
    free(text);
    s = run_filtered(g, PF_F32, PF_BF16, "pipeline_t2v_pyramid_flux", &text, &np, &nf, &ns);
    CHECK_MSG(s == PF_OK && nf == 0, "%s", pf_last_error());
    CHECK(np == 0 || strstr(text, "(bf16: no threshold)"));
    free(text);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_pack), PF_TEST(test_pack_bf16_activations))
