/*
 * Text encoders against the golden pack (README §11): every case whose metadata
 * kind is "text_encoder" is run directly through pf_t5_* / pf_clip_* on the CPU
 * and each out.* tensor is compared: f32 (reference and fast kernels) max abs
 * <= 1e-4; bf16 weights nmse <= 2e-3.
 */
#include "pf_golden.h"
#include "pf_json.h"
#include "pf_safetensors.h"
#include "pf_test.h"
#include "pf_text.h"

#include <dirent.h>

typedef struct {
    double max_abs, nmse;
} cmp_result;

/* Compare `got` with the case's f32 tensor `name`. */
static pf_status compare(const pf_st_file *f, const char *name, const float *got, size_t n, cmp_result *r) {
    const pf_st_tensor *t = pf_st_find(f, name);
    if (!t) return pf_error(PF_ERR_NOT_FOUND, "%s: no %s", pf_st_path(f), name);
    if (t->dtype != PF_F32 || t->nbytes != n * sizeof(float))
        return pf_error(PF_ERR_SHAPE, "%s: %s has %zu bytes, produced %zu values", pf_st_path(f), name, t->nbytes, n);
    const float *want = t->data;
    double num = 0.0, den = 0.0, mx = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        if (!(fabs(d) <= mx)) mx = isnan(d) ? INFINITY : fmax(mx, fabs(d));
        num += d * d;
        den += (double)want[i] * want[i];
    }
    r->max_abs = fmax(r->max_abs, mx);
    r->nmse = fmax(r->nmse, den > 0.0 ? num / den : num);
    return PF_OK;
}

static int32_t *ids_i32(const pf_st_file *f, const char *name, int *B, int *L) {
    const pf_st_tensor *t = pf_st_find(f, name);
    if (!t || t->ndim != 2 || (t->dtype != PF_I64 && t->dtype != PF_I32)) return NULL;
    *B = (int)t->shape[0];
    *L = (int)t->shape[1];
    size_t n = (size_t)*B * (size_t)*L;
    int32_t *r = malloc(sizeof(int32_t) * n);
    if (r) pf_convert(r, PF_I32, t->data, t->dtype, n);
    return r;
}

/* Run one case; the model type comes from model_dir/config.json. */
static pf_status run_case(const pf_st_file *f, const char *model_dir, pf_backend *be, pf_dtype dt, cmp_result *r) {
    char *cpath = pf_path_join(model_dir, "config.json");
    pf_json *j;
    pf_status rc = pf_json_load(cpath, &j);
    free(cpath);
    if (rc != PF_OK) return rc;
    pf_status rc2 = PF_OK;
    bool t5 = !strcmp(pf_json_opt_str(j, "model_type", "", &rc2), "t5");
    pf_json_free(j);
    int B = 0, L = 0, mb, ml;
    int32_t *ids = ids_i32(f, "in.input_ids", &B, &L);
    if (!ids) return pf_error(PF_ERR_FORMAT, "%s: bad in.input_ids", pf_st_path(f));
    if (t5) {
        int32_t *mask = ids_i32(f, "in.attention_mask", &mb, &ml);
        pf_t5 *m = NULL;
        float *h = NULL;
        rc = pf_t5_load(model_dir, be, dt, &m);
        size_t n = rc == PF_OK ? (size_t)B * L * pf_t5_dim(m) : 0;
        if (rc == PF_OK) h = malloc(sizeof(float) * n);
        if (rc == PF_OK) rc = pf_t5_encode(m, ids, mask, B, L, h);
        if (rc == PF_OK) rc = compare(f, "out.last_hidden_state", h, n, r);
        if (rc == PF_OK && pf_st_find(f, "out.last_hidden_state_no_mask")) {
            rc = pf_t5_encode(m, ids, NULL, B, L, h);
            if (rc == PF_OK) rc = compare(f, "out.last_hidden_state_no_mask", h, n, r);
        }
        free(h);
        free(mask);
        pf_t5_free(m);
    } else {
        pf_clip *m = NULL;
        float *h = NULL, *p = NULL, *t = NULL;
        rc = pf_clip_load(model_dir, be, dt, &m);
        size_t D = rc == PF_OK ? (size_t)pf_clip_dim(m) : 0, P = rc == PF_OK ? (size_t)pf_clip_projection_dim(m) : 0;
        if (rc == PF_OK) {
            h = malloc(sizeof(float) * (size_t)B * L * D);
            p = malloc(sizeof(float) * (size_t)B * D);
            t = malloc(sizeof(float) * (size_t)B * (P ? P : 1));
            rc = pf_clip_encode(m, ids, B, L, h, p, P ? t : NULL);
        }
        if (rc == PF_OK) rc = compare(f, "out.last_hidden_state", h, (size_t)B * L * D, r);
        if (rc == PF_OK && pf_st_find(f, "out.pooler_output"))
            rc = compare(f, "out.pooler_output", p, (size_t)B * D, r);
        if (rc == PF_OK && pf_st_find(f, "out.text_embeds")) rc = compare(f, "out.text_embeds", t, (size_t)B * P, r);
        free(h);
        free(p);
        free(t);
        pf_clip_free(m);
    }
    free(ids);
    return rc;
}

