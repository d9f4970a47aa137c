/*
 * Sweeps: a case list on several backends with size budgets, and the support matrix.
 *
 * Exported model graphs hold nodes far beyond what the naive CPU reference or a CPU
 * Vulkan driver can run in reasonable time (a 768p DiT attention is ~1e14 FLOP). Each
 * side's speed is measured on a fixed GEMM, and a case whose estimated time exceeds
 * the budget on either side, or whose tensors exceed the backend's largest buffer or
 * the memory budget, is reported "skipped-by-size" -- never as a pass -- and its
 * reduced twin (same op, dtypes, params, channels and head dims; fewer tokens or
 * pixels) runs instead, so every signature is still exercised.
 */
#include "conformance.h"

#include <math.h>

#define SWEEP_MAX_BACKENDS 8

typedef struct tally {
    int pass, reduced, fail, unsup, skip;
} tally;

typedef struct row {
    char key[96];
    tally t[SWEEP_MAX_BACKENDS];
} row;

typedef struct rows {
    row *r;
    int n, cap;
} rows;

/* "linear f32 <- f32,bf16": op, output dtype, the distinct dtypes of float inputs. */
static void case_key(const pf_conf_case *c, char *buf, size_t len) {
    pf_dtype out = c->op == PF_OP_CPY ? c->out_dtype : c->in[0].dtype;
    size_t o = (size_t)snprintf(buf, len, "%-14s %s <-", pf_op_name(c->op), pf_dtype_name(out));
    bool seen[PF_DTYPE_COUNT] = {0}, first = true;
    for (int i = 0; i < c->n_in && o < len; i++) {
        pf_dtype d = c->in[i].dtype;
        if (!pf_dtype_is_float(d) && c->op != PF_OP_CPY) continue; /* ids and mask metas */
        if (seen[d]) continue;
        seen[d] = true;
        o += (size_t)snprintf(buf + o, len - o, "%s%s", first ? " " : ",", pf_dtype_name(d));
        first = false;
    }
}

static tally *rows_get(rows *rs, const pf_conf_case *c, int b) {
    char key[96];
    case_key(c, key, sizeof key);
    for (int i = 0; i < rs->n; i++)
        if (!strcmp(rs->r[i].key, key)) return &rs->r[i].t[b];
    if (rs->n == rs->cap) {
        int cap = rs->cap ? 2 * rs->cap : 64;
        row *nr = realloc(rs->r, (size_t)cap * sizeof *nr);
        if (!nr) return NULL;
        rs->r = nr;
        rs->cap = cap;
    }
    row *r = &rs->r[rs->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->key, sizeof r->key, "%s", key);
    return &r->t[b];
}

static int row_cmp(const void *a, const void *b) { return strcmp(((const row *)a)->key, ((const row *)b)->key); }

/* GFLOP/s of one side on a fixed f32 GEMM (warm: the second of two runs). */
static double measure_rate(pf_conf_runner *r, bool reference) {
    pf_conf_list l = {0};
    pf_conf_case *c = pf_conf_add(&l, PF_OP_MATMUL, "calibration matmul f32 [256,256]x[256,256]^T");
    double rate = 0.0;
    if (c) {
        pf_conf_in(c, PF_F32, 2, (const int64_t[]){256, 256}, PF_FILL_RANDN);
        pf_conf_in(c, PF_F32, 2, (const int64_t[]){256, 256}, PF_FILL_RANDN);
        c->ip[0] = 1;
        c->fp[0] = 1.0f;
        double t = 0.0, t2 = 0.0;
        if (pf_conf_time_case(r, c, reference, &t) == PF_OK && pf_conf_time_case(r, c, reference, &t2) == PF_OK)
            rate = 2.0 * 256 * 256 * 256 / fmax(fmin(t, t2), 1e-6);
    }
    pf_conf_list_free(&l);
    return rate;
}

typedef struct side_budget {
    double ref_rate, test_rate; /* FLOP/s */
    size_t max_buffer;
} side_budget;

