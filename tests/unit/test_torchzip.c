/* torch.save zip files: the golden VAE .bin against its safetensors copy, a torch-written
 * fixture with every dtype and saved views, and hand-built archives and pickles. */
#include "pf_safetensors.h"
#include "pf_test.h"
#include "pf_test_files.h"
#include "pf_torchzip.h"

/* README §2: the .bin holds the same tensors as the .safetensors, in state_dict order, which
 * for this pack is the safetensors' (sorted) order too. */
static pf_test_result test_golden_vae_bin(void) {
    const char *g = pf_test_golden_dir();
    char bin[4096], st[4096];
    if (!g || !pf_file_exists(pf_test_fmt(bin, sizeof bin, "%s/miniflux/causal_video_vae/diffusion_pytorch_model.bin", g)))
        SKIP("no golden VAE .bin");
    pf_test_fmt(st, sizeof st, "%s/miniflux/causal_video_vae/diffusion_pytorch_model.safetensors", g);
    pf_torchzip *z;
    pf_st_file *f;
    CHECK_OK(pf_tz_open(bin, &z));
    CHECK_OK(pf_st_open(st, &f));
    CHECK(!strcmp(pf_tz_path(z), bin));
    CHECK(pf_tz_count(z) == pf_st_count(f) && pf_tz_count(z) > 0);
    for (int i = 0; i < pf_tz_count(z); i++) {
        const pf_st_tensor *a = pf_tz_at(z, i), *b = pf_st_at(f, i);
        CHECK_MSG(!strcmp(a->name, b->name), "tensor %d: '%s' vs '%s'", i, a->name, b->name);
        CHECK(pf_tz_find(z, a->name) == a);
        CHECK(a->dtype == b->dtype && a->ndim == b->ndim && a->nbytes == b->nbytes);
        for (int d = 0; d < a->ndim; d++) CHECK(a->shape[d] == b->shape[d]);
        CHECK_MSG(!memcmp(a->data, b->data, a->nbytes), "tensor '%s' differs", a->name);
        CHECK((uintptr_t)a->data % pf_dtype_size(a->dtype) == 0);
    }
    CHECK(pf_tz_find(z, "nope") == NULL && pf_tz_at(z, pf_tz_count(z)) == NULL);
    pf_st_close(f);
    pf_tz_close(z);
    return PF_T_PASS;
}

/* Value of element i of a tensor, whatever its dtype. */
static double at(const pf_st_tensor *t, size_t i) { return pf_load_elem(t->data, t->dtype, i); }

