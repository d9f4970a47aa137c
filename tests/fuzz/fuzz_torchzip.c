/* libFuzzer target: torch.save zip files. The first input byte picks what the rest is:
 *   even: a whole file (zip container, then the pickle inside);
 *   odd:  a data.pkl program, wrapped here in a valid stored zip with storages "0".."3",
 *         so mutations reach the pickle machine instead of dying in the zip parser. */
#include "pf_test_files.h"
#include "pf_torchzip.h"

/* Keeps the reads of every byte from being optimised away. */
volatile size_t pf_fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    pf_torchzip *z = NULL;
    pf_tbuf zip = {0};
    pf_status s;
    if (data[0] % 2 == 0) {
        s = pf_tz_open_memory(data + 1, size - 1, "fuzz.pt", &z);
    } else {
        static uint8_t storage[4][96];
        for (int i = 0; i < 4; i++) memset(storage[i], 0x11 * (i + 1), sizeof storage[i]);
        pf_tzip_entry e[] = {
            {"archive/data.pkl", data + 1, size - 1, 0}, {"archive/data/0", storage[0], 96, 0},
            {"archive/data/1", storage[1], 64, 0},       {"archive/data/2", storage[2], 8, 0},
            {"archive/data/3", storage[3], 3, 0},        {"archive/version", "3\n", 2, 0},
        };
        pf_test_zip(&zip, e, 6, (data[0] & 2) != 0);
        s = pf_tz_open_memory(zip.p, zip.n, "fuzz-pickle.pt", &z);
    }
    if (s == PF_OK) {
        uint8_t sink = 0;
        for (int i = 0; i < pf_tz_count(z); i++) {
            const pf_st_tensor *t = pf_tz_at(z, i);
            const uint8_t *p = t->data;
            for (size_t k = 0; k < t->nbytes; k++) sink ^= p[k];
            if (pf_tz_find(z, t->name) != t) abort();
            if (t->nbytes && (uintptr_t)t->data % pf_dtype_size(t->dtype)) abort();
        }
        pf_fuzz_sink = sink;
    }
    pf_tz_close(z);
    tb_free(&zip);
    return 0;
}
