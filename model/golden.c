/*
 * check-golden: discovers the cases of a golden pack, runs each with the
 * runner of its kind and compares every out.* tensor (../shared/DESIGN.md).
 * Nothing here knows one pack's sizes or values: the case files say what to
 * compare, the kind says how.
 */
#include "golden_impl.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>

/* Runners by kind. Adding a kind is one line here (thresholds: golden_compare.c). */
static const pf_golden_runner_entry runners[] = {
    {"text_encoder", pf_golden_run_text_encoder},
    {"tokenizer", pf_golden_run_tokenizer},
    {"dit", pf_golden_run_dit},
    {"vae", pf_golden_run_vae},
    {"scheduler", pf_golden_run_scheduler},
    {"pipeline_t2v", pf_golden_run_pipeline},
    {"pipeline_i2v", pf_golden_run_pipeline},
    {NULL, NULL}, /* end */
};

#define G_TOKENIZER_KIND "tokenizer"

const char *pf_golden_default_dir(void) {
    const char *e = getenv("PF_GOLDEN_DIR");
    if (e && *e) return e;
#ifdef PF_DEFAULT_GOLDEN_DIR
    return PF_DEFAULT_GOLDEN_DIR;
#else
    return "../shared/golden";
#endif
}

/* ---- what a runner hands back ---- */

typedef struct {
    char *name;
    size_t n;
    double *v;
} g_output;

typedef struct {
    g_output *outs;
    int n_outs, cap;
    bool skipped;
    char skip_reason[512];
    bool reported, report_pass;
    char report_text[1024];
} g_state;

static void g_state_free(g_state *s) {
    for (int i = 0; i < s->n_outs; i++) {
        free(s->outs[i].name);
        free(s->outs[i].v);
    }
    free(s->outs);
}

static g_state *state_of(pf_golden_case *c) { return c ? (g_state *)c->priv : NULL; }

pf_status pf_golden_put(pf_golden_case *c, const char *name, pf_dtype dt, const void *data, size_t n) {
    g_state *s = state_of(c);
    if (!s || !name || (n && !data) || (unsigned)dt >= PF_DTYPE_COUNT)
        return pf_error(PF_ERR_INVALID_ARG, "pf_golden_put: bad arguments (output '%s')", name ? name : "(null)");
    for (int i = 0; i < s->n_outs; i++)
        if (!strcmp(s->outs[i].name, name))
            return pf_error(PF_ERR_INVALID_ARG, "case '%s': output '%s' handed over twice", c->name, name);
    if (s->n_outs == s->cap) {
        int cap = s->cap ? 2 * s->cap : 8;
        g_output *o = pf_realloc(s->outs, (size_t)cap * sizeof *o, "golden outputs");
        if (!o) return PF_ERR_OOM;
        s->outs = o;
        s->cap = cap;
    }
    g_output *o = &s->outs[s->n_outs];
    o->name = pf_strdup(name);
    o->v = pf_malloc((n ? n : 1) * sizeof(double), name);
    if (!o->name || !o->v) {
        free(o->name);
        free(o->v);
        return PF_ERR_OOM;
    }
    for (size_t i = 0; i < n; i++) o->v[i] = pf_load_elem(data, dt, i); /* exact for every dtype a case stores */
    o->n = n;
    s->n_outs++;
    return PF_OK;
}

pf_status pf_golden_skip(pf_golden_case *c, const char *fmt, ...) {
    g_state *s = state_of(c);
    if (!s) return pf_error(PF_ERR_INVALID_ARG, "pf_golden_skip: no case");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->skip_reason, sizeof s->skip_reason, fmt, ap);
    va_end(ap);
    s->skipped = true;
    return PF_OK;
}

pf_status pf_golden_report(pf_golden_case *c, bool pass, const char *fmt, ...) {
    g_state *s = state_of(c);
    if (!s) return pf_error(PF_ERR_INVALID_ARG, "pf_golden_report: no case");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->report_text, sizeof s->report_text, fmt, ap);
    va_end(ap);
    s->reported = true;
    s->report_pass = pass;
    return PF_OK;
}

