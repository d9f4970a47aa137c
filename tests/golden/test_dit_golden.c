/*
 * The DiT against the official outputs: every dit_* case of the golden pack, on the CPU
 * backend at f32 with the fast and the reference kernels (max abs <= 1e-4), the debug
 * intermediates where a case has them (out.dbg.*: temb, text and image tokens, the
 * rotary table, the attention mask, every block, norm_out), and bf16 weights (nmse).
 * Nothing depends on the pack's sizes: shapes come from the case files.
 */
#include "dit_internal.h"
#include "pf_json.h"
#include "pf_safetensors.h"
#include "pf_test.h"

#include <dirent.h>

#define DIT_TOL 1e-4
#define DIT_BF16_NMSE 2e-3

typedef struct {
    double max_abs, nmse;
} cmp_result;

static cmp_result compare(const float *got, const pf_st_tensor *ref) {
    size_t n = ref->nbytes / pf_dtype_size(ref->dtype);
    double err2 = 0, ref2 = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        double r = pf_load_elem(ref->data, ref->dtype, i), d = (double)got[i] - r;
        if (isnan(d)) mx = INFINITY;
        mx = fmax(mx, fabs(d));
        err2 += d * d;
        ref2 += r * r;
    }
    return (cmp_result){mx, ref2 > 0 ? err2 / ref2 : err2};
}

static size_t st_nelem(const pf_st_tensor *t) { return t->nbytes / pf_dtype_size(t->dtype); }

/* A case: its file, metadata and the model folder it names. */
typedef struct {
    char name[128];
    pf_st_file *f;
    char *model_dir;
} dit_case;

static void case_free(dit_case *c) {
    pf_st_close(c->f);
    free(c->model_dir);
}

/* Open cases/NAME.safetensors if its kind is "dit". Returns false (and *skip) otherwise. */
static pf_status case_open(const char *pack, const char *file, dit_case *c, bool *is_dit) {
    memset(c, 0, sizeof *c);
    *is_dit = false;
    snprintf(c->name, sizeof c->name, "%.*s", (int)(strlen(file) - strlen(".safetensors")), file);
    char *cases = pf_path_join(pack, "cases");
    char *path = cases ? pf_path_join(cases, file) : NULL;
    free(cases);
    if (!path) return PF_ERR_OOM;
    pf_status rc = pf_st_open(path, &c->f);
    free(path);
    PF_TRY(rc);
    const char *meta = pf_st_metadata(c->f, "case");
    if (!meta) return PF_OK;
    pf_json *j = NULL;
    PF_TRY(pf_json_parse(meta, strlen(meta), c->name, &j));
    const char *kind = NULL, *dir = NULL;
    rc = pf_json_str(j, "kind", &kind);
    if (rc == PF_OK && !strcmp(kind, "dit")) {
        rc = pf_json_str(j, "model_dir", &dir);
        if (rc == PF_OK) {
            c->model_dir = pf_path_join(pack, dir);
            *is_dit = true;
        }
    }
    pf_json_free(j);
    return rc;
}

/* Inputs of a case on the backend. */
typedef struct {
    pf_pool *pool;
    pf_dit_inputs in;
    float *ts;
    int32_t mask[1 << 16];
    pf_tensor *vel;
} case_inputs;

static pf_tensor *upload(pf_pool *pool, const pf_st_tensor *t) {
    if (!t || t->ndim > PF_MAX_DIMS) return NULL;
    pf_tensor *x = pf_pool_tensor(pool, PF_F32, t->ndim, t->shape, t->name);
    if (!x) return NULL;
    size_t n = st_nelem(t);
    float *h = malloc(n * sizeof(float));
    if (!h) return NULL;
    pf_convert(h, PF_F32, t->data, t->dtype, n);
    pf_status rc = pf_tensor_set(x, h, n * sizeof(float));
    free(h);
    return rc == PF_OK ? x : NULL;
}