static size_t numel(const pf_st_tensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

/* tests/data/torch_mixed.pt, written by torch (tests/data/make_torch_fixture.py); the
 * formulas below are the ones documented there. */
static pf_test_result test_torch_fixture(void) {
    char path[4096];
    pf_test_fmt(path, sizeof path, "%s/torch_mixed.pt", PF_TEST_DATA_DIR);
    pf_torchzip *z;
    CHECK_OK(pf_tz_open(path, &z));
    static const struct {
        const char *name;
        pf_dtype dt;
        int ndim;
        int64_t shape[6];
    } want[] = {
        {"buf", PF_F64, 1, {3}},        {"lin.weight", PF_F32, 2, {2, 3}}, {"lin.bias", PF_F32, 1, {2}},
        {"half", PF_F16, 1, {4}},       {"bf", PF_BF16, 2, {2, 2}},        {"f64", PF_F64, 1, {3}},
        {"long", PF_I64, 1, {3}},       {"int", PF_I32, 1, {2}},           {"byte", PF_U8, 1, {5}},
        {"mask", PF_BOOL, 1, {4}},      {"base", PF_F32, 1, {10}},         {"slice", PF_F32, 1, {2}},
        {"transposed", PF_F32, 2, {3, 2}}, {"expanded", PF_F32, 2, {3, 4}}, {"param", PF_F32, 1, {2}},
        {"scalar", PF_F32, 0, {0}},     {"empty", PF_F32, 2, {0, 3}},      {"six", PF_F32, 6, {2, 2, 2, 2, 2, 2}},
    };
    CHECK(pf_tz_count(z) == (int)PF_ARRAY_LEN(want));
    for (int i = 0; i < (int)PF_ARRAY_LEN(want); i++) {
        const pf_st_tensor *t = pf_tz_at(z, i);
        CHECK_MSG(!strcmp(t->name, want[i].name), "tensor %d is '%s', expected '%s'", i, t->name, want[i].name);
        CHECK_MSG(t->dtype == want[i].dt && t->ndim == want[i].ndim, "'%s': dtype/ndim", t->name);
        for (int d = 0; d < t->ndim; d++) CHECK(t->shape[d] == want[i].shape[d]);
        CHECK(t->nbytes == numel(t) * pf_dtype_size(t->dtype));
        CHECK((uintptr_t)t->data % pf_dtype_size(t->dtype) == 0);
        for (size_t k = 0; k < numel(t); k++) {
            double x = (double)k, v = at(t, k), e;
            const char *n = t->name;
            if (!strcmp(n, "buf")) e = 1.5 * x;
            else if (!strcmp(n, "lin.weight")) e = 0.25 * x - 0.5;
            else if (!strcmp(n, "lin.bias")) e = 1.5 - 3.5 * x;
            else if (!strcmp(n, "half")) e = x - 1.5;
            else if (!strcmp(n, "bf")) e = 2 * x - 3;
            else if (!strcmp(n, "f64")) e = x / 8;
            else if (!strcmp(n, "long")) e = 1e12 * x - 5;
            else if (!strcmp(n, "int")) e = 9 * x - 7;
            else if (!strcmp(n, "byte")) e = 50 * x;
            else if (!strcmp(n, "mask")) e = k % 2 == 0;
            else if (!strcmp(n, "base") || !strcmp(n, "six")) e = x;
            else if (!strcmp(n, "slice")) e = 4 + x;
            else if (!strcmp(n, "transposed")) e = 3.0 * (double)(k % 2) + (double)(k / 2); /* (r, c) = (k/2, k%2) */
            else if (!strcmp(n, "expanded")) e = (double)(k % 4);
            else if (!strcmp(n, "param")) e = 0.75;
            else e = 3.25; /* scalar */
            CHECK_MSG(v == e, "'%s'[%zu] = %.17g, expected %.17g", n, k, v, e);
        }
    }
    CHECK(((const int64_t *)pf_tz_find(z, "long")->data)[2] == 2000000000000LL - 5); /* exact, beyond 2^32 */
    pf_tz_close(z);
    return PF_T_PASS;
}

/* A pickle written by hand around a stored zip without ZIP64 records, opened from memory. */
static pf_test_result test_hand_built_archive(void) {
    float s0[6] = {0, 1, 2, 3, 4, 5};
    pf_tpk_tensor t[] = {
        {"w", "FloatStorage", "0", 6, 0, 2, {2, 3}, {3, 1}},
        {"wt", "FloatStorage", "0", 6, 0, 2, {3, 2}, {1, 3}}, /* transposed view of the same storage */
        {"tail", "FloatStorage", "0", 6, 4, 1, {2}, {1}},      /* offset view */
    };
    pf_tbuf pk = {0}, zip = {0};
    pk_state_dict(&pk, t, 3, true);
    pf_tzip_entry e[] = {{"arch/data.pkl", pk.p, pk.n, 0}, {"arch/data/0", s0, sizeof s0, 0}, {"arch/version", "3\n", 2, 0}};
    pf_test_zip(&zip, e, 3, false);
    pf_torchzip *z;
    CHECK_OK(pf_tz_open_memory(zip.p, zip.n, "hand.pt", &z));
    CHECK(pf_tz_count(z) == 3);
    const pf_st_tensor *w = pf_tz_find(z, "w"), *wt = pf_tz_find(z, "wt"), *tail = pf_tz_find(z, "tail");
    CHECK(w && wt && tail);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 2; c++) CHECK(((const float *)wt->data)[r * 2 + c] == s0[c * 3 + r]);
    CHECK(((const float *)tail->data)[0] == 4 && ((const float *)tail->data)[1] == 5);
    CHECK(!memcmp(w->data, s0, sizeof s0));
    pf_tz_close(z);
    tb_free(&zip);
    tb_free(&pk);
    return PF_T_PASS;
}

