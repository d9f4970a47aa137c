/* The check-golden framework: the real pack's listing, synthetic packs written at run time
 * (driven by fake runners), the comparison rules, and the pflow check-golden command. */
#include "golden_impl.h"
#include "pf_test.h"
#include "pf_test_files.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Run a pack, capturing the printed report. *text is malloc'ed. */
static pf_status run_pack(const char *pack, const pf_golden_opts *o, const pf_golden_runner_entry *r, int nr,
                          char **text, int *np, int *nf, int *ns) {
    FILE *f = tmpfile();
    if (!f) return pf_error(PF_ERR_IO, "tmpfile");
    pf_status s = pf_golden_check_pack_with(pack, o, f, r, nr, np, nf, ns);
    long n = ftell(f);
    rewind(f);
    *text = calloc((size_t)(n > 0 ? n : 0) + 1, 1);
    if (*text && n > 0 && fread(*text, 1, (size_t)n, f) != (size_t)n) (*text)[0] = '\0';
    fclose(f);
    return s;
}

/* The report line of a case ("NAME ..."), or NULL. */
static const char *line_of(const char *text, const char *name, char *buf, size_t n) {
    size_t l = strlen(name);
    for (const char *p = text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > l && !strncmp(p, name, l) && p[l] == ' ') {
            snprintf(buf, n, "%.*s", (int)len, p);
            return buf;
        }
        p = e ? e + 1 : NULL;
    }
    return NULL;
}

#define CHECK_LINE(text, name, ...)                                                                  \
    do {                                                                                             \
        char lb_[1024];                                                                              \
        const char *l_ = line_of(text, name, lb_, sizeof lb_);                                      \
        CHECK_MSG(l_, "no line for '%s' in:\n%s", name, text);                                       \
        const char *nd_[] = {__VA_ARGS__};                                                           \
        for (size_t k_ = 0; k_ < PF_ARRAY_LEN(nd_); k_++)                                           \
            CHECK_MSG(strstr(l_, nd_[k_]), "line '%s' lacks '%s'", l_, nd_[k_]);                     \
    } while (0)

/* ------------------------------------------------------------------ the real pack */

static int stub_calls;

/* Checks what the framework hands a runner, then skips. */
static pf_status stub_runner(pf_golden_case *c) {
    stub_calls++;
    if (!c->name || !c->kind || !c->pack_dir || !c->backend || !c->opts) return pf_error(PF_ERR_INTERNAL, "stub: NULL field");
    if (!strcmp(c->kind, "tokenizer")) {
        if (c->file || c->meta || !c->model_dir || !strstr(c->model_dir, "tokenizers"))
            return pf_error(PF_ERR_INTERNAL, "stub: tokenizer case fields");
    } else {
        if (!c->file || !c->meta) return pf_error(PF_ERR_INTERNAL, "stub: no case file/meta");
        const char *k = NULL;
        if (pf_json_str(c->meta, "kind", &k) != PF_OK || strcmp(k, c->kind)) return pf_error(PF_ERR_INTERNAL, "stub: kind");
        if (c->model_dir && !pf_dir_exists(c->model_dir)) return pf_error(PF_ERR_INTERNAL, "stub: model_dir");
    }
    return pf_golden_skip(c, "stub runner for kind %s", c->kind);
}

/* Every case file of the pack and the two tokenizer cases are listed; the built-in runners are
 * replaced by the stub so the test does not depend on which models are implemented yet. */
