/*
 * check-golden runner for the tokenizer cases (tokenizer_t5, tokenizer_clip):
 * c->model_dir is the pack's tokenizers/ folder. Every string of the golden
 * file goes through the primary tokenizer and the SD3 variant; the verdict is
 * PASS when every must-pass string is exact (tiers: golden_tokenizer.h).
 */
#include "golden_tokenizer.h"
#include "pf_golden.h"

pf_status pf_golden_run_tokenizer(pf_golden_case *c) {
    if (!c || !c->name) return pf_error(PF_ERR_INVALID_ARG, "tokenizer runner: no case");
    pf_tok_kind kind;
    if (strstr(c->name, "t5"))
        kind = PF_TOK_T5;
    else if (strstr(c->name, "clip"))
        kind = PF_TOK_CLIP;
    else
        return pf_error(PF_ERR_INVALID_ARG, "%s: not a tokenizer case (tokenizer_t5 or tokenizer_clip)", c->name);
    if (!c->model_dir) return pf_golden_skip(c, "no tokenizers folder in the pack");

    pf_tok_golden_spec spec;
    PF_TRY(pf_tok_golden_spec_for_pack(c->model_dir, kind, &spec));
    if (!pf_file_exists(spec.json)) {
        pf_status st = pf_golden_skip(c, "%s: missing", spec.json);
        pf_tok_golden_spec_free(&spec);
        return st;
    }
    pf_tok_golden_result r;
    bool verbose = c->opts && c->opts->verbose;
    pf_status st = pf_tok_golden_eval(&spec, verbose ? stderr : NULL, &r);
    pf_tok_golden_spec_free(&spec);
    PF_TRY(st);
    bool pass = r.exact[PF_TIER_MUST] == r.total[PF_TIER_MUST];
    char variant[48] = "sd3=n/a";
    if (r.variant_total) snprintf(variant, sizeof variant, "sd3=%d/%d", r.variant_exact, r.variant_total);
    return pf_golden_report(c, pass, "must=%d/%d should=%d/%d optional=%d/%d %s%s%s", r.exact[PF_TIER_MUST],
                            r.total[PF_TIER_MUST], r.exact[PF_TIER_SHOULD], r.total[PF_TIER_SHOULD],
                            r.exact[PF_TIER_OPTIONAL], r.total[PF_TIER_OPTIONAL], variant,
                            r.misses[0] ? " misses: " : "", r.misses);
}
