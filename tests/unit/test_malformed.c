/* Malformed weight files written at run time: every one must give the expected status and a
 * message naming the file, the tensor where there is one, and the problem; none may crash
 * (this test runs under ASan/UBSan in CI). */
#include "pf_json.h"
#include "pf_safetensors.h"
#include "pf_test.h"
#include "pf_test_files.h"
#include "pf_torchzip.h"
#include "pf_weights.h"

static char *tmp;

/* The last error must contain every needle (NULL-terminated list). */
static bool msg_has(pf_status got, pf_status want, const char *what, ...) {
    bool ok = got == want;
    if (getenv("PF_TEST_VERBOSE")) fprintf(stderr, "  %-14s %s\n", what, pf_last_error());
    if (!ok)
        fprintf(stderr, "  %s: status '%s', expected '%s' (%s)\n", what, pf_status_str(got), pf_status_str(want),
                pf_last_error());
    va_list ap;
    va_start(ap, what);
    for (const char *n; (n = va_arg(ap, const char *));) {
        if (!strstr(pf_last_error(), n)) {
            fprintf(stderr, "  %s: message '%s' lacks '%s'\n", what, pf_last_error(), n);
            ok = false;
        }
    }
    va_end(ap);
    return ok;
}

static const char *path_of(char *buf, size_t n, const char *name) { return pf_test_fmt(buf, n, "%s/%s", tmp, name); }

/* ---------------------------------------------------------------- safetensors */

typedef struct {
    const char *file;   /* written in the temp folder */
    const char *header; /* NULL: raw bytes below */
    size_t data_len;    /* zero bytes after the header */
    pf_status status;
    const char *needle1, *needle2, *needle3;
} st_case;

static const st_case st_cases[] = {
    {"unknown_dtype.safetensors", "{\"w\":{\"dtype\":\"F12\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
     PF_ERR_FORMAT, "'w'", "unknown dtype 'F12'", NULL},
    {"fp8_dtype.safetensors", "{\"q\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 8,
     PF_ERR_UNSUPPORTED, "'q'", "F8_E4M3", "not supported"},
    {"no_dtype.safetensors", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, PF_ERR_FORMAT, "'w'",
     "missing or non-string dtype", NULL},
    {"shape_bytes.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24,
     PF_ERR_FORMAT, "'w'", "needs 6 elements", "hold 20 bytes"},
    {"past_end.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16, PF_ERR_FORMAT,
     "'w'", "run past the end of the data", NULL},
    {"overlap.safetensors",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
     16, PF_ERR_FORMAT, "'a'", "'b'", "overlap"},
    {"negative_dim.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
     PF_ERR_FORMAT, "'w'", "shape entry 0 is not a non-negative integer", NULL},
    {"fraction_dim.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2, 2.5],\"data_offsets\":[0,8]}}", 8,
     PF_ERR_FORMAT, "'w'", "shape entry 1 is not a non-negative integer", NULL},
    {"string_dim.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8,
     PF_ERR_FORMAT, "'w'", "shape entry 0", NULL},
    {"many_dims.safetensors",
     "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8, PF_ERR_FORMAT, "'w'",
     "9 dims, at most 8", NULL},
    {"offsets_arity.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
     PF_ERR_FORMAT, "'w'", "data_offsets is not an array [begin, end]", NULL},
    {"offsets_reversed.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
     PF_ERR_FORMAT, "'w'", "end before they begin", NULL},
    {"duplicate.safetensors",
     "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
     "\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
     8, PF_ERR_FORMAT, "'w'", "appears twice", NULL},
    {"not_json.safetensors", "{\"w\": {\"dtype\": \"F32\",,}", 8, PF_ERR_FORMAT, "header is not valid JSON", NULL,
     NULL},
    {"not_object.safetensors", "[1, 2, 3]", 8, PF_ERR_FORMAT, "header is not a JSON object", NULL, NULL},
    {"entry_not_object.safetensors", "{\"w\": 5}", 8, PF_ERR_FORMAT, "'w'", "entry is not an object", NULL},
    {"metadata_value.safetensors", "{\"__metadata__\":{\"format\":1}}", 0, PF_ERR_FORMAT, "__metadata__",
     "'format'", "not a string"},
    {"metadata_type.safetensors", "{\"__metadata__\":[\"a\"]}", 0, PF_ERR_FORMAT, "__metadata__ is not an object",
     NULL, NULL},
    {"trailing_junk.safetensors", "{}  xx  ", 0, PF_ERR_FORMAT, "unexpected bytes after the header JSON", NULL, NULL},
    {"huge_shape.safetensors",
     "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", 8, PF_ERR_FORMAT,
     "'w'", "too many elements", NULL},
};

