/* Shared benchmark helpers (bench_common.h). */
#include "bench_common.h"
#include "pf_random_fill.h"
#include "pf_threads.h"
#include "pflow_cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "bench KIND" for messages */
static const char *pf_bench_cmd(const char *kind, char *buf, size_t n) {
    snprintf(buf, n, "bench%s%s", kind ? " " : "", kind ? kind : "");
    return buf;
}

bool pf_bench_int(const char *kind, const char *opt, const char *val, int lo, int hi, int *out) {
    char cmd[64];
    pf_bench_cmd(kind, cmd, sizeof cmd);
    if (!val) return pf_cli_error(PF_EXIT_USAGE, cmd, "%s needs a value", opt) == 0;
    return pf_cli_int(cmd, opt, val, lo, hi, out);
}

bool pf_bench_u64(const char *kind, const char *opt, const char *val, uint64_t *out) {
    char cmd[64];
    pf_bench_cmd(kind, cmd, sizeof cmd);
    if (!val) return pf_cli_error(PF_EXIT_USAGE, cmd, "%s needs a value", opt) == 0;
    return pf_cli_u64(cmd, opt, val, out);
}

size_t pf_bench_peak_rss(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) {
            kb = (size_t)strtoull(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb * 1024;
}

int pf_bench_parse(int argc, char **argv, pf_bench_opts *o, const char *usage, pf_bench_extra_fn extra, void *ctx) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s", usage);
            return 1;
        } else if (!strcmp(a, "--quick")) {
            o->quick = true;
        } else if (!strcmp(a, "--threads")) {
            if (!pf_bench_int(argv[0], a, i + 1 < argc ? argv[i + 1] : NULL, 0, 1000000, &o->threads)) return 2;
            i++;
        } else if (!strcmp(a, "--reps")) {
            if (!pf_bench_int(argv[0], a, i + 1 < argc ? argv[i + 1] : NULL, 1, 1000000, &o->reps)) return 2;
            i++;
        } else if (!strcmp(a, "--backend")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "pflow bench: --backend needs a name\n");
                return 2;
            }
            o->backend = argv[++i];
        } else {
            int used = extra ? extra(argc, argv, i, ctx) : 0;
            if (used < 0) return 2;
            if (used == 0) {
                fprintf(stderr, "pflow bench %s: unknown option '%s'\n\n%s", argv[0], a, usage);
                return 2;
            }
            i += used - 1;
        }
    }
    return 0;
}

static int pf_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double pf_bench_median(double *v, int n) {
    if (n <= 0) return 0.0;
    qsort(v, (size_t)n, sizeof *v, pf_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

pf_status pf_bench_time(pf_bench_fn fn, void *ctx, int reps, double *median_s, double *min_s) {
    PF_TRY(fn(ctx)); /* warm-up: first-touch of buffers, scratch growth, BLAS thread start */
    if (reps < 1) reps = 1;
    double *t = malloc((size_t)reps * sizeof *t);
    if (!t) return pf_error(PF_ERR_OOM, "out of host memory (bench timings)");
    for (int r = 0; r < reps; r++) {
        double t0 = pf_time_now();
        pf_status rc = fn(ctx);
        t[r] = pf_time_now() - t0;
        if (rc != PF_OK) {
            free(t);
            return rc;
        }
    }
    double mn = t[0];
    for (int r = 1; r < reps; r++) mn = t[r] < mn ? t[r] : mn;
    if (min_s) *min_s = mn;
    if (median_s) *median_s = pf_bench_median(t, reps);
    free(t);
    return PF_OK;
}

pf_status pf_bench_backend(const pf_bench_opts *o, pf_backend **out) {
    pf_backend_options bo = {.device = -1, .threads = o->threads, .reference = false};
    return pf_backend_create(o->backend ? o->backend : "cpu", &bo, out);
}

void pf_bench_print_conditions(FILE *f, pf_backend *be, const pf_bench_opts *o, const char *dtype) {
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    char date[64] = "";
    time_t now = time(NULL);
    struct tm tmv;
    if (localtime_r(&now, &tmv)) strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tmv);
    fprintf(f, "conditions:\n");
    fprintf(f, "  pflow %s, %s\n", pf_version(), date);
    fprintf(f, "  backend %s: %s\n", info.name, info.device);
    if (!strcmp(info.name, "cpu")) {
        char g[256];
        fprintf(f, "  threads %d (%d cores online)\n", pf_cpu_get_threads(be), pf_cpu_count());
        fprintf(f, "  GEMM: %s\n", pf_cpu_gemm_desc(be, g, sizeof g));
    }
    fprintf(f, "  dtype %s\n", dtype);
    fprintf(f, "  timing: median of %d repetition(s) after one warm-up%s\n", o->reps, o->quick ? " (--quick subset)" : "");
}

typedef struct {
    pf_graph *g;
} bench_gemm_ctx;

static pf_status bench_gemm_run(void *ctx) {
    return pf_graph_compute(((bench_gemm_ctx *)ctx)->g);
}

pf_status pf_bench_gemm_peak(pf_backend *be, pf_dtype dt, int n, int reps, double *flops_per_s) {
    *flops_per_s = 0.0;
    pf_graph *g = pf_graph_new("gemm_peak");
    pf_arena *a = NULL;
    if (!g) return pf_error(PF_ERR_OOM, "out of host memory (GEMM graph)");
    const int64_t ne[2] = {n, n};
    pf_tensor *x = pf_input(g, dt, 2, ne, "x"), *w = pf_input(g, dt, 2, ne, "w");
    pf_tensor *y = pf_linear(g, x, w, NULL); // [n, n] = x [n, n] . w[n, n]^T
    pf_output(g, y);
    pf_status rc = pf_graph_status(g);
    if (rc == PF_OK) rc = pf_arena_create(be, &a);
    if (rc == PF_OK) rc = pf_graph_plan(g, a, NULL);
    pf_random_fill rf = {.seed = 1};
    if (rc == PF_OK) rc = pf_random_fill_tensor(&rf, x, 0, 0.0f, 1.0f);
    if (rc == PF_OK) rc = pf_random_fill_tensor(&rf, w, 1, 0.0f, 1.0f);
    pf_random_fill_free(&rf);
    double med = 0.0;
    bench_gemm_ctx c = {g};
    if (rc == PF_OK) rc = pf_bench_time(bench_gemm_run, &c, reps, &med, NULL);
    if (rc == PF_OK && med > 0) *flops_per_s = 2.0 * (double)n * (double)n * (double)n / med;
    pf_graph_free(g);
    pf_arena_free(a);
    return rc;
}
