/* safetensors reader and writer: the golden pack's files checked against an
 * independent reading of their headers, and writer round trips. */
#include "pf_safetensors.h"
#include "pf_test.h"
#include "pf_test_files.h"

#include <cjson/cJSON.h>
#include <dirent.h>

/* Independent check of one file: parse the header with cJSON directly, read the bytes
 * with stdio, and compare every tensor the reader reports (name, order, dtype, shape,
 * bytes) and the metadata. */
static pf_test_result check_against_raw(const char *path, const pf_st_file *f) {
    char *raw;
    size_t len;
    CHECK_OK(pf_read_file(path, &raw, &len));
    CHECK(len >= 8);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | (uint8_t)raw[i];
    CHECK(hlen % 8 == 0); /* README: header padded to a multiple of 8 */
    cJSON *h = cJSON_ParseWithLength(raw + 8, (size_t)hlen);
    CHECK(h);
    const uint8_t *data = (const uint8_t *)raw + 8 + hlen;
    int k = 0;
    pf_test_result r = PF_T_PASS;
    for (const cJSON *e = h->child; e && r == PF_T_PASS; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            for (const cJSON *m = e->child; m; m = m->next) {
                const char *v = pf_st_metadata(f, m->string);
                if (!v || strcmp(v, m->valuestring)) r = PF_T_FAIL;
            }
            continue;
        }
        const pf_st_tensor *t = pf_st_at(f, k++);
        if (!t || strcmp(t->name, e->string) || pf_st_find(f, e->string) != t) {
            fprintf(stderr, "  %s: tensor %d is not '%s'\n", path, k - 1, e->string);
            r = PF_T_FAIL;
            break;
        }
        const cJSON *dt = cJSON_GetObjectItem(e, "dtype"), *sh = cJSON_GetObjectItem(e, "shape"),
                    *off = cJSON_GetObjectItem(e, "data_offsets");
        pf_dtype want;
        if (pf_dtype_parse(dt->valuestring, &want) != PF_OK || want != t->dtype) r = PF_T_FAIL;
        if (cJSON_GetArraySize(sh) != t->ndim) r = PF_T_FAIL;
        for (int d = 0; d < t->ndim && r == PF_T_PASS; d++)
            if ((int64_t)cJSON_GetArrayItem(sh, d)->valuedouble != t->shape[d]) r = PF_T_FAIL;
        size_t b = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble, en = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
        if (t->nbytes != en - b || memcmp(t->data, data + b, t->nbytes)) r = PF_T_FAIL;
        if ((uintptr_t)t->data % pf_dtype_size(t->dtype)) r = PF_T_FAIL;
        if (r != PF_T_PASS) fprintf(stderr, "  %s: tensor '%s' differs from the raw header/bytes\n", path, t->name);
    }
    if (r == PF_T_PASS && k != pf_st_count(f)) r = PF_T_FAIL;
    cJSON_Delete(h);
    free(raw);
    return r;
}

static pf_test_result test_golden_weight_files(void) {
    const char *g = pf_test_golden_dir();
    if (!g || !pf_dir_exists(g)) SKIP("no golden pack");
    static const char *const files[] = {
        "miniflux/diffusion_transformer_384p/diffusion_pytorch_model.safetensors",
        "miniflux/causal_video_vae/diffusion_pytorch_model.safetensors",
        "sd3/diffusion_transformer_384p/diffusion_pytorch_model.safetensors",
        "sd3/causal_video_vae/diffusion_pytorch_model.safetensors",
    };
    int checked = 0;
    for (size_t i = 0; i < PF_ARRAY_LEN(files); i++) {
        char path[4096];
        pf_test_fmt(path, sizeof path, "%s/%s", g, files[i]);
        if (!pf_file_exists(path)) continue;
        pf_st_file *f;
        CHECK_OK(pf_st_open(path, &f));
        CHECK(pf_st_count(f) > 0);
        CHECK(!strcmp(pf_st_path(f), path));
        /* README: weight files are state_dict names sorted alphabetically, format "pt" */
        const char *fmt = pf_st_metadata(f, "format");
        CHECK(fmt && !strcmp(fmt, "pt"));
        CHECK(pf_st_metadata(f, "no such key") == NULL);
        for (int k = 1; k < pf_st_count(f); k++) CHECK(strcmp(pf_st_at(f, k - 1)->name, pf_st_at(f, k)->name) < 0);
        CHECK(pf_st_at(f, -1) == NULL && pf_st_at(f, pf_st_count(f)) == NULL);
        CHECK(pf_st_find(f, "no.such.tensor") == NULL);
        pf_test_result r = check_against_raw(path, f);
        pf_st_close(f);
        if (r != PF_T_PASS) return r;
        checked++;
    }
    if (!checked) SKIP("no weight files in the golden pack");
    return PF_T_PASS;
}

