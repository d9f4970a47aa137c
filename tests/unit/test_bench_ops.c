/*
 * Smoke test of `pflow bench ops --quick`: the binary runs, exits 0 and prints
 * its conditions and one line per shape with time, GFLOP/s and the ratio to
 * the measured peak. Timing values are not checked (speed is for the bench).
 */
#include "pf_test.h"

#include <sys/wait.h>

#ifndef PF_TEST_BINARY_DIR
#define PF_TEST_BINARY_DIR "."
#endif

/* Run the pflow binary with args; stdout + stderr into *out (malloc'd), exit status in *status. */
static bool run_pflow(const char *args, char **out, int *status) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/pflow' %s 2>&1", PF_TEST_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    if (!p) return false;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        pclose(p);
        return false;
    }
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
    }
    buf[n] = 0;
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    *out = buf;
    return true;
}

static bool have_binary(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/pflow", PF_TEST_BINARY_DIR);
    return pf_file_exists(path);
}

static pf_test_result test_quick_run_fields(void) {
    if (!have_binary()) SKIP("no pflow binary in %s", PF_TEST_BINARY_DIR);
    char *out = NULL;
    int st = -1;
    CHECK(run_pflow("bench ops --quick --reps 1 --threads 2", &out, &st));
    CHECK_MSG(st == 0, "exit status %d, output:\n%s", st, out);
    static const char *const fields[] = {
        "conditions:", "backend cpu", "threads 2", "dtype f32", "GEMM: ", "timing: median of 1", /* conditions */
        "peak (square sgemm", "portable GEMM", "practical peak: ",                            /* the peak */
        "adaLN modulation", "M 2 K 1920 N 11520", "unit 0 stage 0", "to_q/k/v",             /* shapes */
        "M 120 K 1920 N 1920", "attention", "B 2 N 188 H 30 D 64", "of pairs visible",
        " ms ", " GFLOP/s", " of peak",
    };
    for (size_t i = 0; i < PF_ARRAY_LEN(fields); i++) CHECK_MSG(strstr(out, fields[i]), "no '%s' in:\n%s", fields[i], out);
    /* every measured line carries time, rate and ratio */
    int lines = 0;
    for (char *l = strstr(out, " GFLOP/s  "); l; l = strstr(l + 1, " GFLOP/s  ")) lines++;
    CHECK_MSG(lines >= 3, "%d lines with a ratio to the peak:\n%s", lines, out);
    CHECK(!strstr(out, "failed"));
    free(out);
    return PF_T_PASS;
}

/* The VAE convolutions (on GPUs by default, --conv on the CPU) and a 16-bit run. */
static pf_test_result test_quick_conv_bf16(void) {
    if (!have_binary()) SKIP("no pflow binary in %s", PF_TEST_BINARY_DIR);
    char *out = NULL;
    int st = -1;
    CHECK(run_pflow("bench ops --quick --conv --dtype bf16 --reps 1 --threads 2", &out, &st));
    CHECK_MSG(st == 0, "exit status %d, output:\n%s", st, out);
    static const char *const fields[] = {"dtype bf16", "peak (square GEMM", "VAE decoder", "conv3d",
                                         "16->32 T 2 12x20", "B 2 N 188 H 30 D 64"};
    for (size_t i = 0; i < PF_ARRAY_LEN(fields); i++) CHECK_MSG(strstr(out, fields[i]), "no '%s' in:\n%s", fields[i], out);
    CHECK(!strstr(out, "failed"));
    free(out);
    CHECK(run_pflow("bench ops --quick --dtype f64", &out, &st));
    CHECK_MSG(st == 2 && strstr(out, "--dtype must be f32, bf16 or f16"), "exit %d:\n%s", st, out);
    free(out);
    return PF_T_PASS;
}

static pf_test_result test_usage(void) {
    if (!have_binary()) SKIP("no pflow binary in %s", PF_TEST_BINARY_DIR);
    char *out = NULL;
    int st = -1;
    CHECK(run_pflow("bench ops --help", &out, &st));
    CHECK(st == 0 && strstr(out, "--threads") && strstr(out, "--reps") && strstr(out, "--quick"));
    free(out);
    CHECK(run_pflow("bench ops --frobnicate", &out, &st));
    CHECK(st == 2 && strstr(out, "unknown option"));
    free(out);
    CHECK(run_pflow("bench ops --reps 0", &out, &st));
    CHECK(st == 2);
    free(out);
    CHECK(run_pflow("bench --help", &out, &st));
    CHECK(st == 0 && strstr(out, "ops"));
    free(out);
    return PF_T_PASS;
}

/* `bench generate --dry` at the released sizes: the call table and the memory plan of a
 * 10 s 768p video (31 latent frames), checked against a budget both ways. */
static pf_test_result test_generate_memory_plan(void) {
    if (!have_binary()) SKIP("no pflow binary in %s", PF_TEST_BINARY_DIR);
    char *out = NULL;
    int st = -1;
    CHECK(run_pflow("bench generate --dry --res 768p --temp 31", &out, &st));
    CHECK_MSG(st == 0, "%s", out);
    CHECK_MSG(strstr(out, "total: 960 DiT calls"), "%s", out);
    /* the last unit's full-resolution call: 28 quarter + 1 half + 1 full history frames + the current one */
    CHECK_MSG(strstr(out, "unit 30 stage 2: 15360 image tokens"), "%s", out);
    CHECK(strstr(out, "weights bf16, DiT activations bf16") && strstr(out, "decode phase:"));
    const char *pk = strstr(out, "predicted device peak ");
    CHECK(pk);
    double gib = 0.0;
    CHECK(sscanf(pk, "predicted device peak %lf GiB", &gib) == 1);
    CHECK_MSG(gib > 4.0 && gib < 22.0 && strstr(pk, ": fits the budget of 22.35 GiB"), "%s", pk);
    free(out);
    /* the same plan against a budget below the T5 encoder's weights */
    CHECK(run_pflow("bench generate --dry --res 768p --temp 31 --budget 5", &out, &st));
    CHECK_MSG(st == 0 && strstr(out, ": EXCEEDS the budget of 4.66 GiB"), "%s", out);
    free(out);
    CHECK(run_pflow("bench generate --dry --budget -3", &out, &st));
    CHECK_MSG(st == 2 && strstr(out, "--budget takes a positive number"), "%s", out);
    free(out);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_quick_run_fields), PF_TEST(test_quick_conv_bf16), PF_TEST(test_usage),
             PF_TEST(test_generate_memory_plan))