static bool inputs_make(pf_backend *be, const dit_case *c, case_inputs *ci) {
    memset(&ci->in, 0, sizeof ci->in);
    ci->ts = NULL;
    if (pf_pool_create(be, 0, &ci->pool) != PF_OK) return false;
    for (int i = 0; i < PF_DIT_MAX_CLIPS; i++) {
        char name[32];
        snprintf(name, sizeof name, "in.clip%d", i);
        const pf_st_tensor *t = pf_st_find(c->f, name);
        if (!t) break;
        if (!(ci->in.clips[i] = upload(ci->pool, t))) return false;
        ci->in.n_clips = i + 1;
    }
    const pf_st_tensor *text = pf_st_find(c->f, "in.encoder_hidden_states");
    const pf_st_tensor *mask = pf_st_find(c->f, "in.encoder_attention_mask");
    const pf_st_tensor *ts = pf_st_find(c->f, "in.timestep");
    if (!ci->in.n_clips || !text || !mask || !ts || st_nelem(mask) > PF_ARRAY_LEN(ci->mask)) return false;
    ci->in.batch = (int)ci->in.clips[0]->ne[0];
    ci->in.text = upload(ci->pool, text);
    ci->in.pooled = upload(ci->pool, pf_st_find(c->f, "in.pooled_projections"));
    for (size_t i = 0; i < st_nelem(mask); i++) ci->mask[i] = pf_load_elem(mask->data, mask->dtype, i) != 0;
    ci->in.text_mask = ci->mask;
    ci->ts = malloc(st_nelem(ts) * sizeof(float));
    if (!ci->ts) return false;
    pf_convert(ci->ts, PF_F32, ts->data, ts->dtype, st_nelem(ts));
    ci->in.timestep = ci->ts;
    const pf_tensor *cur = ci->in.clips[ci->in.n_clips - 1];
    ci->vel = pf_pool_tensor(ci->pool, PF_F32, 5, cur->ne, "velocity");
    return ci->in.text && ci->in.pooled && ci->vel;
}

static void inputs_free(case_inputs *ci) {
    pf_pool_free(ci->pool);
    free(ci->ts);
}

/* Run a case; velocity into *vel (malloc'ed). Activations in f32, or bf16 with bf16 weights
 * when `act_bf16`. */
static pf_status run_case(pf_backend *be, const dit_case *c, pf_dtype wdt, bool act_bf16, bool debug, pf_dit **keep,
                          float **vel) {
    pf_dit *dit = NULL;
    PF_TRY(pf_dit_load(c->model_dir, be, wdt, &dit));
    pf_dit_set_debug(dit, debug);
    if (act_bf16) PF_TRY(pf_dit_set_act_dtype(dit, PF_BF16));
    case_inputs *ci = calloc(1, sizeof *ci);
    pf_status rc = ci && inputs_make(be, c, ci) ? PF_OK : pf_error(PF_ERR_FORMAT, "case %s: bad inputs", c->name);
    if (rc == PF_OK) rc = pf_dit_forward(dit, &ci->in, ci->vel);
    if (rc == PF_OK) {
        size_t n = (size_t)pf_nelem(ci->vel);
        *vel = malloc(n * sizeof(float));
        rc = *vel ? pf_tensor_get(ci->vel, *vel, n * sizeof(float)) : PF_ERR_OOM;
    }
    if (rc == PF_OK && keep) {
        /* the debug tables need the text mask: keep it around in the DiT's last layout */
        *keep = dit;
        dit = NULL;
    }
    if (ci) inputs_free(ci);
    free(ci);
    pf_dit_free(dit);
    return rc;
}

typedef struct {
    int n_cases;
    double worst;
} run_summary;