/* Every case file opens, has JSON "case" metadata with a kind, and only in.* / out.* tensors. */
static pf_test_result test_golden_cases(void) {
    const char *g = pf_test_golden_dir();
    char dir[4096];
    if (!g || !pf_dir_exists(pf_test_fmt(dir, sizeof dir, "%s/cases", g))) SKIP("no golden cases");
    DIR *d = opendir(dir);
    CHECK(d);
    struct dirent *e;
    int n = 0;
    pf_test_result r = PF_T_PASS;
    while (r == PF_T_PASS && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 12 || strcmp(e->d_name + l - 12, ".safetensors")) continue;
        char path[4200];
        pf_test_fmt(path, sizeof path, "%s/%s", dir, e->d_name);
        pf_st_file *f;
        if (pf_st_open(path, &f) != PF_OK) {
            fprintf(stderr, "  %s\n", pf_last_error());
            r = PF_T_FAIL;
            break;
        }
        const char *meta = pf_st_metadata(f, "case");
        cJSON *m = meta ? cJSON_Parse(meta) : NULL;
        if (!m || !cJSON_IsString(cJSON_GetObjectItem(m, "kind"))) r = PF_T_FAIL;
        for (int k = 0; k < pf_st_count(f) && r == PF_T_PASS; k++) {
            const char *nm = pf_st_at(f, k)->name;
            if (strncmp(nm, "in.", 3) && strncmp(nm, "out.", 4)) r = PF_T_FAIL;
        }
        if (r == PF_T_PASS) r = check_against_raw(path, f);
        if (r != PF_T_PASS) fprintf(stderr, "  %s: bad case file\n", path);
        cJSON_Delete(m);
        pf_st_close(f);
        n++;
    }
    closedir(d);
    if (r != PF_T_PASS) return r;
    if (!n) SKIP("no case files");
    return PF_T_PASS;
}

