/*
 * Every string of the tokenizer golden files (shared/golden/tokenizers/)
 * through T5 (FLUX tokenizer_2 json, the SD3 tokenizer_3 json, and
 * spiece.model alone) and CLIP (tokenizer/ and SD3's CLIP-G tokenizer_2).
 * Fails on any must-pass miss; misses of the other tiers are listed.
 */
#include "golden_tokenizer.h"
#include "pf_test.h"

#include <unistd.h>

static const char *tok_root(void) {
    static char path[4096];
    const char *g = pf_test_golden_dir();
    if (!g) return NULL;
    snprintf(path, sizeof path, "%s/tokenizers", g);
    return pf_dir_exists(path) ? path : NULL;
}

static pf_test_result run(const pf_tok_golden_spec *spec, const char *what) {
    pf_tok_golden_result r;
    CHECK_OK(pf_tok_golden_eval(spec, stderr, &r));
    fprintf(stderr, "  %s: must=%d/%d should=%d/%d optional=%d/%d sd3=%d/%d%s%s\n", what, r.exact[PF_TIER_MUST],
            r.total[PF_TIER_MUST], r.exact[PF_TIER_SHOULD], r.total[PF_TIER_SHOULD], r.exact[PF_TIER_OPTIONAL],
            r.total[PF_TIER_OPTIONAL], r.variant_exact, r.variant_total, r.misses[0] ? " misses: " : "", r.misses);
    CHECK(r.total[PF_TIER_MUST] > 0);
    CHECK_MSG(r.exact[PF_TIER_MUST] == r.total[PF_TIER_MUST], "%s: must-pass misses", what);
    CHECK(r.variant_exact == r.variant_total);
    return PF_T_PASS;
}

static pf_test_result test_t5_golden(void) {
    const char *root = tok_root();
    if (!root) SKIP("no golden tokenizers folder");
    pf_tok_golden_spec spec;
    CHECK_OK(pf_tok_golden_spec_for_pack(root, PF_TOK_T5, &spec));
    CHECK(spec.variant_dir != NULL);
    pf_test_result res = run(&spec, "T5 (FLUX json + SD3 json)");
    pf_tok_golden_spec_free(&spec);
    return res;
}

/* A folder with only spiece.model behaves as T5TokenizerFast converted from
 * it, which is what the SD3 json is: compare it as the variant. */
static pf_test_result test_t5_spiece_only(void) {
    const char *root = tok_root();
    if (!root) SKIP("no golden tokenizers folder");
    char src[4200], dir[4200], dst[4300];
    snprintf(src, sizeof src, "%s/t5/spiece.model", root);
    snprintf(dir, sizeof dir, "%s/tok_spiece_only_XXXXXX", PF_TEST_BINARY_DIR);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(dst, sizeof dst, "%s/spiece.model", dir);
    char *data = NULL;
    size_t len = 0;
    CHECK_OK(pf_read_file(src, &data, &len));
    FILE *f = fopen(dst, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
    free(data);
    pf_tok_golden_spec spec;
    CHECK_OK(pf_tok_golden_spec_for_pack(root, PF_TOK_T5, &spec));
    const char *var = spec.variant_dir;
    spec.variant_dir = dir;
    pf_test_result res = run(&spec, "T5 (FLUX json + spiece.model only)");
    spec.variant_dir = var;
    pf_tok_golden_spec_free(&spec);
    unlink(dst);
    rmdir(dir);
    return res;
}

static pf_test_result test_clip_golden(void) {
    const char *root = tok_root();
    if (!root) SKIP("no golden tokenizers folder");
    pf_tok_golden_spec spec;
    CHECK_OK(pf_tok_golden_spec_for_pack(root, PF_TOK_CLIP, &spec));
    CHECK(spec.variant_dir != NULL);
    pf_test_result res = run(&spec, "CLIP (CLIP-L + SD3 CLIP-G)");
    pf_tok_golden_spec_free(&spec);
    return res;
}

PF_TEST_MAIN(PF_TEST(test_t5_golden), PF_TEST(test_t5_spiece_only), PF_TEST(test_clip_golden))
