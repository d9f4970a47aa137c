/* libFuzzer target: arbitrary bytes (invalid UTF-8 and NUL included) as a
 * prompt for the T5 tokenizers of the golden pack (FLUX tokenizer.json and
 * SD3's legacy one). */
#include "fuzz_tok_common.h"

static pf_tokenizer *flux, *sd3;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int tried;
    if (!tried) {
        char p[4096];
        tried = 1;
        const char *d = pf_fuzz_tok_path("t5", p, sizeof p);
        if (!d || pf_tokenizer_load_t5(d, &flux) != PF_OK) fprintf(stderr, "fuzz_tok_t5: %s\n", pf_last_error());
        d = pf_fuzz_tok_path("t5/sd3_tokenizer_3", p, sizeof p);
        if (!d || pf_tokenizer_load_t5(d, &sd3) != PF_OK) fprintf(stderr, "fuzz_tok_t5: %s\n", pf_last_error());
    }
    if (flux) pf_fuzz_tok_check(flux, data, size, 128);
    if (sd3) pf_fuzz_tok_check(sd3, data, size, 16);
    return 0;
}
