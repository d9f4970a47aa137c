/* Shared by the tokenizer fuzz targets: where the golden tokenizers are
 * ($PF_GOLDEN_DIR/tokenizers, else ../shared/golden beside the source root,
 * found from this file's path) and the invariants every encoding must
 * satisfy. A violated invariant traps, which is what a fuzz target is for. */
#ifndef PF_FUZZ_TOK_COMMON_H
#define PF_FUZZ_TOK_COMMON_H

#include "pf_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *pf_fuzz_tok_path(const char *sub, char *buf, size_t n) {
    const char *g = getenv("PF_GOLDEN_DIR");
    if (g && *g) {
        snprintf(buf, n, "%s/tokenizers/%s", g, sub);
        return buf;
    }
    /* __FILE__ is <root>/tests/fuzz/fuzz_tok_common.h: the pack is <root>/../shared/golden */
    const char *f = __FILE__, *end = strstr(f, "tests/fuzz/fuzz_tok_common.h");
    if (!end) return NULL;
    snprintf(buf, n, "%.*s../shared/golden/tokenizers/%s", (int)(end - f), f, sub);
    return buf;
}

/* Full and fixed-length encodings of the same text agree. */
static inline void pf_fuzz_tok_check(pf_tokenizer *t, const uint8_t *data, size_t size, int max_len) {
    int32_t *full = NULL;
    int n = 0;
    if (pf_tokenize_full_n(t, (const char *)data, size, &full, &n) != PF_OK) __builtin_trap();
    int32_t ids[128], mask[128];
    int n_full = -1;
    if (max_len > 128 || pf_tokenize_n(t, (const char *)data, size, max_len, ids, mask, &n_full) != PF_OK)
        __builtin_trap();
    if (n_full != n || n < 1) __builtin_trap();
    int real = n < max_len ? n : max_len;
    for (int i = 0; i < max_len; i++) {
        if (mask[i] != (i < real)) __builtin_trap();
        if (i >= real && ids[i] != pf_tokenizer_pad_id(t)) __builtin_trap();
    }
    if (ids[real - 1] != full[n - 1]) __builtin_trap(); /* the end token survives truncation */
    for (int i = 0; i < real - 1; i++)
        if (ids[i] != full[i]) __builtin_trap();
    free(full);
}

#endif /* PF_FUZZ_TOK_COMMON_H */