/* Whether a case fits; else why not. */
static bool fits(const pf_conf_case *c, const side_budget *sb, const pf_conf_sweep_opts *o, char *why, size_t len) {
    double fl, by, lg;
    if (pf_conf_case_cost(c, &fl, &by, &lg) != PF_OK) {
        snprintf(why, len, "cannot build: %s", pf_last_error());
        return false;
    }
    char b1[32], b2[32];
    if (lg + 4096 > (double)sb->max_buffer) {
        snprintf(why, len, "a tensor of %s, largest buffer %s", pf_fmt_bytes(lg, b1, sizeof b1),
                 pf_fmt_bytes((double)sb->max_buffer, b2, sizeof b2));
        return false;
    }
    if (o->max_bytes > 0 && by > o->max_bytes) {
        snprintf(why, len, "%s of tensors, budget %s", pf_fmt_bytes(by, b1, sizeof b1),
                 pf_fmt_bytes(o->max_bytes, b2, sizeof b2));
        return false;
    }
    if (o->seconds > 0) {
        /* FLOPs at the measured rate plus a conservative 1 GB/s for the bytes */
        double tr = fl / fmax(sb->ref_rate, 1.0) + by / 1e9, tt = fl / fmax(sb->test_rate, 1.0) + by / 1e9;
        if (tr > o->seconds || tt > o->seconds) {
            snprintf(why, len, "%.3g GFLOP: ~%.0f s on the %s", fl * 1e-9, fmax(tr, tt), tr > tt ? "reference" : "backend");
            return false;
        }
    }
    return true;
}

/* Reduced twins of different full cases often coincide (the 384p and 768p versions of
 * one linear): each distinct twin runs once per backend, later ones reuse its verdict. */
typedef struct twin_seen {
    char (*names)[sizeof(((pf_conf_case *)0)->name)];
    int *verdict; /* 1 pass, 0 fail, -1 unsupported */
    int n, cap;
} twin_seen;

static int *twin_find(twin_seen *ts, const char *name) {
    for (int i = 0; i < ts->n; i++)
        if (!strcmp(ts->names[i], name)) return &ts->verdict[i];
    return NULL;
}

static void twin_add(twin_seen *ts, const char *name, int verdict) {
    if (ts->n == ts->cap) {
        int cap = ts->cap ? 2 * ts->cap : 64;
        void *nn = realloc(ts->names, (size_t)cap * sizeof *ts->names);
        if (!nn) return;
        ts->names = nn;
        int *nv = realloc(ts->verdict, (size_t)cap * sizeof *nv);
        if (!nv) return;
        ts->verdict = nv;
        ts->cap = cap;
    }
    snprintf(ts->names[ts->n], sizeof ts->names[ts->n], "%s", name);
    ts->verdict[ts->n++] = verdict;
}

/* Print and tally one verdict; returns 1 on failure. */
static int report(const pf_conf_result *res, const pf_conf_case *c, const char *be, FILE *out, tally *t, bool reduced,
                  int *verdict) {
    if (!res->supported) {
        fprintf(out, "%-7s %s: not supported (%s)\n", be, c->name, res->why);
        if (!reduced) t->unsup++;
        *verdict = -1;
        return 0;
    }
    if (res->pass) {
        fprintf(out, "%-7s %s: ok nmse=%.2e max_abs=%.2e\n", be, c->name, res->nmse, res->max_abs);
        if (reduced) t->reduced++;
        else t->pass++;
        *verdict = 1;
        return 0;
    }
    fprintf(out, "%-7s %s: FAIL %s\n", be, c->name, res->why);
    t->fail++;
    *verdict = 0;
    return 1;
}

