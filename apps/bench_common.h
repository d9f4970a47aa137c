/*
 * Helpers shared by the `pflow bench` kinds: common options, timing (median
 * of repetitions after a warm-up) and the conditions line every benchmark
 * prints before its numbers.
 */
#ifndef PFLOW_BENCH_COMMON_H
#define PFLOW_BENCH_COMMON_H

#include "pf_backend.h"
#include "pf_pipeline.h"

#include <stdio.h>

typedef struct pf_bench_opts {
    const char *backend; /* "cpu", ... (default cpu) */
    int threads;         /* CPU threads (0: all cores) */
    int reps;            /* timed repetitions per measurement (after one warm-up) */
    bool quick;          /* small subset, for smoke tests */
} pf_bench_opts;

/* Parse the common options (--backend B, --threads N, --reps N, --quick) out of argv[1..argc);
 * argv[0] is the kind. Unknown options are an error unless `extra` accepts them (returns the
 * number of arguments it consumed, 0 if it does not know the option). Returns 0 on success,
 * 1 after printing --help text, 2 on a usage error (message on stderr). */
typedef int (*pf_bench_extra_fn)(int argc, char **argv, int i, void *ctx);
int pf_bench_parse(int argc, char **argv, pf_bench_opts *o, const char *usage, pf_bench_extra_fn extra, void *ctx);

/* The value of option `opt` (NULL: missing) as a whole number in [lo, hi] (pf_cli_int), or
 * a seed; on failure prints "pflow bench KIND: ..." and returns false. */
bool pf_bench_int(const char *kind, const char *opt, const char *val, int lo, int hi, int *out);
bool pf_bench_u64(const char *kind, const char *opt, const char *val, uint64_t *out);

/* Peak resident set of this process (VmHWM), bytes; 0 if unknown. */
size_t pf_bench_peak_rss(void);

/* Time fn(ctx) once to warm up, then reps times; median and minimum in seconds. */
typedef pf_status (*pf_bench_fn)(void *ctx);
pf_status pf_bench_time(pf_bench_fn fn, void *ctx, int reps, double *median_s, double *min_s);

/* Median of n values (sorts v). */
double pf_bench_median(double *v, int n);

/* "conditions: backend cpu (DEVICE), threads N, dtype D, GEMM ..." and the date. */
void pf_bench_print_conditions(FILE *f, pf_backend *be, const pf_bench_opts *o, const char *dtype);

/* Throughput (FLOP/s, median of reps after a warm-up) of one n x n x n GEMM y = x W^T on
 * backend be, inputs and output in dtype dt: the practical peak a model's FLOP rate is
 * compared with. Memory is freed before returning. */
pf_status pf_bench_gemm_peak(pf_backend *be, pf_dtype dt, int n, int reps, double *flops_per_s);

/* Create the benchmark's backend from the options (CPU: fast kernels, o->threads). */
pf_status pf_bench_backend(const pf_bench_opts *o, pf_backend **out);

/* ---- bench generate --dry (bench_memplan.c) ---- */

/* Prints the predicted device memory of generation p with the released variant v on the
 * meta backend (nothing allocated, nothing run): weights, the pipeline's latents, the
 * largest DiT call of each stage, the VAE decode, and whether the peak fits `budget`
 * bytes. `st` is the dry run's call table (its tokens are checked against the plans). */
pf_status pf_bench_memplan(const pf_pipe_params *p, pf_dit_variant v, pf_dtype dtype, pf_dtype act,
                           const pf_pipe_stats *st, double budget);

#endif /* PFLOW_BENCH_COMMON_H */