/* Every dit_* case with given kernels; prints the figure per case. */
static pf_test_result run_pack(bool reference, pf_dtype wdt, bool act_bf16, run_summary *sum) {
    const char *pack = pf_test_golden_dir();
    char *cases = pack ? pf_path_join(pack, "cases") : NULL;
    DIR *d = cases ? opendir(cases) : NULL;
    free(cases);
    if (!d) SKIP("golden pack not found (PF_GOLDEN_DIR)");
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 0, .reference = reference};
    CHECK_OK(pf_backend_create("cpu", &o, &be));
    memset(sum, 0, sizeof *sum);
    struct dirent *e;
    pf_test_result res = PF_T_PASS;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 13 || strcmp(e->d_name + len - 12, ".safetensors")) continue;
        dit_case c;
        bool is_dit = false;
        pf_status rc = case_open(pack, e->d_name, &c, &is_dit);
        if (rc != PF_OK || !is_dit) {
            case_free(&c);
            if (rc != PF_OK) {
                fprintf(stderr, "  %s: %s\n", e->d_name, pf_last_error());
                res = PF_T_FAIL;
            }
            continue;
        }
        float *vel = NULL;
        rc = run_case(be, &c, wdt, act_bf16, false, NULL, &vel);
        const pf_st_tensor *ref = pf_st_find(c.f, "out.velocity");
        if (rc != PF_OK || !ref) {
            fprintf(stderr, "  %s: %s\n", c.name, rc != PF_OK ? pf_last_error() : "no out.velocity");
            res = PF_T_FAIL;
        } else {
            cmp_result r = compare(vel, ref);
            bool ok = wdt == PF_F32 ? r.max_abs <= DIT_TOL : r.nmse <= DIT_BF16_NMSE;
            fprintf(stderr, "  %-32s %s %s weights, %s activations, %s kernels: max_abs=%.3g nmse=%.3g\n", c.name,
                    ok ? "PASS" : "FAIL", pf_dtype_name(wdt), act_bf16 ? "bf16" : "f32",
                    reference ? "reference" : "default", r.max_abs, r.nmse);
            if (!ok) res = PF_T_FAIL;
            sum->worst = fmax(sum->worst, wdt == PF_F32 ? r.max_abs : r.nmse);
            sum->n_cases++;
        }
        free(vel);
        case_free(&c);
    }
    closedir(d);
    pf_backend_free(be);
    if (res == PF_T_PASS && sum->n_cases == 0) SKIP("no dit_* case in the pack");
    return res;
}

static pf_test_result test_dit_cases_f32(void) {
    run_summary s;
    return run_pack(false, PF_F32, false, &s);
}

static pf_test_result test_dit_cases_f32_reference_kernels(void) {
    run_summary s;
    return run_pack(true, PF_F32, false, &s);
}

/* bf16 weights (f32 activations), then bf16 throughout as the official autocast run */
static pf_test_result test_dit_cases_bf16(void) {
    run_summary s;
    pf_test_result r = run_pack(false, PF_BF16, false, &s);
    return r == PF_T_PASS ? run_pack(false, PF_BF16, true, &s) : r;
}

