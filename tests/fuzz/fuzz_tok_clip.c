/* libFuzzer target: arbitrary bytes as a prompt for the CLIP tokenizers of
 * the golden pack (CLIP-L, and SD3's CLIP-G whose "!" is an added token). */
#include "fuzz_tok_common.h"

static pf_tokenizer *clip_l, *clip_g;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int tried;
    if (!tried) {
        char p[4096], v[4096];
        tried = 1;
        const char *d = pf_fuzz_tok_path("clip", p, sizeof p);
        if (!d || pf_tokenizer_load_clip(d, &clip_l) != PF_OK) fprintf(stderr, "fuzz_tok_clip: %s\n", pf_last_error());
        const char *vd = pf_fuzz_tok_path("clip", v, sizeof v);
        d = pf_fuzz_tok_path("clip/sd3_tokenizer_2", p, sizeof p);
        if (!d || pf_tokenizer_load_clip_vocab(d, vd, &clip_g) != PF_OK)
            fprintf(stderr, "fuzz_tok_clip: %s\n", pf_last_error());
    }
    if (clip_l) pf_fuzz_tok_check(clip_l, data, size, 77);
    if (clip_g) pf_fuzz_tok_check(clip_g, data, size, 8);
    return 0;
}