/* ---- inputs ---- */

static pf_status find_input(const pf_golden_case *c, const char *name, const pf_st_tensor **t) {
    if (!c || !name) return pf_error(PF_ERR_INVALID_ARG, "golden input: bad arguments");
    if (!c->file) return pf_error(PF_ERR_NOT_FOUND, "case '%s' has no case file (input '%s')", c->name, name);
    *t = pf_st_find(c->file, name);
    if (!*t)
        return pf_error(PF_ERR_NOT_FOUND, "case '%s': input '%s' is missing from %s", c->name, name,
                        pf_st_path(c->file));
    if ((*t)->ndim > PF_MAX_DIMS) /* callers' shape arrays hold PF_MAX_DIMS */
        return pf_error(PF_ERR_SHAPE, "case '%s': input '%s' has %d dims, more than %d", c->name, name, (*t)->ndim,
                        PF_MAX_DIMS);
    return PF_OK;
}

static size_t tensor_nelem(const pf_st_tensor *t) { return t->nbytes / pf_dtype_size(t->dtype); }

static void copy_shape(const pf_st_tensor *t, int64_t *shape, int *ndim) {
    if (shape)
        for (int d = 0; d < PF_MAX_DIMS; d++) shape[d] = d < t->ndim ? t->shape[d] : 1;
    if (ndim) *ndim = t->ndim;
}

pf_status pf_golden_in_f32(const pf_golden_case *c, const char *name, float **out, int64_t *shape, int *ndim) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_golden_in_f32: NULL out");
    *out = NULL;
    const pf_st_tensor *t = NULL;
    PF_TRY(find_input(c, name, &t));
    size_t n = tensor_nelem(t);
    float *v = pf_malloc((n ? n : 1) * sizeof *v, name);
    if (!v) return PF_ERR_OOM;
    /* Integer inputs (u8 images, masks) come out exactly; f64 rounds to nearest. */
    pf_convert(v, PF_F32, t->data, t->dtype, n);
    copy_shape(t, shape, ndim);
    *out = v;
    return PF_OK;
}

pf_status pf_golden_in_i64(const pf_golden_case *c, const char *name, int64_t **out, int64_t *shape, int *ndim) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_golden_in_i64: NULL out");
    *out = NULL;
    const pf_st_tensor *t = NULL;
    PF_TRY(find_input(c, name, &t));
    if (pf_dtype_is_float(t->dtype))
        return pf_error(PF_ERR_SHAPE, "case '%s': input '%s' is %s, not an integer tensor", c->name, name,
                        pf_dtype_name(t->dtype));
    size_t n = tensor_nelem(t);
    int64_t *v = pf_malloc((n ? n : 1) * sizeof *v, name);
    if (!v) return PF_ERR_OOM;
    for (size_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case PF_I64: v[i] = ((const int64_t *)t->data)[i]; break;
        case PF_I32: v[i] = ((const int32_t *)t->data)[i]; break;
        default: v[i] = ((const uint8_t *)t->data)[i]; break; /* u8, bool */
        }
    }
    copy_shape(t, shape, ndim);
    *out = v;
    return PF_OK;
}

/* ---- one case ---- */

typedef struct {
    char *name;
    bool tokenizer; /* tokenizer_t5 / tokenizer_clip: no case file */
} g_case_ref;

typedef struct {
    const char *pack;
    const pf_golden_opts *opts;
    FILE *out;
    const pf_golden_runner_entry *extra;
    int n_extra;
    pf_backend *backend;
    char backend_error[600]; /* set when the backend could not be created */
    FILE *detail;            /* verbose per-tensor lines, printed after the case line */
} g_run;