static pf_test_result safetensors_headers(void) {
    int bad = 0;
    for (size_t i = 0; i < PF_ARRAY_LEN(st_cases); i++) {
        const st_case *c = &st_cases[i];
        char path[4096];
        path_of(path, sizeof path, c->file);
        uint8_t zeros[64] = {0};
        CHECK(pf_test_write_st_raw(path, c->header, zeros, c->data_len));
        pf_st_file *f = NULL;
        pf_status s = pf_st_open(path, &f);
        if (!msg_has(s, c->status, c->file, path, c->needle1 ? c->needle1 : "", c->needle2 ? c->needle2 : "",
                     c->needle3 ? c->needle3 : "", NULL))
            bad++;
        CHECK(f == NULL);
        pf_st_close(f);
    }
    CHECK(bad == 0);
    return PF_T_PASS;
}

/* Files broken below the header: too short, lengths that lie, a cut data section. */
static pf_test_result safetensors_lengths(void) {
    char path[4096];
    pf_st_file *f = NULL;

    CHECK(pf_test_write(path_of(path, sizeof path, "empty.safetensors"), "", 0));
    CHECK(msg_has(pf_st_open(path, &f), PF_ERR_FORMAT, "empty", path, "truncated", "0 bytes", NULL));

    CHECK(pf_test_write(path_of(path, sizeof path, "short.safetensors"), "\x10\x00\x00", 3));
    CHECK(msg_has(pf_st_open(path, &f), PF_ERR_FORMAT, "short", path, "truncated", "3 bytes", NULL));

    /* header length 1000 in a 20-byte file */
    pf_tbuf b = {0};
    tb_u64(&b, 1000);
    tb_str(&b, "{\"a\":1}     ");
    CHECK(pf_test_write(path_of(path, sizeof path, "long_header.safetensors"), b.p, b.n));
    CHECK(msg_has(pf_st_open(path, &f), PF_ERR_FORMAT, "long header", path, "header length 1000",
                  "past the end of the file", NULL));
    tb_free(&b);

    /* header length 2^63: absurd, not an allocation attempt */
    tb_u64(&b, (uint64_t)1 << 63);
    tb_str(&b, "{}");
    CHECK(pf_test_write(path_of(path, sizeof path, "absurd.safetensors"), b.p, b.n));
    CHECK(msg_has(pf_st_open(path, &f), PF_ERR_FORMAT, "absurd", path, "absurd", NULL));
    tb_free(&b);

    /* a valid file cut in the middle of its data */
    float v[16] = {0};
    int64_t shape[1] = {16};
    pf_st_write_tensor t = {"weight.cut", PF_F32, 1, shape, v};
    path_of(path, sizeof path, "cut.safetensors");
    CHECK_OK(pf_st_write(path, &t, 1, NULL, NULL, 0));
    char *raw;
    size_t len;
    CHECK_OK(pf_read_file(path, &raw, &len));
    CHECK(pf_test_write(path, raw, len - 20));
    free(raw);
    CHECK(msg_has(pf_st_open(path, &f), PF_ERR_FORMAT, "cut", path, "'weight.cut'", "truncated", NULL));

    /* not a file at all */
    CHECK(msg_has(pf_st_open(path_of(path, sizeof path, "missing.safetensors"), &f), PF_ERR_IO, "missing", path,
                  "cannot open", NULL));
    CHECK(msg_has(pf_st_open(tmp, &f), PF_ERR_IO, "folder", "not a regular file", NULL));
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- sharded index */

static pf_test_result index_files(void) {
    char path[4096], shard[4096];
    float v[2] = {1, 2};
    int64_t s2[1] = {2};
    pf_st_write_tensor a = {"a", PF_F32, 1, s2, v};
    CHECK_OK(pf_st_write(path_of(shard, sizeof shard, "shard-1.safetensors"), &a, 1, NULL, NULL, 0));
    pf_weights *w = NULL;

    CHECK(pf_test_write_str(path_of(path, sizeof path, "bad.safetensors.index.json"), "{\"weight_map\": {\n\"a\": \n"));
    CHECK(msg_has(pf_weights_open_file(path, &w), PF_ERR_FORMAT, "index json", path, "invalid JSON at line", NULL));

    CHECK(pf_test_write_str(path_of(path, sizeof path, "nomap.safetensors.index.json"), "{\"metadata\": {}}"));
    CHECK(msg_has(pf_weights_open_file(path, &w), PF_ERR_FORMAT, "no map", path, "weight_map", NULL));

    CHECK(pf_test_write_str(path_of(path, sizeof path, "missing.safetensors.index.json"),
                            "{\"weight_map\": {\"a\": \"shard-1.safetensors\", \"b\": \"shard-2.safetensors\"}}"));
    CHECK(msg_has(pf_weights_open_file(path, &w), PF_ERR_NOT_FOUND, "missing shard", path, "shard-2.safetensors",
                  "'b'", "missing", NULL));

    CHECK(pf_test_write_str(path_of(path, sizeof path, "absent.safetensors.index.json"),
                            "{\"weight_map\": {\"a\": \"shard-1.safetensors\", \"zz\": \"shard-1.safetensors\"}}"));
    CHECK(msg_has(pf_weights_open_file(path, &w), PF_ERR_FORMAT, "tensor not in shard", path, "'zz'",
                  "listed in shard 'shard-1.safetensors' but not found", NULL));

    CHECK(pf_test_write_str(path_of(path, sizeof path, "badname.safetensors.index.json"),
                            "{\"weight_map\": {\"a\": 3}}"));
    CHECK(msg_has(pf_weights_open_file(path, &w), PF_ERR_FORMAT, "shard name", path, "'a'", "not a file name", NULL));
    CHECK(w == NULL);
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- torch zip / pickle */

static float storage0[6] = {1, 2, 3, 4, 5, 6};

/* Write a zip holding `pickle` as arch/data.pkl and storage0 as arch/data/0. */
static bool write_torch(const char *path, const pf_tbuf *pk, int pkl_method, size_t storage_bytes) {
    pf_tbuf zip = {0};
    pf_tzip_entry e[] = {{"arch/data.pkl", pk->p, pk->n, pkl_method}, {"arch/data/0", storage0, storage_bytes, 0}};
    pf_test_zip(&zip, e, 2, true);
    bool ok = pf_test_write(path, zip.p, zip.n);
    tb_free(&zip);
    return ok;
}

static const pf_tpk_tensor good_tensor = {"enc.w", "FloatStorage", "0", 6, 0, 2, {2, 3}, {3, 1}};

static pf_test_result torch_container(void) {
    char path[4096];
    pf_torchzip *z = NULL;
    pf_tbuf pk = {0};
    pk_state_dict(&pk, &good_tensor, 1, true);

    /* sanity: the untouched archive opens */
    CHECK(write_torch(path_of(path, sizeof path, "good.pt"), &pk, 0, sizeof storage0));
    CHECK_OK(pf_tz_open(path, &z));
    pf_tz_close(z);
    z = NULL;

    CHECK(write_torch(path_of(path, sizeof path, "deflate.pt"), &pk, 8, sizeof storage0));
    CHECK(msg_has(pf_tz_open(path, &z), PF_ERR_UNSUPPORTED, "compressed", path, "arch/data.pkl",
                  "compressed (method 8", NULL));

    /* a zip, but no data.pkl */
    pf_tbuf zip = {0};
    pf_tzip_entry e[] = {{"arch/other.txt", "hi", 2, 0}};
    pf_test_zip(&zip, e, 1, false);
    CHECK(pf_test_write(path_of(path, sizeof path, "nopkl.pt"), zip.p, zip.n));
    CHECK(msg_has(pf_tz_open(path, &z), PF_ERR_FORMAT, "no data.pkl", path, "data.pkl", "not written by torch.save",
                  NULL));

    /* the same zip cut in half: the end records are gone */
    CHECK(pf_test_write(path, zip.p, zip.n / 2));
    CHECK(msg_has(pf_tz_open(path, &z), PF_ERR_FORMAT, "cut zip", path, "not a zip archive", NULL));
    tb_free(&zip);

    /* a central directory pointing at a local header past the end */
    pf_tzip_entry e2[] = {{"arch/data.pkl", pk.p, pk.n, 0}};
    pf_test_zip(&zip, e2, 1, false);
    /* patch the local header offset of the only central entry (offset 42 into it) */
    size_t cd = zip.n - 22 - (46 + strlen("arch/data.pkl"));
    zip.p[cd + 42] = 0xff, zip.p[cd + 43] = 0xff, zip.p[cd + 44] = 0xff, zip.p[cd + 45] = 0x00;
    CHECK(pf_test_write(path_of(path, sizeof path, "badlocal.pt"), zip.p, zip.n));
    CHECK(msg_has(pf_tz_open(path, &z), PF_ERR_FORMAT, "bad local header", path, "arch/data.pkl",
                  "local header", NULL));
    tb_free(&zip);

    /* the same entry twice, and a big-endian archive */
    pf_tzip_entry e3[] = {{"arch/data.pkl", pk.p, pk.n, 0}, {"arch/data.pkl", pk.p, pk.n, 0}};
    pf_test_zip(&zip, e3, 2, false);
    CHECK(pf_test_write(path_of(path, sizeof path, "twice.pt"), zip.p, zip.n));
    CHECK(msg_has(pf_tz_open(path, &z), PF_ERR_FORMAT, "entry twice", path, "'arch/data.pkl' appears twice", NULL));
    tb_free(&zip);
    pf_tzip_entry e4[] = {{"arch/data.pkl", pk.p, pk.n, 0}, {"arch/byteorder", "big", 3, 0},
                          {"arch/data/0", storage0, sizeof storage0, 0}};
    pf_test_zip(&zip, e4, 3, false);
    CHECK(pf_test_write(path_of(path, sizeof path, "bigendian.pt"), zip.p, zip.n));
    CHECK(msg_has(pf_tz_open(path, &z), PF_ERR_UNSUPPORTED, "big endian", path, "big-endian", NULL));
    tb_free(&zip);

    /* the legacy format: a bare pickle */
    CHECK(pf_test_write(path_of(path, sizeof path, "legacy.pt"), pk.p, pk.n));
    CHECK(msg_has(pf_tz_open(path, &z), PF_ERR_UNSUPPORTED, "legacy", path, "legacy torch.save format", NULL));

    /* the storage entry holds fewer bytes than its declared 6 floats */
    CHECK(write_torch(path_of(path, sizeof path, "small_storage.pt"), &pk, 0, 5 * sizeof(float)));
    CHECK(msg_has(pf_tz_open(path, &z), PF_ERR_FORMAT, "small storage", path, "storage '0'", "too small", NULL));
    CHECK(z == NULL);
    tb_free(&pk);
    return PF_T_PASS;
}

/* Pickle programs that are wrong in one way each. */
static pf_test_result torch_pickles(void) {
    char path[4096];
    pf_torchzip *z = NULL;
    pf_tbuf pk = {0};
    int bad = 0;
#define PICKLE_CASE(file, status, ...)                                                    \
    do {                                                                                  \
        CHECK(write_torch(path_of(path, sizeof path, file), &pk, 0, sizeof storage0));    \
        if (!msg_has(pf_tz_open(path, &z), status, file, path, __VA_ARGS__, NULL)) bad++; \
        CHECK(z == NULL);                                                                 \
        tb_free(&pk);                                                                     \
    } while (0)

    /* an opcode torch never writes (INST, 'i') */
    pk_state_dict(&pk, &good_tensor, 1, false);
    tb_u8(&pk, 'i');
    PICKLE_CASE("bad_opcode.pt", PF_ERR_FORMAT, "unsupported pickle opcode 'i'", "offset");

    /* a byte that is no opcode at all */
    pk_state_dict(&pk, &good_tensor, 1, false);
    tb_u8(&pk, 0xfe);
    PICKLE_CASE("bad_byte.pt", PF_ERR_FORMAT, "opcode 0xfe", "unsupported pickle opcode");

    /* cut before STOP, and cut inside a string */
    pk_state_dict(&pk, &good_tensor, 1, false);
    PICKLE_CASE("no_stop.pt", PF_ERR_FORMAT, "truncated", "without STOP");
    pk_state_dict(&pk, &good_tensor, 1, true);
    pk.n = 40;
    PICKLE_CASE("cut_pickle.pt", PF_ERR_FORMAT, "truncated");

    /* storage key naming an entry the zip lacks */
    pf_tpk_tensor t = good_tensor;
    t.key = "9";
    pk_state_dict(&pk, &t, 1, true);
    PICKLE_CASE("missing_storage.pt", PF_ERR_FORMAT, "storage '9' is missing", "arch/data/9");

    /* a tensor reading past its storage: [3, 3] of a 6-element storage */
    t = good_tensor;
    t.shape[0] = 3;
    pk_state_dict(&pk, &t, 1, true);
    PICKLE_CASE("tensor_too_big.pt", PF_ERR_FORMAT, "'enc.w'", "storage '0'", "too small for the tensor");

    /* an offset past the storage */
    t = good_tensor;
    t.offset = 5;
    pk_state_dict(&pk, &t, 1, true);
    PICKLE_CASE("offset_past.pt", PF_ERR_FORMAT, "'enc.w'", "too small for the tensor");

    /* an unknown storage class and a global that is not torch's */
    t = good_tensor;
    t.storage = "QInt8Storage";
    pk_state_dict(&pk, &t, 1, true);
    PICKLE_CASE("qint_storage.pt", PF_ERR_FORMAT, "unsupported global 'torch.QInt8Storage'");
    t.storage = "CharStorage";
    pk_state_dict(&pk, &t, 1, true);
    PICKLE_CASE("int8_storage.pt", PF_ERR_FORMAT, "torch.CharStorage", "no pflow dtype");
    tb_u8(&pk, 0x80), tb_u8(&pk, 2);
    pk_global(&pk, "numpy.core.multiarray", "_reconstruct");
    tb_u8(&pk, '.');
    PICKLE_CASE("numpy_global.pt", PF_ERR_FORMAT, "unsupported global 'numpy.core.multiarray._reconstruct'");

    /* not a dict at the top, and a dict value that is not a tensor */
    tb_u8(&pk, 0x80), tb_u8(&pk, 2), tb_u8(&pk, ']'), tb_u8(&pk, '.');
    PICKLE_CASE("top_list.pt", PF_ERR_FORMAT, "holds a list, not a state dict");
    tb_u8(&pk, 0x80), tb_u8(&pk, 2), tb_u8(&pk, '}');
    pk_str(&pk, "step");
    pk_int(&pk, 1000);
    tb_u8(&pk, 's'), tb_u8(&pk, '.');
    PICKLE_CASE("int_value.pt", PF_ERR_FORMAT, "'step' is an int, not a tensor");

    /* memo and stack misuse */
    tb_u8(&pk, 0x80), tb_u8(&pk, 2), tb_u8(&pk, 'h'), tb_u8(&pk, 7), tb_u8(&pk, '.');
    PICKLE_CASE("memo_unset.pt", PF_ERR_FORMAT, "memo index 7 was never stored");
    tb_u8(&pk, 0x80), tb_u8(&pk, 2), tb_u8(&pk, 'R'), tb_u8(&pk, '.');
    PICKLE_CASE("underflow.pt", PF_ERR_FORMAT, "stack underflow");
    tb_u8(&pk, 0x80), tb_u8(&pk, 2), tb_u8(&pk, 't'), tb_u8(&pk, '.');
    PICKLE_CASE("no_mark.pt", PF_ERR_FORMAT, "no MARK");
    tb_u8(&pk, 0x80), tb_u8(&pk, 2), tb_u8(&pk, 0x8a), tb_u8(&pk, 9);
    for (int i = 0; i < 9; i++) tb_u8(&pk, 0xff);
    tb_u8(&pk, '.');
    PICKLE_CASE("long9.pt", PF_ERR_FORMAT, "does not fit in 64 bits");
    tb_u8(&pk, 0x80), tb_u8(&pk, 2), tb_u8(&pk, 'X');
    tb_u32(&pk, 0x7fffffff);
    tb_str(&pk, "abc");
    PICKLE_CASE("string_len.pt", PF_ERR_FORMAT, "runs past the end");
    tb_u8(&pk, 0x80), tb_u8(&pk, 2), tb_u8(&pk, ']'), tb_u8(&pk, 'r');
    tb_u32(&pk, 0xfffffff0u);
    tb_u8(&pk, '.');
    PICKLE_CASE("memo_huge.pt", PF_ERR_FORMAT, "memo index", "absurd");
    /* persistent id of the wrong shape */
    tb_u8(&pk, 0x80), tb_u8(&pk, 2);
    pk_str(&pk, "storage");
    tb_u8(&pk, 0x85), tb_u8(&pk, 'Q'), tb_u8(&pk, '.');
    PICKLE_CASE("bad_pid.pt", PF_ERR_FORMAT, "persistent id");
#undef PICKLE_CASE
    CHECK(bad == 0);
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- config JSON */

static pf_test_result config_json(void) {
    char path[4096];
    pf_json *j = NULL;
    CHECK(pf_test_write_str(path_of(path, sizeof path, "config.json"), "{\n  \"a\": 1,\n  \"b\": [1, 2,]\n}"));
    CHECK(msg_has(pf_json_load(path, &j), PF_ERR_FORMAT, "config", path, "invalid JSON at line 3", NULL));
    CHECK(pf_test_write_str(path, "{\"a\": 1} {\"b\": 2}"));
    CHECK(msg_has(pf_json_load(path, &j), PF_ERR_FORMAT, "two docs", path, "unexpected text after", NULL));
    CHECK(pf_test_write_str(path, ""));
    CHECK(msg_has(pf_json_load(path, &j), PF_ERR_FORMAT, "empty", path, "invalid JSON", NULL));
    CHECK(msg_has(pf_json_load(path_of(path, sizeof path, "nope.json"), &j), PF_ERR_IO, "missing", path, NULL));
    CHECK(j == NULL);
    return PF_T_PASS;
}

/* Each test gets its own temporary folder. */
static pf_test_result with_tmp(pf_test_result (*fn)(void)) {
    tmp = pf_test_tmpdir("malformed");
    CHECK(tmp);
    pf_test_result r = fn();
    pf_test_rmtree(tmp);
    tmp = NULL;
    return r;
}

#define TMP_TEST(name) \
    static pf_test_result test_##name(void) { return with_tmp(name); }
TMP_TEST(safetensors_headers)
TMP_TEST(safetensors_lengths)
TMP_TEST(index_files)
TMP_TEST(torch_container)
TMP_TEST(torch_pickles)
TMP_TEST(config_json)

PF_TEST_MAIN(PF_TEST(test_safetensors_headers), PF_TEST(test_safetensors_lengths), PF_TEST(test_index_files),
             PF_TEST(test_torch_container), PF_TEST(test_torch_pickles), PF_TEST(test_config_json))