static pf_test_result test_real_pack_listing(void) {
    const char *g = pf_test_golden_dir();
    char cases[4096];
    if (!g || !pf_dir_exists(pf_test_fmt(cases, sizeof cases, "%s/cases", g))) SKIP("no golden pack");
    static const char *const kinds[] = {"dit", "vae", "scheduler", "pipeline_t2v", "pipeline_i2v", "text_encoder",
                                        "tokenizer"};
    pf_golden_runner_entry r[PF_ARRAY_LEN(kinds)];
    for (size_t i = 0; i < PF_ARRAY_LEN(kinds); i++) r[i] = (pf_golden_runner_entry){kinds[i], stub_runner};
    char *text = NULL;
    int np, nf, ns;
    pf_golden_opts o = {.backend = "cpu", .dtype = PF_F32, .threads = 1};
    stub_calls = 0;
    CHECK_OK(run_pack(g, &o, r, (int)PF_ARRAY_LEN(r), &text, &np, &nf, &ns));
    CHECK(text);
    int expected = 0;
    DIR *d = opendir(cases);
    CHECK(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= 12 || strcmp(e->d_name + l - 12, ".safetensors")) continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(l - 12), e->d_name);
        CHECK_LINE(text, name, " SKIP: stub runner for kind ");
        expected++;
    }
    closedir(d);
    char tok[4200];
    if (pf_dir_exists(pf_test_fmt(tok, sizeof tok, "%s/tokenizers", g))) {
        CHECK_LINE(text, "tokenizer_t5", "SKIP: stub runner for kind tokenizer");
        CHECK_LINE(text, "tokenizer_clip", "SKIP: stub runner for kind tokenizer");
        expected += 2;
    }
    CHECK_MSG(np == 0 && nf == 0 && ns == expected && stub_calls == expected, "%d/%d/%d of %d:\n%s", np, nf, ns,
              expected, text);
    char summary[64];
    snprintf(summary, sizeof summary, "0 passed, 0 failed, %d skipped\n", expected);
    CHECK(strstr(text, summary));
    /* lines come sorted by name */
    char prev[256] = "";
    for (const char *q = text; *q && strncmp(q, "0 passed", 8);) {
        char cur[256];
        size_t len = strcspn(q, " \n");
        snprintf(cur, sizeof cur, "%.*s", (int)len, q);
        CHECK_MSG(strcmp(prev, cur) < 0, "'%s' listed after '%s'", cur, prev);
        memcpy(prev, cur, sizeof prev);
        q += strcspn(q, "\n");
        if (*q) q++;
    }
    free(text);
    return PF_T_PASS;
}

/* ------------------------------------------------------------------ synthetic packs */

/* A fake runner steered by the case metadata: it copies every out.* reference (except
 * out.dbg.*) and then perturbs, drops, fails or skips as asked. */
static pf_status fake_runner(pf_golden_case *c) {
    pf_status rc = PF_OK;
    const char *fail = pf_json_opt_str(c->meta, "fail", NULL, &rc);
    const char *skip = pf_json_opt_str(c->meta, "skip", NULL, &rc);
    const char *drop = pf_json_opt_str(c->meta, "drop", "", &rc);
    double perturb = pf_json_opt_num(c->meta, "perturb", 0, &rc);
    int64_t frames_off = pf_json_opt_int(c->meta, "frames_off", 0, &rc);
    bool nan = pf_json_opt_bool(c->meta, "nan", false, &rc);
    bool inputs = pf_json_opt_bool(c->meta, "check_inputs", false, &rc);
    PF_TRY(rc);
    if (fail) return pf_error(PF_ERR_FORMAT, "fake runner: %s", fail);
    if (skip) return pf_golden_skip(c, "%s", skip);
    if (inputs) {
        float *x;
        int64_t *ids, shape[PF_MAX_DIMS];
        int nd;
        PF_TRY(pf_golden_in_f32(c, "in.x", &x, shape, &nd));
        bool ok = nd == 1 && shape[0] == 3 && x[0] == 0.5f && x[2] == -4.0f;
        free(x);
        PF_TRY(pf_golden_in_i64(c, "in.ids", &ids, NULL, NULL));
        ok = ok && ids[0] == -3 && ids[1] == 5000000000LL;
        free(ids);
        PF_TRY(pf_golden_in_f32(c, "in.ids", &x, NULL, NULL)); /* integers read as floats too */
        ok = ok && x[0] == -3.0f;
        free(x);
        if (pf_golden_in_i64(c, "in.x", &ids, NULL, NULL) == PF_OK || !strstr(pf_last_error(), "not an integer")) ok = false;
        if (pf_golden_in_f32(c, "in.none", &x, NULL, NULL) != PF_ERR_NOT_FOUND || !strstr(pf_last_error(), "in.none")) ok = false;
        if (!ok) return pf_error(PF_ERR_INTERNAL, "fake runner: inputs read wrongly");
    }
    for (int i = 0; i < pf_st_count(c->file); i++) {
        const pf_st_tensor *t = pf_st_at(c->file, i);
        if (strncmp(t->name, "out.", 4) || !strncmp(t->name, "out.dbg.", 8) || !strcmp(t->name, drop)) continue;
        size_t n = t->nbytes / pf_dtype_size(t->dtype);
        if (t->dtype == PF_U8) {
            uint8_t *v = malloc(n ? n : 1);
            memcpy(v, t->data, n);
            for (int64_t k = 0; k < frames_off && (size_t)k < n; k++) v[k] = (uint8_t)(v[k] + 1);
            pf_status s = pf_golden_put(c, t->name, PF_U8, v, n);
            free(v);
            PF_TRY(s);
            continue;
        }
        float *v = malloc((n ? n : 1) * sizeof *v);
        pf_convert(v, PF_F32, t->data, t->dtype, n);
        if (n) v[0] += (float)perturb;
        if (n && nan) v[n - 1] = NAN;
        pf_status s = pf_golden_put(c, t->name, PF_F32, v, n);
        free(v);
        PF_TRY(s);
    }
    /* handing the same output twice is a runner bug */
    if (pf_st_count(c->file) && pf_golden_put(c, pf_st_at(c->file, 0)->name, PF_F32, NULL, 0) == PF_OK &&
        pf_golden_put(c, pf_st_at(c->file, 0)->name, PF_F32, NULL, 0) == PF_OK)
        return pf_error(PF_ERR_INTERNAL, "duplicate put accepted");
    return PF_OK;
}