static pf_test_result test_text_cases(void) {
    const char *pack = pf_test_golden_dir();
    char *cases = pack ? pf_path_join(pack, "cases") : NULL;
    DIR *d = cases ? opendir(cases) : NULL;
    if (!d) {
        free(cases);
        SKIP("no golden pack (PF_GOLDEN_DIR)");
    }
    pf_backend *ref = NULL, *fast = NULL;
    pf_backend_options o = {.device = -1, .threads = 0, .reference = true};
    CHECK_OK(pf_backend_create("cpu", &o, &ref));
    o.reference = false;
    CHECK_OK(pf_backend_create("cpu", &o, &fast));
    int n_cases = 0;
    struct dirent *e;
    bool ok = true;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 13 || strcmp(e->d_name + len - 12, ".safetensors")) continue;
        char *path = pf_path_join(cases, e->d_name);
        pf_st_file *f = NULL;
        pf_json *meta = NULL;
        const char *mj = NULL, *kind = "", *mdir = NULL;
        pf_status rc = pf_st_open(path, &f);
        free(path);
        if (rc == PF_OK) mj = pf_st_metadata(f, "case");
        if (mj && pf_json_parse(mj, strlen(mj), e->d_name, &meta) == PF_OK) {
            kind = pf_json_opt_str(meta, "kind", "", &rc);
            mdir = pf_json_opt_str(meta, "model_dir", NULL, &rc);
        }
        if (!strcmp(kind, "text_encoder") && mdir) {
            n_cases++;
            char *model_dir = mdir[0] == '/' ? pf_strdup(mdir) : pf_path_join(pack, mdir);
            struct {
                pf_backend *be;
                pf_dtype dt;
                const char *what;
            } runs[3] = {{ref, PF_F32, "f32 reference"}, {fast, PF_F32, "f32 fast"}, {fast, PF_BF16, "bf16 weights"}};
            for (int k = 0; k < 3; k++) {
                cmp_result r = {0, 0};
                rc = run_case(f, model_dir, runs[k].be, runs[k].dt, &r);
                bool pass = rc == PF_OK && (runs[k].dt == PF_F32 ? r.max_abs <= 1e-4 : r.nmse <= 2e-3);
                fprintf(stderr, "  %-36s %-14s %s max_abs=%.3g nmse=%.3g%s%s\n", e->d_name, runs[k].what,
                        pass ? "PASS" : "FAIL", r.max_abs, r.nmse, rc != PF_OK ? ": " : "",
                        rc != PF_OK ? pf_last_error() : "");
                ok = ok && pass;
            }
            free(model_dir);
        }
        pf_json_free(meta);
        pf_st_close(f);
    }
    closedir(d);
    free(cases);
    pf_backend_free(ref);
    pf_backend_free(fast);
    if (!n_cases) SKIP("the pack has no text_encoder cases");
    CHECK(ok);
    return PF_T_PASS;
}

/* The same cases through check-golden's framework and the registered runner. */
static pf_test_result test_check_golden_text(void) {
    const char *pack = pf_test_golden_dir();
    char *cases = pack ? pf_path_join(pack, "cases") : NULL;
    bool have = cases && pf_dir_exists(cases);
    free(cases);
    if (!have) SKIP("no golden pack (PF_GOLDEN_DIR)");
    static const pf_dtype dts[2] = {PF_F32, PF_BF16};
    for (int k = 0; k < 2; k++) {
        pf_golden_opts o = {.backend = "cpu", .dtype = dts[k], .filter = "text_", .threads = 0};
        int passed = 0, failed = 0, skipped = 0;
        pf_status rc = pf_golden_check_pack(pack, &o, stderr, &passed, &failed, &skipped);
        CHECK_MSG(rc == PF_OK && failed == 0 && skipped == 0, "%d passed, %d failed, %d skipped: %s", passed, failed,
                  skipped, pf_last_error());
        if (passed == 0) SKIP("the pack has no text_* cases");
    }
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_text_cases), PF_TEST(test_check_golden_text))