static pf_golden_runner find_runner(const g_run *r, const char *kind) {
    for (int i = 0; i < r->n_extra; i++)
        if (r->extra[i].kind && !strcmp(r->extra[i].kind, kind)) return r->extra[i].run;
    for (const pf_golden_runner_entry *e = runners; e->kind; e++)
        if (!strcmp(e->kind, kind)) return e->run;
    return NULL;
}

/* Print "NAME VERDICT text", continuation lines of multi-line messages indented. */
static void print_line(FILE *out, const char *name, const char *verdict, const char *text) {
    fprintf(out, "%s %s", name, verdict);
    if (text && *text) {
        fputc(text[0] == ':' ? ':' : ' ', out);
        if (text[0] == ':') text++;
        for (const char *p = text; *p; p++) {
            fputc(*p, out);
            if (*p == '\n') fputs("    ", out);
        }
    }
    fputc('\n', out);
    fflush(out);
}

static bool is_compared(const char *name) { return !strncmp(name, "out.", 4) && strncmp(name, "out.dbg.", 8); }

static void fmt_figures(char *buf, size_t n, const pf_golden_stats *st) {
    size_t o;
    if (st->n_float)
        o = (size_t)snprintf(buf, n, "max_abs=%.3g nmse=%.3g", st->max_abs, pf_golden_nmse(st));
    else
        o = (size_t)snprintf(buf, n, "max_abs=n/a nmse=n/a");
    if (st->n_u8 && o < n)
        snprintf(buf + o, n - o, " frames_off=%" PRId64 "/%" PRId64 " (%.4f %%) max_diff=%" PRId64, st->u8_off,
                 st->n_u8, 100.0 * (double)st->u8_off / (double)st->n_u8, st->u8_max);
}

/* Compare every out.* of the case file with what the runner produced. */
static pf_golden_verdict compare_outputs(const g_run *r, const pf_golden_case *c, pf_golden_rule rule, const g_state *s,
                                         char *line, size_t line_len) {
    bool gpu = strcmp(pf_backend_name(r->backend), "cpu") != 0;
    pf_dtype dt = pf_golden_judge_dtype(r->opts, c->kind);
    pf_golden_stats acc = {0};
    char why[512] = "", first_why[512] = "";
    int n_bad = 0;
    for (int i = 0; i < pf_st_count(c->file); i++) {
        const pf_st_tensor *ref = pf_st_at(c->file, i);
        if (!is_compared(ref->name)) continue;
        const g_output *o = NULL;
        for (int k = 0; k < s->n_outs && !o; k++)
            if (!strcmp(s->outs[k].name, ref->name)) o = &s->outs[k];
        pf_golden_stats st = {0};
        pf_golden_verdict v;
        if (!o) {
            snprintf(why, sizeof why, "output '%s' was not produced", ref->name);
            v = PF_GOLDEN_FAIL;
        } else {
            v = pf_golden_compare(rule, gpu, dt, ref, o->v, o->n, &st, why, sizeof why);
            pf_golden_stats_merge(&acc, &st);
        }
        if (v == PF_GOLDEN_FAIL && n_bad++ == 0) snprintf(first_why, sizeof first_why, "%s", why);
        if (r->detail) {
            char fig[256], shp[96];
            size_t so = (size_t)snprintf(shp, sizeof shp, "[");
            for (int d = 0; d < ref->ndim && so < sizeof shp; d++)
                so += (size_t)snprintf(shp + so, sizeof shp - so, "%s%" PRId64, d ? ", " : "", ref->shape[d]);
            if (so < sizeof shp) snprintf(shp + so, sizeof shp - so, "]");
            fmt_figures(fig, sizeof fig, &st);
            fprintf(r->detail, "    %s %s %s: %s %s\n", ref->name, pf_dtype_name(ref->dtype), shp,
                    v == PF_GOLDEN_PASS ? "ok" : "FAIL", o ? fig : "(not produced)");
            if (v == PF_GOLDEN_FAIL) fprintf(r->detail, "      %s\n", why);
        }
    }
    if (r->detail)
        for (int k = 0; k < s->n_outs; k++)
            if (!pf_st_find(c->file, s->outs[k].name))
                fprintf(r->detail, "    (output '%s' is not in the case file; not compared)\n", s->outs[k].name);
    char fig[256];
    fmt_figures(fig, sizeof fig, &acc);
    bool no_threshold = dt == PF_BF16 && rule == PF_GRULE_PIPELINE;
    if (n_bad == 0) {
        snprintf(line, line_len, "%s%s", fig, no_threshold ? " (bf16: no threshold)" : "");
        return PF_GOLDEN_PASS;
    }
    if (n_bad > 1)
        snprintf(line, line_len, "%s: %s (and %d more failing tensor%s)", fig, first_why, n_bad - 1,
                 n_bad > 2 ? "s" : "");
    else
        snprintf(line, line_len, "%s: %s", fig, first_why);
    return PF_GOLDEN_FAIL;
}

