/* pflow bench KIND: benchmarks. Each kind lives in apps/bench_<kind>.c. */
#include "pflow_cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *kind;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the kind */
} pf_bench_kind;

static const pf_bench_kind pf_bench_kinds[] = {
    {"ops", "matmul and attention shapes of the DiT vs the machine's sgemm peak", pf_bench_ops},
    {"dit", "one DiT call at the released size in a pipeline layout (unit, stage)", pf_bench_dit},
    {"text", "text encoders at the released sizes (T5-XXL, CLIP-L, CLIP-G), random weights", pf_bench_text},
    {"vae", "causal video VAE decode / encode at 384p or 768p: time, memory, planner prediction", pf_bench_vae},
    {"generate", "the whole t2v pipeline on random weights: phase times, DiT calls and tokens, memory", pf_bench_generate},
    {NULL, NULL, NULL}, /* kinds are added above this sentinel */
};

static void bench_usage(FILE *f) {
    fprintf(f, "usage: pflow bench KIND [OPTIONS]\n\n"
               "Benchmarks print their conditions (backend, device, dtype, shapes) and the comparison they make.\n\n"
               "kinds:\n");
    for (const pf_bench_kind *k = pf_bench_kinds; k->kind; k++) fprintf(f, "  %-10s %s\n", k->kind, k->summary);
    fprintf(f, "\n'pflow bench KIND --help' gives each kind's options.\n");
}

int pf_cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        bench_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (const pf_bench_kind *k = pf_bench_kinds; k->kind; k++)
        if (!strcmp(argv[1], k->kind)) return k->run(argc - 1, argv + 1);
    fprintf(stderr, "pflow bench: unknown kind '%s'\n\n", argv[1]);
    bench_usage(stderr);
    return 2;
}
