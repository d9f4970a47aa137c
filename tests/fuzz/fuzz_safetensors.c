/* libFuzzer target: the safetensors reader over arbitrary bytes. Every tensor it accepts is
 * read in full (ASan catches any pointer outside the input) and must be found by name. */
#include "pf_safetensors.h"

#include <stdint.h>
#include <stdlib.h>

/* Keeps the reads of every byte from being optimised away. */
volatile size_t pf_fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pf_st_file *f = NULL;
    if (pf_st_open_memory(data, size, "fuzz.safetensors", &f) != PF_OK) return 0;
    uint8_t sink = 0;
    for (int i = 0; i < pf_st_count(f); i++) {
        const pf_st_tensor *t = pf_st_at(f, i);
        const uint8_t *p = t->data;
        for (size_t k = 0; k < t->nbytes; k++) sink ^= p[k];
        if (pf_st_find(f, t->name) != t) abort();                        /* lookup broken */
        if (t->nbytes && (uintptr_t)t->data % pf_dtype_size(t->dtype)) abort(); /* alignment promise */
        if (t->ndim < 0 || t->ndim > PF_ST_MAX_DIMS) abort();
    }
    pf_fuzz_sink = sink;
    (void)pf_st_metadata(f, "format");
    (void)pf_st_metadata(f, "case");
    pf_st_close(f);
    return 0;
}