static pf_status fake_tokenizer(pf_golden_case *c) {
    return pf_golden_report(c, !strcmp(c->name, "tokenizer_t5"), "must-pass %d/%d", 3, 3);
}

static const pf_golden_runner_entry fakes[] = {
    {"dit", fake_runner}, {"scheduler", fake_runner}, {"pipeline_t2v", fake_runner}, {"tokenizer", fake_tokenizer},
};

static bool write_case(const char *pack, const char *name, const char *meta) {
    char p[4096];
    float out_v[4] = {1.0f, -2.0f, 0.5f, 3.0f}, out_w[2] = {10, 20}, dbg[2] = {7, 7}, in_x[3] = {0.5f, 1, -4};
    int64_t ids[2] = {-3, 5000000000LL}, s4[1] = {4}, s2[1] = {2}, s3[1] = {3};
    pf_st_write_tensor t[] = {{"in.x", PF_F32, 1, s3, in_x},      {"in.ids", PF_I64, 1, s2, ids},
                              {"out.v", PF_F32, 1, s4, out_v},    {"out.w", PF_F32, 1, s2, out_w},
                              {"out.dbg.x", PF_F32, 1, s2, dbg}};
    const char *k[] = {"case"};
    return pf_st_write(pf_test_fmt(p, sizeof p, "%s/cases/%s.safetensors", pack, name), t, 5, k, &meta, meta ? 1 : 0) ==
           PF_OK;
}