int pf_conf_sweep(const pf_conf_list *l, const char *const *backends, int n_backends, const pf_conf_sweep_opts *o,
                  FILE *out) {
    rows rs = {0};
    const char *names[SWEEP_MAX_BACKENDS];
    pf_conf_runner *runners[SWEEP_MAX_BACKENDS];
    side_budget sb[SWEEP_MAX_BACKENDS];
    twin_seen twins[SWEEP_MAX_BACKENDS];
    memset(twins, 0, sizeof twins);
    int nb = 0, failures = 0;
    double ref_rate = 0.0;
    for (int b = 0; b < n_backends && nb < SWEEP_MAX_BACKENDS; b++) {
        pf_conf_runner *r;
        if (pf_conf_runner_create(backends[b], &r) != PF_OK) {
            fprintf(out, "backend %s: not available: %s\n", backends[b], pf_last_error());
            continue;
        }
        if (nb == 0) ref_rate = measure_rate(r, true); /* one CPU reference for all */
        runners[nb] = r;
        names[nb] = backends[b];
        sb[nb] = (side_budget){.ref_rate = ref_rate, .test_rate = measure_rate(r, false)};
        pf_backend_info info;
        pf_backend_get_info(pf_conf_runner_backend(r), &info);
        sb[nb].max_buffer = info.max_buffer_size;
        fprintf(out, "backend %s: %s; measured %.2f GFLOP/s (reference %.2f), largest buffer %zu, budget %.0f s per case\n",
                backends[b], info.device, sb[nb].test_rate * 1e-9, ref_rate * 1e-9, info.max_buffer_size, o->seconds);
        nb++;
    }
    if (!nb) return -1;
    fflush(out);
    /* case-major: each case's reference runs once for all the backends it fits */
    for (int i = 0; i < l->n; i++) {
        const pf_conf_case *c = &l->cases[i];
        if (o->filter && !strstr(c->name, o->filter) && strcmp(pf_op_name(c->op), o->filter)) continue;
        pf_conf_runner *run[SWEEP_MAX_BACKENDS];
        int idx[SWEEP_MAX_BACKENDS], n_run = 0, small[SWEEP_MAX_BACKENDS], n_small = 0;
        char why[256];
        for (int b = 0; b < nb; b++) {
            if (fits(c, &sb[b], o, why, sizeof why)) {
                run[n_run] = runners[b];
                idx[n_run++] = b;
            } else {
                fprintf(out, "%-7s %s: skipped-by-size (%s)\n", names[b], c->name, why);
                small[n_small++] = b;
            }
        }
        pf_conf_result res[SWEEP_MAX_BACKENDS];
        pf_conf_run_case_multi(run, n_run, c, res);
        for (int k = 0; k < n_run; k++) {
            int v;
            tally *t = rows_get(&rs, c, idx[k]);
            if (t) failures += report(&res[k], c, names[idx[k]], out, t, false, &v);
        }
        /* reduced twins where the full case did not fit */
        pf_conf_case twin;
        bool have_twin = n_small > 0 && o->reduce_cap > 0 && pf_conf_shrink(c, &twin, o->reduce_cap);
        n_run = 0;
        bool passed[SWEEP_MAX_BACKENDS] = {0};
        for (int k = 0; k < n_small && have_twin; k++) {
            int b = small[k];
            int *seen = twin_find(&twins[b], twin.name);
            if (seen) {
                fprintf(out, "%-7s %s: %s (as before)\n", names[b], twin.name,
                        *seen > 0 ? "ok" : *seen == 0 ? "FAIL" : "not supported");
                tally *t = rows_get(&rs, c, b);
                if (t && *seen > 0) t->reduced++;
                passed[b] = *seen > 0;
            } else if (fits(&twin, &sb[b], o, why, sizeof why)) {
                run[n_run] = runners[b];
                idx[n_run++] = b;
            } else {
                fprintf(out, "%-7s %s: skipped-by-size (%s)\n", names[b], twin.name, why);
            }
        }
        if (n_run) {
            pf_conf_run_case_multi(run, n_run, &twin, res);
            for (int k = 0; k < n_run; k++) {
                int v = 0;
                tally *t = rows_get(&rs, c, idx[k]);
                if (t) failures += report(&res[k], &twin, names[idx[k]], out, t, true, &v);
                twin_add(&twins[idx[k]], twin.name, v);
                passed[idx[k]] = v > 0;
            }
        }
        for (int k = 0; k < n_small; k++) {
            tally *t = rows_get(&rs, c, small[k]);
            if (t && !passed[small[k]]) t->skip++;
        }
        fflush(out);
    }
    for (int b = 0; b < nb; b++) {
        free(twins[b].names);
        free(twins[b].verdict);
        pf_conf_runner_free(runners[b]);
    }
    qsort(rs.r, (size_t)rs.n, sizeof *rs.r, row_cmp);
    fprintf(out, "\nsupport matrix: pass / reduced-only pass / FAIL / unsupported / skipped-by-size\n");
    fprintf(out, "%-40s", "op and dtypes (out <- inputs)");
    for (int b = 0; b < nb; b++) fprintf(out, " %18s", names[b]);
    fprintf(out, "\n");
    tally tot[SWEEP_MAX_BACKENDS] = {0};
    for (int i = 0; i < rs.n; i++) {
        fprintf(out, "%-40s", rs.r[i].key);
        for (int b = 0; b < nb; b++) {
            const tally *t = &rs.r[i].t[b];
            char cell[48];
            snprintf(cell, sizeof cell, "%d/%d/%d/%d/%d", t->pass, t->reduced, t->fail, t->unsup, t->skip);
            fprintf(out, " %18s", cell);
            tot[b].pass += t->pass, tot[b].reduced += t->reduced, tot[b].fail += t->fail, tot[b].unsup += t->unsup,
                tot[b].skip += t->skip;
        }
        fprintf(out, "\n");
    }
    fprintf(out, "%-40s", "total");
    for (int b = 0; b < nb; b++) {
        char cell[48];
        snprintf(cell, sizeof cell, "%d/%d/%d/%d/%d", tot[b].pass, tot[b].reduced, tot[b].fail, tot[b].unsup, tot[b].skip);
        fprintf(out, " %18s", cell);
    }
    fprintf(out, "\n");
    free(rs.r);
    return failures;
}