/* The out.dbg.* intermediates: where a port goes wrong, and a check of the tables. */
static pf_test_result check_debug_case(pf_backend *be, const dit_case *c, bool *any) {
    float *vel = NULL;
    pf_dit *dit = NULL;
    CHECK_OK(run_case(be, c, PF_F32, false, true, &dit, &vel));
    free(vel);
    int n_checked = 0;
    for (int i = 0; i < pf_st_count(c->f); i++) {
        const pf_st_tensor *t = pf_st_at(c->f, i);
        if (strncmp(t->name, "out.dbg.", 8)) continue;
        const char *what = t->name + 8;
        size_t n = st_nelem(t);
        float *got = malloc(n * sizeof(float));
        CHECK(got);
        if (!strcmp(what, "rope")) {
            /* [B, L+N, 1, P, 2, 2]: [..., 0, :] = (cos, -sin), [..., 1, :] = (sin, cos); ours [L+N, P, 2] */
            const float *tab = NULL;
            int n_tok = 0;
            CHECK_OK(pf_dit_debug_tables(dit, &tab, &n_tok, NULL, NULL));
            int64_t P = t->shape[3];
            CHECK(t->shape[1] == n_tok);
            for (int64_t b = 0; b < t->shape[0]; b++)
                for (int64_t k = 0; k < (int64_t)n_tok * P; k++) {
                    float cs = tab[k * 2], sn = tab[k * 2 + 1];
                    float *g = got + (b * n_tok * P + k) * 4;
                    g[0] = cs, g[1] = -sn, g[2] = sn, g[3] = cs;
                }
        } else if (!strcmp(what, "attention_mask")) {
            /* [B, 1, L+N, L+N] booleans from the per-token metadata */
            int n_tok = 0;
            CHECK_OK(pf_dit_debug_tables(dit, NULL, &n_tok, NULL, NULL));
            int64_t B = t->shape[0];
            int32_t *meta = malloc((size_t)(B * n_tok) * sizeof(int32_t));
            int32_t *mask = malloc((size_t)(B * n_tok) * sizeof(int32_t));
            const pf_st_tensor *mk = pf_st_find(c->f, "in.encoder_attention_mask");
            CHECK(meta && mask && mk);
            for (size_t j = 0; j < st_nelem(mk); j++) mask[j] = pf_load_elem(mk->data, mk->dtype, j) != 0;
            CHECK_OK(pf_dit_debug_tables(dit, NULL, NULL, meta, mask));
            for (int64_t b = 0; b < B; b++)
                for (int64_t q = 0; q < n_tok; q++)
                    for (int64_t k = 0; k < n_tok; k++) {
                        int32_t mq = meta[b * n_tok + q], mkk = meta[b * n_tok + k];
                        got[(b * n_tok + q) * n_tok + k] = (mq & 1) == (mkk & 1) && (mq >> 1) >= (mkk >> 1);
                    }
            free(meta);
            free(mask);
        } else {
            pf_status rc = pf_dit_debug_get(dit, what, got, n);
            CHECK_MSG(rc == PF_OK, "%s %s: %s", c->name, what, pf_last_error());
        }
        cmp_result r = compare(got, t);
        bool ok = r.max_abs <= DIT_TOL;
        fprintf(stderr, "    %-40s %s max_abs=%.3g\n", t->name, ok ? "ok" : "MISMATCH", r.max_abs);
        free(got);
        CHECK(ok);
        n_checked++;
    }
    pf_dit_free(dit);
    if (n_checked) *any = true;
    return PF_T_PASS;
}

static pf_test_result test_dit_debug_intermediates(void) {
    const char *pack = pf_test_golden_dir();
    char *cases = pack ? pf_path_join(pack, "cases") : NULL;
    DIR *d = cases ? opendir(cases) : NULL;
    free(cases);
    if (!d) SKIP("golden pack not found (PF_GOLDEN_DIR)");
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 0, .reference = false};
    CHECK_OK(pf_backend_create("cpu", &o, &be));
    bool any = false;
    struct dirent *e;
    pf_test_result res = PF_T_PASS;
    while ((e = readdir(d)) && res == PF_T_PASS) {
        size_t len = strlen(e->d_name);
        if (len < 13 || strcmp(e->d_name + len - 12, ".safetensors")) continue;
        dit_case c;
        bool is_dit = false;
        if (case_open(pack, e->d_name, &c, &is_dit) == PF_OK && is_dit) {
            bool has_dbg = false;
            for (int i = 0; i < pf_st_count(c.f); i++) has_dbg |= !strncmp(pf_st_at(c.f, i)->name, "out.dbg.", 8);
            if (has_dbg) {
                fprintf(stderr, "  %s\n", c.name);
                res = check_debug_case(be, &c, &any);
            }
        }
        case_free(&c);
    }
    closedir(d);
    pf_backend_free(be);
    if (res == PF_T_PASS && !any) SKIP("no case with out.dbg.* tensors");
    return res;
}

PF_TEST_MAIN(PF_TEST(test_dit_cases_f32), PF_TEST(test_dit_cases_f32_reference_kernels),
             PF_TEST(test_dit_debug_intermediates), PF_TEST(test_dit_cases_bf16))