static pf_test_result test_synthetic_pack(void) {
    char *pack = pf_test_tmpdir("golden-pack");
    CHECK(pack);
    char p[4096];
    CHECK(mkdir(pf_test_fmt(p, sizeof p, "%s/cases", pack), 0755) == 0);
    CHECK(mkdir(pf_test_fmt(p, sizeof p, "%s/models", pack), 0755) == 0);
    CHECK(mkdir(pf_test_fmt(p, sizeof p, "%s/models/m", pack), 0755) == 0);
    CHECK(mkdir(pf_test_fmt(p, sizeof p, "%s/tokenizers", pack), 0755) == 0);
#define M(extra) "{\"kind\": \"dit\", \"model_dir\": \"models/m\"" extra "}"
    CHECK(write_case(pack, "a_exact", M(", \"check_inputs\": true")));
    CHECK(write_case(pack, "b_small_err", M(", \"perturb\": 5e-5")));
    CHECK(write_case(pack, "c_big_err", M(", \"perturb\": 2e-4")));
    CHECK(write_case(pack, "d_missing_out", M(", \"drop\": \"out.w\"")));
    CHECK(write_case(pack, "e_nan", M(", \"nan\": true")));
    CHECK(write_case(pack, "f_runner_error", M(", \"fail\": \"weights are gone\"")));
    CHECK(write_case(pack, "g_runner_skip", M(", \"skip\": \"needs 8 GiB\"")));
    CHECK(write_case(pack, "h_unknown_kind", "{\"kind\": \"foo\"}"));
    CHECK(write_case(pack, "i_no_meta", NULL));
    CHECK(write_case(pack, "j_bad_meta", "{\"kind\": "));
    CHECK(write_case(pack, "k_no_kind", "{\"model_dir\": \"models/m\"}"));
    CHECK(pf_test_write_str(pf_test_fmt(p, sizeof p, "%s/cases/l_garbage.safetensors", pack), "not a safetensors file"));
    CHECK(write_case(pack, "m_bad_model_dir", "{\"kind\": \"dit\", \"model_dir\": \"models/none\"}"));
    /* a case with inputs only */
    float one[1] = {1};
    int64_t s1[1] = {1};
    pf_st_write_tensor only_in = {"in.a", PF_F32, 1, s1, one};
    const char *ck[] = {"case"}, *cv[] = {"{\"kind\": \"dit\"}"};
    CHECK_OK(pf_st_write(pf_test_fmt(p, sizeof p, "%s/cases/n_no_outputs.safetensors", pack), &only_in, 1, ck, cv, 1));
    /* a pipeline case with u8 frames: 1 of 1000 values off by one is within 0.1 % */
    uint8_t frames[1000];
    for (int i = 0; i < 1000; i++) frames[i] = (uint8_t)(i % 251);
    int64_t s1000[1] = {1000};
    pf_st_write_tensor pipe[] = {{"out.frames", PF_U8, 1, s1000, frames}, {"out.final_latent", PF_F32, 1, s1, one}};
    const char *pv[] = {"{\"kind\": \"pipeline_t2v\", \"frames_off\": 1, \"perturb\": 9e-4}"};
    CHECK_OK(pf_st_write(pf_test_fmt(p, sizeof p, "%s/cases/p_pipeline.safetensors", pack), pipe, 2, ck, pv, 1));
    const char *pv2[] = {"{\"kind\": \"pipeline_t2v\", \"frames_off\": 2}"};
    CHECK_OK(pf_st_write(pf_test_fmt(p, sizeof p, "%s/cases/q_pipeline_frames.safetensors", pack), pipe, 2, ck, pv2, 1));
    /* not a case: ignored */
    CHECK(pf_test_write_str(pf_test_fmt(p, sizeof p, "%s/cases/README.txt", pack), "notes"));

    pf_golden_opts o = {.backend = "cpu", .dtype = PF_F32, .threads = 1};
    char *text;
    int np, nf, ns;
    CHECK_ERR(run_pack(pack, &o, fakes, (int)PF_ARRAY_LEN(fakes), &text, &np, &nf, &ns), PF_ERR_INTERNAL, "failed");
    CHECK_LINE(text, "a_exact", "a_exact PASS max_abs=0 nmse=0");
    CHECK_LINE(text, "b_small_err", "PASS max_abs=");
    CHECK_LINE(text, "c_big_err", "FAIL max_abs=", "out.v: max_abs 0.0002 > 1e-04");
    CHECK_LINE(text, "d_missing_out", "FAIL", "output 'out.w' was not produced");
    CHECK_LINE(text, "e_nan", "FAIL", "NaN");
    CHECK_LINE(text, "f_runner_error", "FAIL: fake runner: weights are gone");
    CHECK_LINE(text, "g_runner_skip", "SKIP: needs 8 GiB");
    CHECK_LINE(text, "h_unknown_kind", "SKIP: kind 'foo' is not implemented");
    CHECK_LINE(text, "i_no_meta", "FAIL: ", "i_no_meta.safetensors", "no \"case\" metadata");
    CHECK_LINE(text, "j_bad_meta", "FAIL: ", "j_bad_meta.safetensors", "invalid JSON");
    CHECK_LINE(text, "k_no_kind", "FAIL: no \"kind\"");
    CHECK_LINE(text, "l_garbage", "FAIL: ", "l_garbage.safetensors", "header length");
    CHECK_LINE(text, "m_bad_model_dir", "FAIL: model_dir ", "models/none not found");
    CHECK_LINE(text, "n_no_outputs", "FAIL: ", "no out.* tensors");
    CHECK_LINE(text, "p_pipeline", "PASS max_abs=", "frames_off=1/1000");
    CHECK_LINE(text, "q_pipeline_frames", "FAIL", "out.frames: 2 of 1000 values off by 1");
    CHECK_LINE(text, "tokenizer_t5", "tokenizer_t5 PASS must-pass 3/3");
    CHECK_LINE(text, "tokenizer_clip", "tokenizer_clip FAIL must-pass 3/3");
    CHECK(!strstr(text, "README"));
    CHECK_MSG(np == 4 && nf == 12 && ns == 2, "%d/%d/%d\n%s", np, nf, ns, text);
    CHECK(strstr(text, "4 passed, 12 failed, 2 skipped\n"));
    free(text);

    /* --filter */
    o.filter = "_err";
    CHECK_ERR(run_pack(pack, &o, fakes, (int)PF_ARRAY_LEN(fakes), &text, &np, &nf, &ns), PF_ERR_INTERNAL, "2 of 3");
    CHECK(np == 1 && nf == 2 && ns == 0);
    CHECK(strstr(text, "1 passed, 2 failed, 0 skipped\n"));
    CHECK(line_of(text, "b_small_err", p, sizeof p) && !line_of(text, "a_exact", p, sizeof p));
    free(text);

    /* --dtype bf16: the model rule becomes nmse <= 2e-3, pipelines report without a threshold */
    o.filter = NULL;
    o.dtype = PF_BF16;
    CHECK_ERR(run_pack(pack, &o, fakes, (int)PF_ARRAY_LEN(fakes), &text, &np, &nf, &ns), PF_ERR_INTERNAL, "failed");
    CHECK_LINE(text, "c_big_err", "PASS");
    CHECK_LINE(text, "q_pipeline_frames", "PASS", "frames_off=2/1000", "no threshold");
    CHECK_LINE(text, "e_nan", "FAIL", "NaN");
    free(text);

    /* --act bf16 with f32 weights: the DiT kinds are judged by the bf16 rule as well */
    o.dtype = PF_F32;
    o.act = PF_BF16;
    CHECK_ERR(run_pack(pack, &o, fakes, (int)PF_ARRAY_LEN(fakes), &text, &np, &nf, &ns), PF_ERR_INTERNAL, "failed");
    CHECK_MSG(strstr(text, "backend cpu, weights f32, DiT activations bf16\n"), "%s", text);
    CHECK_LINE(text, "c_big_err", "PASS");
    CHECK_LINE(text, "q_pipeline_frames", "PASS", "frames_off=2/1000", "no threshold");
    CHECK_LINE(text, "e_nan", "FAIL", "NaN");
    free(text);
    o.act = PF_F32;

    /* verbose: a line per tensor */
    o.dtype = PF_F32;
    o.verbose = true;
    o.filter = "c_big";
    CHECK_ERR(run_pack(pack, &o, fakes, (int)PF_ARRAY_LEN(fakes), &text, &np, &nf, &ns), PF_ERR_INTERNAL, "failed");
    CHECK_MSG(strstr(text, "    out.v f32 [4]: FAIL max_abs=") && strstr(text, "      out.w: max_abs 0.0002 > 1e-04") &&
                  strstr(text, "(and 1 more failing tensor)"),
              "%s", text);
    CHECK(strstr(text, "c_big_err FAIL") < strstr(text, "    out.v f32 [4]")); /* details follow the case line */
    free(text);
    o.filter = "a_exact";
    CHECK_OK(run_pack(pack, &o, fakes, (int)PF_ARRAY_LEN(fakes), &text, &np, &nf, &ns));
    CHECK_MSG(strstr(text, "    out.v f32 [4]: ok max_abs=0 nmse=0\n"), "%s", text);
    CHECK(!strstr(text, "out.dbg.x")); /* debug tensors are never compared */
    free(text);

    /* a backend that cannot be created: every case SKIPs with the reason */
    o.verbose = false;
    o.filter = NULL;
    o.backend = "nosuch";
    CHECK_OK(run_pack(pack, &o, fakes, (int)PF_ARRAY_LEN(fakes), &text, &np, &nf, &ns));
    CHECK(np == 0 && nf == 0 && ns == 18);
    CHECK_LINE(text, "a_exact", "SKIP: backend 'nosuch' unavailable");
    free(text);

    /* bad options and folders */
    o.backend = "cpu";
    o.dtype = PF_F16;
    CHECK_ERR(pf_golden_check_pack(pack, &o, stdout, NULL, NULL, NULL), PF_ERR_INVALID_ARG, "f16");
    o.dtype = PF_F32;
    o.act = PF_F16;
    CHECK_ERR(pf_golden_check_pack(pack, &o, stdout, NULL, NULL, NULL), PF_ERR_INVALID_ARG, "activations in f16");
    o.act = PF_F32;
    CHECK_ERR(pf_golden_check_pack(pf_test_fmt(p, sizeof p, "%s/models", pack), &o, stdout, NULL, NULL, NULL),
              PF_ERR_NOT_FOUND, "not a golden pack");
    CHECK_ERR(pf_golden_check_pack(pf_test_fmt(p, sizeof p, "%s/nope", pack), &o, stdout, NULL, NULL, NULL),
              PF_ERR_NOT_FOUND, "not found");
    pf_test_rmtree(pack);
    return PF_T_PASS;
}

