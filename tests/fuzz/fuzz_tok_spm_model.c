/* libFuzzer target: arbitrary bytes as a spiece.model. Whatever parses is
 * converted to a T5 tokenizer (vocabulary trie, precompiled charsmap) and
 * must tokenize a few prompts without fault. Seed it with the golden
 * t5/spiece.model. */
#include "tok_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pf_tok_t5 *t = NULL;
    pf_tok_ids suffix = {0}, ids = {0};
    if (pf_tok_t5_from_spm(data, size, "fuzz.model", &t, &suffix) == PF_OK) {
        static const char *const prompts[] = {"A cat  on a mat, cinematic", "caf\xC3\xA9 e\xCC\x81\xCC\x82 \xEF\xBD\x88",
                                              "</s><extra_id_0> x <pad>", "\xE2\x96\x81\xE2\x96\x81 \xF0\x9F\x99\x82"};
        for (size_t i = 0; i < sizeof prompts / sizeof prompts[0]; i++) {
            ids.n = 0;
            (void)pf_tok_t5_encode(t, prompts[i], strlen(prompts[i]), &ids);
        }
        pf_tok_t5_free(t);
    }
    pf_tok_ids_free(&suffix);
    pf_tok_ids_free(&ids);
    return 0;
}