static pf_golden_verdict run_case(g_run *r, const g_case_ref *cr) {
    char line[2600] = "";
    pf_golden_verdict v = PF_GOLDEN_FAIL;
    pf_st_file *file = NULL;
    pf_json *meta = NULL;
    char *case_path = NULL, *model_dir = NULL;
    g_state st = {0};
    pf_golden_case c = {.pack_dir = r->pack, .name = cr->name, .backend = r->backend, .opts = r->opts, .priv = &st};
    double t0 = pf_time_now();
    char *detail = NULL;
    size_t detail_len = 0;
    r->detail = r->opts->verbose ? open_memstream(&detail, &detail_len) : NULL;

    if (r->backend_error[0]) {
        snprintf(line, sizeof line, ": %s", r->backend_error);
        v = PF_GOLDEN_SKIP;
        goto report;
    }
    if (cr->tokenizer) {
        c.kind = G_TOKENIZER_KIND;
        model_dir = pf_path_join(r->pack, "tokenizers");
    } else {
        char rel[1024];
        snprintf(rel, sizeof rel, "cases/%s.safetensors", cr->name);
        case_path = pf_path_join(r->pack, rel);
        if (!case_path) {
            snprintf(line, sizeof line, ": out of memory");
            goto report;
        }
        if (pf_st_open(case_path, &file) != PF_OK) {
            snprintf(line, sizeof line, ": %s", pf_last_error());
            goto report;
        }
        const char *mtext = pf_st_metadata(file, "case");
        if (!mtext) {
            snprintf(line, sizeof line, ": %s: no \"case\" metadata", case_path);
            goto report;
        }
        char label[1100];
        snprintf(label, sizeof label, "%s (\"case\" metadata)", case_path);
        if (pf_json_parse(mtext, strlen(mtext), label, &meta) != PF_OK) {
            snprintf(line, sizeof line, ": %s", pf_last_error());
            goto report;
        }
        pf_status rc = PF_OK;
        c.kind = pf_json_opt_str(meta, "kind", NULL, &rc);
        const char *md = pf_json_opt_str(meta, "model_dir", NULL, &rc);
        if (rc != PF_OK || !c.kind || !c.kind[0]) {
            snprintf(line, sizeof line, ": %s", rc != PF_OK ? pf_last_error() : "no \"kind\" in the case metadata");
            goto report;
        }
        if (md && md[0]) model_dir = md[0] == '/' ? pf_strdup(md) : pf_path_join(r->pack, md);
    }
    c.file = file;
    c.meta = meta;
    c.model_dir = model_dir;

    pf_golden_runner run = find_runner(r, c.kind);
    if (!run) {
        snprintf(line, sizeof line, ": kind '%s' is not implemented in this build", c.kind);
        v = PF_GOLDEN_SKIP;
        goto report;
    }
    pf_golden_rule rule;
    if (!pf_golden_rule_for(c.kind, &rule)) {
        snprintf(line, sizeof line, ": kind '%s' has no comparison rule", c.kind);
        goto report;
    }
    if (model_dir && !pf_dir_exists(model_dir)) {
        snprintf(line, sizeof line, ": model_dir %s not found", model_dir);
        goto report;
    }
    if (rule != PF_GRULE_REPORT) {
        bool any = false;
        for (int i = 0; i < pf_st_count(file) && !any; i++) any = is_compared(pf_st_at(file, i)->name);
        if (!any) {
            snprintf(line, sizeof line, ": %s has no out.* tensors to compare", case_path);
            goto report;
        }
    }

    pf_clear_error();
    pf_status rc = run(&c);
    if (rc != PF_OK) {
        snprintf(line, sizeof line, ": %s", pf_last_error()[0] ? pf_last_error() : pf_status_str(rc));
        goto report;
    }
    if (st.skipped) {
        snprintf(line, sizeof line, ": %s", st.skip_reason);
        v = PF_GOLDEN_SKIP;
        goto report;
    }
    if (rule == PF_GRULE_REPORT) {
        if (!st.reported) {
            snprintf(line, sizeof line, ": the runner reported no result");
            goto report;
        }
        snprintf(line, sizeof line, "%s", st.report_text);
        v = st.report_pass ? PF_GOLDEN_PASS : PF_GOLDEN_FAIL;
        goto report;
    }
    v = compare_outputs(r, &c, rule, &st, line, sizeof line);

report:
    print_line(r->out, cr->name, v == PF_GOLDEN_PASS ? "PASS" : v == PF_GOLDEN_FAIL ? "FAIL" : "SKIP", line);
    if (r->detail) {
        fclose(r->detail);
        r->detail = NULL;
        if (detail) fputs(detail, r->out);
    }
    free(detail);
    if (r->opts->verbose) fprintf(r->out, "    (%.2f s)\n", pf_time_now() - t0);
    g_state_free(&st);
    pf_json_free(meta);
    pf_st_close(file);
    free(case_path);
    free(model_dir);
    return v;
}