/* ------------------------------------------------------------------ comparison rules */

static pf_st_tensor tensor(const char *name, pf_dtype dt, const void *data, int64_t n) {
    pf_st_tensor t = {.name = name, .dtype = dt, .ndim = 1, .data = data};
    t.shape[0] = n;
    t.nbytes = (size_t)n * pf_dtype_size(dt);
    return t;
}

static pf_test_result test_compare_rules(void) {
    pf_golden_stats st, acc = {0};
    char why[256];
    /* the dtype a kind is judged at: --act bf16 matters to the DiT kinds only */
    pf_golden_opts jo = {.dtype = PF_F32, .act = PF_F32};
    CHECK(pf_golden_judge_dtype(&jo, "dit") == PF_F32 && pf_golden_judge_dtype(NULL, "dit") == PF_F32);
    jo.act = PF_BF16;
    CHECK(pf_golden_judge_dtype(&jo, "dit") == PF_BF16);
    CHECK(pf_golden_judge_dtype(&jo, "pipeline_t2v") == PF_BF16 && pf_golden_judge_dtype(&jo, "pipeline_i2v") == PF_BF16);
    CHECK(pf_golden_judge_dtype(&jo, "vae") == PF_F32 && pf_golden_judge_dtype(&jo, "text_encoder") == PF_F32);
    CHECK(pf_golden_judge_dtype(&jo, "scheduler") == PF_F32 && pf_golden_judge_dtype(&jo, NULL) == PF_F32);
    jo.dtype = PF_BF16;
    jo.act = PF_F32;
    CHECK(pf_golden_judge_dtype(&jo, "vae") == PF_BF16 && pf_golden_judge_dtype(&jo, "dit") == PF_BF16);
    /* figures: max_abs 0.5, nmse 0.25 / (1 + 4 + 9 + 16) */
    float r4[4] = {1, 2, 3, 4};
    double g4[4] = {1, 2, 3, 4.5};
    pf_st_tensor t = tensor("out.v", PF_F32, r4, 4);
    CHECK(pf_golden_compare(PF_GRULE_MODEL, false, PF_F32, &t, g4, 4, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(st.max_abs == 0.5 && st.n_float == 4);
    CHECK_NEAR(pf_golden_nmse(&st), 0.25 / 30.0, 1e-15);
    CHECK(strstr(why, "out.v: max_abs 0.5 > 1e-04"));
    pf_golden_stats_merge(&acc, &st);
    pf_golden_stats_merge(&acc, &st);
    CHECK(acc.n_float == 8 && acc.max_abs == 0.5);
    CHECK_NEAR(pf_golden_nmse(&acc), 0.25 / 30.0, 1e-15);
    CHECK(pf_golden_compare(PF_GRULE_MODEL, false, PF_F32, &t, g4, 3, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(strstr(why, "3 values produced, the reference has 4"));

    /* model: 1e-4 on CPU, 5e-4 on GPU */
    double near4[4] = {1 + 9e-5, 2, 3, 4}, mid4[4] = {1 + 3e-4, 2, 3, 4};
    CHECK(pf_golden_compare(PF_GRULE_MODEL, false, PF_F32, &t, near4, 4, &st, why, sizeof why) == PF_GOLDEN_PASS);
    CHECK(pf_golden_compare(PF_GRULE_MODEL, false, PF_F32, &t, mid4, 4, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(pf_golden_compare(PF_GRULE_MODEL, true, PF_F32, &t, mid4, 4, &st, why, sizeof why) == PF_GOLDEN_PASS);

    /* NaN anywhere fails, even without a threshold; infinities must match */
    double nan4[4] = {1, 2, NAN, 4};
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, true, PF_BF16, &t, nan4, 4, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(strstr(why, "1 NaN value"));
    float rn[2] = {NAN, 1}, ri[2] = {INFINITY, 1};
    double g2[2] = {1, 1}, gi[2] = {INFINITY, 1}, gmi[2] = {-INFINITY, 1};
    pf_st_tensor tn = tensor("out.n", PF_F32, rn, 2), ti = tensor("out.i", PF_F32, ri, 2);
    CHECK(pf_golden_compare(PF_GRULE_MODEL, false, PF_F32, &tn, g2, 2, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(pf_golden_compare(PF_GRULE_MODEL, false, PF_F32, &ti, gi, 2, &st, why, sizeof why) == PF_GOLDEN_PASS);
    CHECK(st.max_abs == 0);
    CHECK(pf_golden_compare(PF_GRULE_MODEL, false, PF_F32, &ti, gmi, 2, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(strstr(why, "infinite"));

    /* model at bf16: nmse <= 2e-3 (ones + 0.04 -> 1.6e-3, ones + 0.05 -> 2.5e-3) */
    float ones[100];
    double p04[100], p05[100];
    for (int i = 0; i < 100; i++) ones[i] = 1, p04[i] = 1.04, p05[i] = 1.05;
    pf_st_tensor to = tensor("out.h", PF_F32, ones, 100);
    CHECK(pf_golden_compare(PF_GRULE_MODEL, true, PF_BF16, &to, p04, 100, &st, why, sizeof why) == PF_GOLDEN_PASS);
    CHECK(pf_golden_compare(PF_GRULE_MODEL, true, PF_BF16, &to, p05, 100, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(strstr(why, "nmse"));

    /* scheduler: 1e-6 in double; *_bf16 exact */
    double r3[3] = {999.0, 0.5, 1e-3}, g3a[3] = {999.0 + 5e-7, 0.5, 1e-3}, g3b[3] = {999.0 + 2e-6, 0.5, 1e-3},
           g3c[3] = {999.0, 0.5, 1e-3 + 1e-12};
    pf_st_tensor ts = tensor("out.sigmas", PF_F64, r3, 3), tb = tensor("out.timesteps_stage_0_bf16", PF_F64, r3, 3);
    CHECK(pf_golden_compare(PF_GRULE_SCHEDULER, false, PF_F32, &ts, g3a, 3, &st, why, sizeof why) == PF_GOLDEN_PASS);
    CHECK(pf_golden_compare(PF_GRULE_SCHEDULER, false, PF_F32, &ts, g3b, 3, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(pf_golden_compare(PF_GRULE_SCHEDULER, false, PF_F32, &tb, r3, 3, &st, why, sizeof why) == PF_GOLDEN_PASS);
    CHECK(pf_golden_compare(PF_GRULE_SCHEDULER, true, PF_BF16, &tb, g3c, 3, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(strstr(why, "must be exact"));

    /* pipeline latents: 1e-3 CPU, 5e-3 GPU */
    double l1[4] = {1 + 9e-4, 2, 3, 4}, l2[4] = {1 + 2e-3, 2, 3, 4};
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, false, PF_F32, &t, l1, 4, &st, why, sizeof why) == PF_GOLDEN_PASS);
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, false, PF_F32, &t, l2, 4, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, true, PF_F32, &t, l2, 4, &st, why, sizeof why) == PF_GOLDEN_PASS);

    /* frames: off by 1 on at most 0.1 % (CPU) / 0.5 % (GPU) of 2000 values; never by 2 */
    uint8_t fr[2000];
    double fg[2000];
    for (int i = 0; i < 2000; i++) fr[i] = (uint8_t)(i % 256), fg[i] = fr[i];
    pf_st_tensor tf = tensor("out.frames", PF_U8, fr, 2000);
    fg[0] += 1, fg[1] -= 1; /* 2 = 0.1 % */
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, false, PF_F32, &tf, fg, 2000, &st, why, sizeof why) == PF_GOLDEN_PASS);
    CHECK(st.n_u8 == 2000 && st.u8_off == 2 && st.u8_max == 1 && st.n_float == 0);
    fg[2] += 1; /* 3 = 0.15 % */
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, false, PF_F32, &tf, fg, 2000, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(strstr(why, "3 of 2000 values off by 1"));
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, true, PF_F32, &tf, fg, 2000, &st, why, sizeof why) == PF_GOLDEN_PASS);
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, false, PF_BF16, &tf, fg, 2000, &st, why, sizeof why) == PF_GOLDEN_PASS);
    fg[2] += 1; /* off by 2 */
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, true, PF_F32, &tf, fg, 2000, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(strstr(why, "off by 2 levels"));

    /* integer tensors (masks, ids) must be equal under every rule */
    int64_t ri64[2] = {1, 2};
    double gi64[2] = {1, 3};
    pf_st_tensor tint = tensor("out.mask", PF_I64, ri64, 2);
    CHECK(pf_golden_compare(PF_GRULE_PIPELINE, true, PF_BF16, &tint, gi64, 2, &st, why, sizeof why) == PF_GOLDEN_FAIL);
    CHECK(strstr(why, "integer value 1 is 3"));

    pf_golden_rule rule;
    CHECK(pf_golden_rule_for("vae", &rule) && rule == PF_GRULE_MODEL);
    CHECK(pf_golden_rule_for("pipeline_i2v", &rule) && rule == PF_GRULE_PIPELINE);
    CHECK(pf_golden_rule_for("tokenizer", &rule) && rule == PF_GRULE_REPORT);
    CHECK(!pf_golden_rule_for("foo", &rule));
    return PF_T_PASS;
}

/* ------------------------------------------------------------------ the command */

static int run_cli(const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s/pflow %s >/dev/null 2>&1", PF_TEST_BINARY_DIR, args);
    int s = system(cmd);
    return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
}

static pf_test_result test_command(void) {
    char bin[4096];
    if (!pf_file_exists(pf_test_fmt(bin, sizeof bin, "%s/pflow", PF_TEST_BINARY_DIR))) SKIP("pflow not built");
    CHECK(run_cli("check-golden --help") == 0);
    CHECK(run_cli("check-golden --bogus") == 2);
    CHECK(run_cli("check-golden --dtype f64") == 2);
    CHECK(run_cli("check-golden --act xyz") == 2);
    CHECK(run_cli("check-golden --act") == 2);
    CHECK(run_cli("check-golden --backend metal") == 2);
    CHECK(run_cli("check-golden --threads many") == 2);
    CHECK(run_cli("check-golden --filter") == 2);
    CHECK(run_cli("check-golden a b") == 2);
    char *pack = pf_test_tmpdir("golden-cli");
    CHECK(pack);
    char p[4096], args[4200];
    CHECK(run_cli(pf_test_fmt(args, sizeof args, "check-golden %s/none", pack)) == 1);
    CHECK(mkdir(pf_test_fmt(p, sizeof p, "%s/cases", pack), 0755) == 0);
    CHECK(write_case(pack, "only_skip", "{\"kind\": \"no_such_kind\"}"));
    CHECK(run_cli(pf_test_fmt(args, sizeof args, "check-golden %s --threads 1", pack)) == 0);
    CHECK(pf_test_write_str(pf_test_fmt(p, sizeof p, "%s/cases/broken.safetensors", pack), "xx"));
    CHECK(run_cli(pf_test_fmt(args, sizeof args, "check-golden %s", pack)) == 1);
    CHECK(run_cli(pf_test_fmt(args, sizeof args, "check-golden --filter=only %s -v", pack)) == 0);
    pf_test_rmtree(pack);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_real_pack_listing), PF_TEST(test_synthetic_pack), PF_TEST(test_compare_rules),
             PF_TEST(test_command))