/* Every dtype, scalar and empty tensors, names and metadata needing JSON escapes. */
static pf_test_result test_write_round_trip(void) {
    char *dir = pf_test_tmpdir("st-write");
    CHECK(dir);
    char path[4096];
    pf_test_fmt(path, sizeof path, "%s/rt.safetensors", dir);
    float f32[6] = {1.5f, -2.25f, 3.0f, 0.0f, -0.0f, 1e30f};
    uint16_t bf16[3] = {0x3f80, 0xc020, 0x7f80}, f16[2] = {0x3c00, 0xc100};
    int32_t i32[2] = {-7, 2147483647};
    int64_t i64[3] = {-5, 1000000000000LL, INT64_MIN};
    uint8_t u8[3] = {0, 128, 255}, bl[3] = {1, 0, 1};
    double f64[1] = {0.1};
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s2[1] = {2}, s0[2] = {0, 4}, s111[3] = {1, 1, 1};
    pf_st_write_tensor t[] = {
        {"f32", PF_F32, 2, s23, f32},   {"bf16", PF_BF16, 1, s3, bf16},      {"f16", PF_F16, 1, s2, f16},
        {"i32", PF_I32, 1, s2, i32},    {"i64 \"quoted\"\\", PF_I64, 1, s3, i64}, {"u8", PF_U8, 1, s3, u8},
        {"bool", PF_BOOL, 1, s3, bl},   {"scalar", PF_F64, 0, NULL, f64},   {"empty", PF_F32, 2, s0, NULL},
        {"f64.111", PF_F64, 3, s111, f64},
    };
    const char *keys[] = {"format", "case"}, *vals[] = {"pt", "{\"kind\": \"dit\",\n\t\"x\": \"\xc3\xa9\"}"};
    CHECK_OK(pf_st_write(path, t, (int)PF_ARRAY_LEN(t), keys, vals, 2));
    pf_st_file *f;
    CHECK_OK(pf_st_open(path, &f));
    CHECK(pf_st_count(f) == (int)PF_ARRAY_LEN(t));
    for (int i = 0; i < (int)PF_ARRAY_LEN(t); i++) {
        const pf_st_tensor *r = pf_st_at(f, i);
        CHECK(!strcmp(r->name, t[i].name)); /* keys in the given order */
        CHECK(pf_st_find(f, t[i].name) == r);
        CHECK(r->dtype == t[i].dtype && r->ndim == t[i].ndim);
        size_t n = pf_dtype_size(t[i].dtype);
        for (int d = 0; d < t[i].ndim; d++) {
            CHECK(r->shape[d] == t[i].shape[d]);
            n *= (size_t)t[i].shape[d];
        }
        CHECK(r->nbytes == n);
        CHECK(n == 0 || !memcmp(r->data, t[i].data, n));
        CHECK((uintptr_t)r->data % 8 == 0); /* 8-byte aligned data in an 8-byte aligned section */
    }
    CHECK(!strcmp(pf_st_metadata(f, "format"), "pt"));
    CHECK(!strcmp(pf_st_metadata(f, "case"), vals[1]));
    pf_st_close(f);
    /* The header is space-padded to a multiple of 8 and followed by the data. */
    char *raw;
    size_t len;
    CHECK_OK(pf_read_file(path, &raw, &len));
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | (uint8_t)raw[i];
    CHECK(hlen % 8 == 0 && hlen + 8 <= len);
    CHECK(raw[8 + hlen - 1] == ' ' || raw[8 + hlen - 1] == '}');
    /* Same bytes through pf_st_open_memory. */
    CHECK_OK(pf_st_open_memory(raw, len, "mem", &f));
    CHECK(pf_st_count(f) == (int)PF_ARRAY_LEN(t));
    CHECK(!strcmp(pf_st_path(f), "mem"));
    CHECK(!memcmp(pf_st_find(f, "f32")->data, f32, sizeof f32));
    pf_st_close(f);
    free(raw);

    /* No tensors, no metadata: "{}" padded. */
    pf_test_fmt(path, sizeof path, "%s/empty.safetensors", dir);
    CHECK_OK(pf_st_write(path, NULL, 0, NULL, NULL, 0));
    CHECK_OK(pf_st_open(path, &f));
    CHECK(pf_st_count(f) == 0 && pf_st_metadata(f, "format") == NULL);
    pf_st_close(f);
    pf_test_rmtree(dir);
    return PF_T_PASS;
}