/* ---- the pack ---- */

static int cmp_case(const void *a, const void *b) {
    return strcmp(((const g_case_ref *)a)->name, ((const g_case_ref *)b)->name);
}

static pf_status add_case(g_case_ref **list, int *n, int *cap, const char *name, size_t len, bool tokenizer) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 32;
        g_case_ref *l = pf_realloc(*list, (size_t)c * sizeof *l, "case list");
        if (!l) return PF_ERR_OOM;
        *list = l;
        *cap = c;
    }
    char *s = pf_malloc(len + 1, "case name");
    if (!s) return PF_ERR_OOM;
    memcpy(s, name, len);
    s[len] = '\0';
    (*list)[(*n)++] = (g_case_ref){s, tokenizer};
    return PF_OK;
}

static pf_status list_cases(const char *pack, g_case_ref **list, int *n) {
    *list = NULL;
    *n = 0;
    int cap = 0;
    pf_status rc = PF_OK;
    char *cases = pf_path_join(pack, "cases"), *tok = pf_path_join(pack, "tokenizers");
    if (!cases || !tok) {
        rc = PF_ERR_OOM;
        goto done;
    }
    bool have_cases = pf_dir_exists(cases), have_tok = pf_dir_exists(tok);
    if (!have_cases && !have_tok) {
        rc = pf_error(PF_ERR_NOT_FOUND, "%s: not a golden pack (no cases/ or tokenizers/ folder)", pack);
        goto done;
    }
    if (have_cases) {
        DIR *d = opendir(cases);
        if (!d) {
            rc = pf_error(PF_ERR_IO, "%s: cannot list the folder", cases);
            goto done;
        }
        static const char ext[] = ".safetensors";
        struct dirent *e;
        while (rc == PF_OK && (e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (e->d_name[0] == '.' || len <= sizeof ext - 1 || strcmp(e->d_name + len - (sizeof ext - 1), ext))
                continue;
            rc = add_case(list, n, &cap, e->d_name, len - (sizeof ext - 1), false);
        }
        closedir(d);
    }
    if (rc == PF_OK && have_tok) rc = add_case(list, n, &cap, "tokenizer_t5", 12, true);
    if (rc == PF_OK && have_tok) rc = add_case(list, n, &cap, "tokenizer_clip", 14, true);
    if (rc == PF_OK) qsort(*list, (size_t)*n, sizeof **list, cmp_case);
done:
    free(cases);
    free(tok);
    return rc;
}

pf_status pf_golden_check_pack_with(const char *pack_dir, const pf_golden_opts *opts, FILE *out,
                                    const pf_golden_runner_entry *extra, int n_extra, int *n_passed, int *n_failed,
                                    int *n_skipped) {
    if (n_passed) *n_passed = 0;
    if (n_failed) *n_failed = 0;
    if (n_skipped) *n_skipped = 0;
    pf_golden_opts def = {.backend = "cpu", .dtype = PF_F32};
    if (!opts) opts = &def;
    if (!out) out = stdout;
    if (!pack_dir) pack_dir = pf_golden_default_dir();
    if (opts->dtype != PF_F32 && opts->dtype != PF_BF16)
        return pf_error(PF_ERR_INVALID_ARG, "check-golden: dtype %s is not supported (f32 or bf16)",
                        pf_dtype_name(opts->dtype));
    if (opts->act != PF_F32 && opts->act != PF_BF16)
        return pf_error(PF_ERR_INVALID_ARG, "check-golden: DiT activations in %s are not supported (f32 or bf16)",
                        pf_dtype_name(opts->act));
    if (!pf_dir_exists(pack_dir)) return pf_error(PF_ERR_NOT_FOUND, "%s: golden pack folder not found", pack_dir);
    g_case_ref *cases;
    int n_cases;
    PF_TRY(list_cases(pack_dir, &cases, &n_cases));

    g_run r = {.pack = pack_dir, .opts = opts, .out = out, .extra = extra, .n_extra = n_extra};
    const char *bname = opts->backend && *opts->backend ? opts->backend : "cpu";
    pf_backend_options bo = {.device = -1, .threads = opts->threads, .reference = false};
    if (pf_backend_create(bname, &bo, &r.backend) != PF_OK)
        snprintf(r.backend_error, sizeof r.backend_error, "backend '%s' unavailable: %s", bname, pf_last_error());
    fprintf(out, "check-golden %s: backend %s, weights %s, DiT activations %s\n", pack_dir, bname,
            pf_dtype_name(opts->dtype), pf_dtype_name(opts->act));
    int np = 0, nf = 0, ns = 0;
    for (int i = 0; i < n_cases; i++) {
        if (opts->filter && *opts->filter && !strstr(cases[i].name, opts->filter)) continue;
        pf_golden_verdict v = run_case(&r, &cases[i]);
        if (v == PF_GOLDEN_PASS)
            np++;
        else if (v == PF_GOLDEN_FAIL)
            nf++;
        else
            ns++;
    }
    fprintf(out, "%d passed, %d failed, %d skipped\n", np, nf, ns);
    fflush(out);
    pf_backend_free(r.backend);
    for (int i = 0; i < n_cases; i++) free(cases[i].name);
    free(cases);
    if (n_passed) *n_passed = np;
    if (n_failed) *n_failed = nf;
    if (n_skipped) *n_skipped = ns;
    if (nf)
        return pf_error(PF_ERR_INTERNAL, "%s: %d of %d golden case%s failed", pack_dir, nf, np + nf + ns,
                        np + nf + ns == 1 ? "" : "s");
    return PF_OK;
}

pf_status pf_golden_check_pack(const char *pack_dir, const pf_golden_opts *opts, FILE *out, int *n_passed,
                               int *n_failed, int *n_skipped) {
    return pf_golden_check_pack_with(pack_dir, opts, out, NULL, 0, n_passed, n_failed, n_skipped);
}