/* Opcodes of newer protocols that a re-saved checkpoint may contain: FRAME, MEMOIZE,
 * SHORT_BINUNICODE, STACK_GLOBAL, EMPTY_DICT + SETITEM, BININT2, TUPLE1..3, BUILD. */
static pf_test_result test_protocol4_opcodes(void) {
    int64_t s[4] = {10, 20, 30, 40};
    pf_tbuf b = {0}, zip = {0};
    tb_u8(&b, 0x80), tb_u8(&b, 4);
    tb_u8(&b, 0x95), tb_u64(&b, 0);                                         /* FRAME: groups reads only */
    tb_u8(&b, '}'), tb_u8(&b, 0x94);                                       /* dict, memo 0 */
    tb_u8(&b, 0x8c), tb_u8(&b, 4), tb_str(&b, "ids!");                     /* key */
    tb_u8(&b, 0x8c), tb_u8(&b, 12), tb_str(&b, "torch._utils");
    tb_u8(&b, 0x8c), tb_u8(&b, 18), tb_str(&b, "_rebuild_tensor_v2");
    tb_u8(&b, 0x93), tb_u8(&b, 0x94);                                       /* fn, memo 1 */
    tb_u8(&b, '0'), tb_u8(&b, 'h'), tb_u8(&b, 1);                           /* POP, BINGET 1 */
    tb_u8(&b, '(');                                                         /* args mark */
    tb_u8(&b, '(');                                                         /* pid mark */
    tb_u8(&b, 0x8c), tb_u8(&b, 7), tb_str(&b, "storage");
    tb_u8(&b, 0x8c), tb_u8(&b, 5), tb_str(&b, "torch");
    tb_u8(&b, 0x8c), tb_u8(&b, 11), tb_str(&b, "LongStorage");
    tb_u8(&b, 0x93);
    tb_u8(&b, 0x8c), tb_u8(&b, 1), tb_str(&b, "7");
    tb_u8(&b, 0x8c), tb_u8(&b, 3), tb_str(&b, "cpu");
    tb_u8(&b, 'M'), tb_u16(&b, 4);
    tb_u8(&b, 't'), tb_u8(&b, 'Q');                                         /* pid tuple, BINPERSID */
    tb_u8(&b, 'K'), tb_u8(&b, 1);                                           /* offset 1 */
    tb_u8(&b, 'K'), tb_u8(&b, 3), tb_u8(&b, 0x85);                          /* size (3,) */
    tb_u8(&b, 'K'), tb_u8(&b, 1), tb_u8(&b, 0x85);                          /* stride (1,) */
    tb_u8(&b, 0x88);                                                        /* requires_grad */
    tb_u8(&b, '}');                                                         /* hooks */
    tb_u8(&b, 't'), tb_u8(&b, 'R');                                         /* tensor */
    tb_u8(&b, 's');                                                         /* dict[key] = tensor */
    tb_u8(&b, '}'), tb_u8(&b, 'b');                                         /* BUILD with {} */
    tb_u8(&b, '.');
    pf_tzip_entry e[] = {{"a/data.pkl", b.p, b.n, 0}, {"a/data/7", s, sizeof s, 0}};
    pf_test_zip(&zip, e, 2, true);
    pf_torchzip *z;
    CHECK_OK(pf_tz_open_memory(zip.p, zip.n, "p4.pt", &z));
    CHECK(pf_tz_count(z) == 1);
    const pf_st_tensor *t = pf_tz_at(z, 0);
    CHECK(!strcmp(t->name, "ids!") && t->dtype == PF_I64 && t->ndim == 1 && t->shape[0] == 3);
    CHECK(((const int64_t *)t->data)[0] == 20 && ((const int64_t *)t->data)[2] == 40);
    pf_tz_close(z);
    tb_free(&zip);
    tb_free(&b);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_golden_vae_bin), PF_TEST(test_torch_fixture), PF_TEST(test_hand_built_archive),
             PF_TEST(test_protocol4_opcodes))