static pf_test_result test_write_rejects_bad_input(void) {
    char *dir = pf_test_tmpdir("st-write-bad");
    CHECK(dir);
    char path[4096];
    pf_test_fmt(path, sizeof path, "%s/bad.safetensors", dir);
    float v[2] = {1, 2};
    int64_t s2[1] = {2}, neg[1] = {-1};
    pf_st_write_tensor dup[] = {{"a", PF_F32, 1, s2, v}, {"a", PF_F32, 1, s2, v}};
    CHECK_ERR(pf_st_write(path, dup, 2, NULL, NULL, 0), PF_ERR_INVALID_ARG, "'a' given twice");
    pf_st_write_tensor negt[] = {{"n", PF_F32, 1, neg, v}};
    CHECK_ERR(pf_st_write(path, negt, 1, NULL, NULL, 0), PF_ERR_INVALID_ARG, "negative dim");
    pf_st_write_tensor nodata[] = {{"d", PF_F32, 1, s2, NULL}};
    CHECK_ERR(pf_st_write(path, nodata, 1, NULL, NULL, 0), PF_ERR_INVALID_ARG, "NULL data");
    pf_st_write_tensor meta[] = {{"__metadata__", PF_F32, 1, s2, v}};
    CHECK_ERR(pf_st_write(path, meta, 1, NULL, NULL, 0), PF_ERR_INVALID_ARG, "invalid name");
    CHECK(!pf_file_exists(path)); /* nothing written on bad input */
    char nodir[4200];
    pf_test_fmt(nodir, sizeof nodir, "%s/missing/x.safetensors", dir);
    pf_st_write_tensor ok[] = {{"a", PF_F32, 1, s2, v}};
    const char *want = nodir;
    CHECK_ERR(pf_st_write(nodir, ok, 1, NULL, NULL, 0), PF_ERR_IO, want);
    pf_test_rmtree(dir);
    return PF_T_PASS;
}

/* A header whose length is not a multiple of 8 (old writers) leaves f32 data misaligned in
 * the file; the reader hands out aligned copies with the same values. */
static pf_test_result test_misaligned_data_is_copied(void) {
    float v[3] = {1.0f, -2.5f, 1e-3f};
    _Alignas(16) uint8_t buf[256];
    char hdr[160] = "{\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                    "\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[1,13]}}";
    /* x starts 1 byte into the data section at 8 + hl: make sure that is not 4-aligned */
    while ((8 + strlen(hdr) + 1) % 4 == 0) strcat(hdr, " ");
    size_t hl = strlen(hdr), pos = 0;
    for (int i = 0; i < 8; i++) buf[pos++] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(buf + pos, hdr, hl);
    pos += hl;
    buf[pos++] = 7;
    memcpy(buf + pos, v, sizeof v);
    pos += sizeof v;
    pf_st_file *f;
    CHECK_OK(pf_st_open_memory(buf, pos, "misaligned", &f));
    const pf_st_tensor *x = pf_st_find(f, "x");
    CHECK(x && (uintptr_t)x->data % 4 == 0);
    CHECK(!memcmp(x->data, v, sizeof v));
    CHECK(*(const uint8_t *)pf_st_find(f, "u")->data == 7);
    pf_st_close(f);
    return PF_T_PASS;
}

/* Tensors of more dims than the graph handles (the golden debug tensors have 6) still open. */
static pf_test_result test_many_dims(void) {
    float v[64];
    for (int i = 0; i < 64; i++) v[i] = (float)i;
    int64_t s[6] = {2, 2, 2, 2, 2, 2};
    pf_st_write_tensor t[] = {{"six", PF_F32, 6, s, v}};
    char *dir = pf_test_tmpdir("st-dims");
    CHECK(dir);
    char path[4096];
    pf_test_fmt(path, sizeof path, "%s/six.safetensors", dir);
    CHECK_OK(pf_st_write(path, t, 1, NULL, NULL, 0));
    pf_st_file *f;
    CHECK_OK(pf_st_open(path, &f));
    CHECK(pf_st_at(f, 0)->ndim == 6 && pf_st_at(f, 0)->shape[5] == 2);
    CHECK(!memcmp(pf_st_at(f, 0)->data, v, sizeof v));
    pf_st_close(f);
    pf_test_rmtree(dir);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_golden_weight_files), PF_TEST(test_golden_cases), PF_TEST(test_write_round_trip),
             PF_TEST(test_write_rejects_bad_input), PF_TEST(test_misaligned_data_is_copied), PF_TEST(test_many_dims))
