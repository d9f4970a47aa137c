/*
 * pflow bench ops: the matmul and attention shapes of the miniFLUX DiT at 384p
 * (hidden 1920, 30 heads of 64, MLP 7680, CFG batch 2, 128 text tokens) and the VAE
 * decoder's 3x3x3 convolutions, on one backend, each against the measured practical peak
 * (a large square GEMM on that backend: on the CPU OpenBLAS when the build has it, and
 * the portable GEMM). On a GPU these are the single-op figures to hold next to a vendor
 * library's (tools/cudnn_reference.py times cuDNN's on the same shapes).
 */
#include "bench_common.h"
#include "pflow_cli.h"

#include <stdlib.h>
#include <string.h>

#define BO_D 1920   /* hidden size */
#define BO_HEADS 30 /* heads of 64 */
#define BO_HD 64
#define BO_MLP 7680
#define BO_TEXT 128       /* T5 tokens per sample, all in the sequence */
#define BO_TEXT_VALID 32  /* real (unpadded) prompt tokens assumed */
#define BO_BATCH 2        /* classifier-free guidance: [negative, positive] */
#define BO_MAX_FRAMES 32

static const char bo_usage[] =
    "usage: pflow bench ops [--backend B] [--dtype f32|bf16|f16] [--threads N] [--reps N] [--quick]\n"
    "                       [--gemm auto|blas|portable] [--conv]\n"
    "\n"
    "Times one backend's kernels on the linear and attention shapes of the miniFLUX DiT at 384p\n"
    "(hidden 1920, 30 heads of 64, MLP 7680, CFG batch 2, 128 text tokens; token counts of\n"
    "pyramid-flow-facts 4.5) and, on GPUs or with --conv, the VAE decoder's 3x3x3 convolutions\n"
    "at 384p (2 frames per chunk), and compares each with the practical peak of the backend, a\n"
    "square GEMM measured first (best time). Prints the conditions, then per shape the median\n"
    "time, GFLOP/s and the fraction of the peak. Attention FLOPs count only (query, key) pairs\n"
    "the Pyramid Flow frame mask lets through.\n"
    "\n"
    "  --backend B   cpu (default), cuda or vulkan\n"
    "  --dtype T     activations and weights: f32 (default on the CPU) or bf16 (default on GPUs)\n"
    "  --threads N   CPU threads (default: all cores, or $PF_THREADS)\n"
    "  --reps N      timed repetitions per shape after one warm-up (default 3, --quick 1)\n"
    "  --quick       small subset for smoke tests (peak at 256, a few stage-0 shapes, one small conv)\n"
    "  --gemm MODE   the CPU's GEMM: auto (default), blas, portable\n"
    "  --conv        the VAE convolutions on the CPU too (minutes per shape)\n";

typedef struct {
    const char *gemm, *dtype;
    bool conv;
} bo_extra;

static int bo_parse_extra(int argc, char **argv, int i, void *ctx) {
    bo_extra *e = ctx;
    if (!strcmp(argv[i], "--conv")) {
        e->conv = true;
        return 1;
    }
    const char **dst = !strcmp(argv[i], "--gemm") ? &e->gemm : !strcmp(argv[i], "--dtype") ? &e->dtype : NULL;
    if (!dst) return 0;
    if (i + 1 >= argc) {
        fprintf(stderr, "pflow bench ops: %s needs a value\n", argv[i]);
        return -1;
    }
    *dst = argv[i + 1];
    return 2;
}

/* One DiT call's token layout: text, then image frames (history first, current last). */
typedef struct {
    const char *where;
    int nframes;
    int frame_tokens[BO_MAX_FRAMES];
} bo_layout;

static int64_t bo_image_tokens(const bo_layout *l) {
    int64_t n = 0;
    for (int f = 0; f < l->nframes; f++) n += l->frame_tokens[f];
    return n;
}

/* ---------------------------------------------------------------- measurement */

typedef struct {
    pf_backend *be;
    pf_arena *arena;
    const pf_bench_opts *o;
    pf_dtype dt; /* activations and weights */
    double peak; /* GFLOP/s */
    int failures;
} bo_ctx;

static pf_status bo_compute(void *g) { return pf_graph_compute(g); }

/* Fill an input with small pseudo-random values (any float dtype) or exact i32 data. */
static pf_status bo_fill(pf_tensor *t, const int32_t *ints) {
    int64_t n = pf_nelem(t);
    if (ints) return pf_tensor_set(t, ints, (size_t)n * sizeof(int32_t));
    float *v = malloc((size_t)n * sizeof(float));
    if (!v) return pf_error(PF_ERR_OOM, "out of host memory (bench inputs)");
    uint32_t s = 12345u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        v[i] = (float)((s >> 9) & 0xffff) * (1.0f / 65536.0f) - 0.5f;
    }
    pf_status rc = pf_tensor_set_as(t, v, PF_F32, (size_t)n);
    free(v);
    return rc;
}

/* Plan, fill the inputs (the i32 one, if any, from ints), time; print one line. Frees g. */
static pf_status bo_measure(bo_ctx *c, pf_graph *g, const int32_t *ints, const char *name, const char *op,
                            const char *shape, double flops, double *gflops_out, bool best) {
    pf_status rc = pf_graph_status(g);
    if (rc == PF_OK) rc = pf_graph_plan(g, c->arena, NULL);
    for (int i = 0; rc == PF_OK && i < pf_graph_n_nodes(g); i++) {
        pf_tensor *t = pf_graph_node(g, i);
        if (t->flags & PF_TF_INPUT) rc = bo_fill(t, t->dtype == PF_I32 ? ints : NULL);
    }
    double med = 0.0, mn = 0.0;
    if (rc == PF_OK) rc = pf_bench_time(bo_compute, g, c->o->reps, &med, &mn);
    pf_graph_free(g);
    pf_arena_release(c->arena);
    if (rc != PF_OK) {
        printf("  %-38s %-9s %-24s failed: %s\n", name, op, shape, pf_last_error());
        c->failures++;
        return rc;
    }
    double t = best ? mn : med; /* the peak is the best the machine did; shapes are typical */
    double gf = flops / t * 1e-9;
    if (gflops_out) *gflops_out = gf;
    printf("  %-38s %-9s %-24s %9.2f ms %8.1f GFLOP/s", name, op, shape, t * 1e3, gf);
    if (c->peak > 0.0) printf("  %5.2f of peak", gf / c->peak);
    printf("\n");
    fflush(stdout);
    return PF_OK;
}

static pf_status bo_square(bo_ctx *c, int64_t S, const char *label, double *gf) {
    pf_graph *g = pf_graph_new("peak");
    int64_t ne[2] = {S, S};
    pf_tensor *a = pf_input(g, c->dt, 2, ne, "a"), *b = pf_input(g, c->dt, 2, ne, "b");
    pf_tensor *y = pf_matmul(g, a, b, false, 1.0f);
    pf_output(g, y);
    char shape[64];
    snprintf(shape, sizeof shape, "%lld x %lld x %lld", (long long)S, (long long)S, (long long)S);
    return bo_measure(c, g, NULL, label, c->dt == PF_F32 ? "sgemm" : "gemm", shape, 2.0 * (double)S * S * S, gf, true);
}

static pf_status bo_linear(bo_ctx *c, const char *name, int64_t M, int64_t K, int64_t N) {
    pf_graph *g = pf_graph_new(name);
    int64_t xne[2] = {M, K}, wne[2] = {N, K}, bne[1] = {N};
    pf_tensor *x = pf_input(g, c->dt, 2, xne, "x"), *w = pf_input(g, c->dt, 2, wne, "w");
    pf_tensor *b = pf_input(g, c->dt, 1, bne, "b");
    pf_tensor *y = pf_linear(g, x, w, b);
    pf_output(g, y);
    char shape[64];
    snprintf(shape, sizeof shape, "M %lld K %lld N %lld", (long long)M, (long long)K, (long long)N);
    return bo_measure(c, g, NULL, name, "linear", shape, 2.0 * (double)M * K * N, NULL, false);
}

/* The Pyramid Flow frame mask over [text; frames]: meta = frame * 2 + valid. */
static int64_t bo_meta(const bo_layout *l, int32_t *m) {
    int64_t n = 0;
    for (int i = 0; i < BO_TEXT; i++) m[n++] = i < BO_TEXT_VALID ? 1 : 0;
    for (int f = 0; f < l->nframes; f++)
        for (int i = 0; i < l->frame_tokens[f]; i++) m[n++] = f * 2 + 1;
    return n;
}

static pf_status bo_attention(bo_ctx *c, const bo_layout *l) {
    int64_t N = BO_TEXT + bo_image_tokens(l);
    int32_t *meta = malloc((size_t)(BO_BATCH * N) * sizeof(int32_t));
    if (!meta) return pf_error(PF_ERR_OOM, "out of host memory (bench mask)");
    bo_meta(l, meta);
    for (int b = 1; b < BO_BATCH; b++) memcpy(meta + b * N, meta, (size_t)N * sizeof(int32_t));
    /* useful work: the (query, key) pairs the mask lets through */
    double pairs = 0.0;
    int64_t *per_frame = calloc((size_t)2 * (l->nframes + 1), sizeof(int64_t)); /* keys per (valid, frame) */
    if (!per_frame) {
        free(meta);
        return pf_error(PF_ERR_OOM, "out of host memory (bench mask)");
    }
    for (int64_t j = 0; j < N; j++) per_frame[(meta[j] & 1) * (l->nframes + 1) + (meta[j] >> 1)]++;
    for (int64_t i = 0; i < N; i++) {
        int v = meta[i] & 1, f = meta[i] >> 1;
        for (int k = 0; k <= f; k++) pairs += (double)per_frame[v * (l->nframes + 1) + k];
    }
    free(per_frame);
    pairs *= BO_BATCH;
    pf_graph *g = pf_graph_new("attention");
    int64_t ne[4] = {BO_BATCH, N, BO_HEADS, BO_HD}, mne[2] = {BO_BATCH, N};
    pf_tensor *q = pf_input(g, c->dt, 4, ne, "q"), *k = pf_input(g, c->dt, 4, ne, "k"), *v = pf_input(g, c->dt, 4, ne, "v");
    pf_tensor *qm = pf_input(g, PF_I32, 2, mne, "meta"); /* self-attention: the same metadata for q and k */
    pf_tensor *y = pf_attention(g, q, k, v, 0.125f, PF_MASK_FRAME, qm, qm, NULL);
    pf_output(g, y);
    char shape[64];
    snprintf(shape, sizeof shape, "B %d N %lld H %d D %d", BO_BATCH, (long long)N, BO_HEADS, BO_HD);
    char name[64];
    snprintf(name, sizeof name, "attention, %.0f%% of pairs visible", 100.0 * pairs / ((double)BO_BATCH * N * N));
    pf_status rc = bo_measure(c, g, meta, name, "attention", shape, pairs * BO_HEADS * 2.0 * (BO_HD + BO_HD), NULL, false);
    free(meta);
    return rc;
}

/* A causal 3x3x3 convolution of the VAE decoder: x [1, ci, T, h, w] -> [1, co, T, h, w]
 * (two zero frames in front, one pixel of zeros around; stride 1), with bias. */
static pf_status bo_conv(bo_ctx *c, const char *name, int64_t ci, int64_t co, int64_t T, int64_t h, int64_t w) {
    pf_graph *g = pf_graph_new(name);
    int64_t xne[5] = {1, ci, T, h, w}, wne[5] = {co, ci, 3, 3, 3}, bne[1] = {co};
    pf_tensor *x = pf_input(g, c->dt, 5, xne, "x"), *wt = pf_input(g, c->dt, 5, wne, "w");
    pf_tensor *b = pf_input(g, c->dt, 1, bne, "b");
    pf_tensor *y = pf_conv3d(g, x, wt, b, NULL, 2, 1, 1, 1, 1, 1);
    pf_output(g, y);
    char shape[64];
    snprintf(shape, sizeof shape, "%lld->%lld T %lld %lldx%lld", (long long)ci, (long long)co, (long long)T,
             (long long)h, (long long)w);
    return bo_measure(c, g, NULL, name, "conv3d", shape, 2.0 * (double)co * ci * 27 * T * h * w, NULL, false);
}

/* ---------------------------------------------------------------- the run */

/* The DiT calls measured: unit k of the autoregressive loop, stage s (facts 4.5: the most
 * recent history frame at the current stage's resolution, older ones one level lower down to
 * quarter resolution; 384p: 60 / 240 / 960 tokens per frame at quarter / half / full). */
static const bo_layout bo_layouts[] = {
    {"unit 0 stage 0", 1, {60}},
    {"unit 0 stage 2", 1, {960}},
    {"unit 15 stage 1", 16, {60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 240, 240}},
    {"unit 15 stage 2", 16, {60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 240, 960, 960}},
    {"768p unit 0 stage 2", 1, {3840}}, /* GPUs only: the largest first-frame call */
};

int pf_bench_ops(int argc, char **argv) {
    pf_bench_opts o = {.backend = "cpu", .reps = 0};
    bo_extra ex = {.gemm = "auto"};
    int prc = pf_bench_parse(argc, argv, &o, bo_usage, bo_parse_extra, &ex);
    if (prc) return prc == 1 ? 0 : 2;
    if (o.reps == 0) o.reps = o.quick ? 1 : 3;
    const bool cpu = !strcmp(o.backend, "cpu");
    bo_ctx c = {.o = &o, .dt = cpu ? PF_F32 : PF_BF16};
    if (ex.dtype) {
        c.dt = !strcmp(ex.dtype, "f32") ? PF_F32 : !strcmp(ex.dtype, "bf16") ? PF_BF16 : !strcmp(ex.dtype, "f16") ? PF_F16
                                                                                                                : PF_DTYPE_COUNT;
        if (c.dt == PF_DTYPE_COUNT) {
            fprintf(stderr, "pflow bench ops: --dtype must be f32, bf16 or f16 (got '%s')\n", ex.dtype);
            return 2;
        }
    }
    pf_status rc = pf_bench_backend(&o, &c.be);
    if (rc == PF_OK && cpu) rc = pf_cpu_set_gemm(c.be, ex.gemm);
    if (rc == PF_OK) rc = pf_arena_create(c.be, &c.arena);
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench ops: %s\n", pf_last_error());
        pf_backend_free(c.be);
        return 1;
    }
    char dts[64];
    snprintf(dts, sizeof dts, "%s (activations and weights)", pf_dtype_name(c.dt));
    printf("pflow bench ops: miniFLUX DiT shapes at 384p%s on the %s backend\n",
           (!cpu || ex.conv) ? " and the VAE decoder's convolutions" : "", o.backend);
    pf_bench_print_conditions(stdout, c.be, &o, dts);
    printf("  model: hidden %d, %d heads of %d, MLP %d, CFG batch %d, %d text tokens (%d valid)\n", BO_D, BO_HEADS,
           BO_HD, BO_MLP, BO_BATCH, BO_TEXT, BO_TEXT_VALID);

    /* the practical peak: a large square GEMM (on the CPU: on every GEMM this build has) */
    int64_t S = o.quick ? 256 : cpu ? 2048 : 8192;
    printf("\npeak (square %s, best of the repetitions):\n", c.dt == PF_F32 ? "sgemm" : "GEMM");
    double best = 0.0;
    if (cpu) {
        const char *modes[2] = {"blas", "portable"};
        for (int m = 0; m < 2; m++) {
            if (pf_cpu_set_gemm(c.be, modes[m]) != PF_OK) continue; /* no OpenBLAS in this build */
            char desc[256], label[64];
            pf_cpu_gemm_desc(c.be, desc, sizeof desc);
            snprintf(label, sizeof label, "%s GEMM", m == 0 ? "OpenBLAS" : "portable");
            double gf = 0.0;
            if (bo_square(&c, S, label, &gf) == PF_OK && gf > best) best = gf;
            printf("    (%s)\n", desc);
        }
        pf_cpu_set_gemm(c.be, ex.gemm);
    } else {
        bo_square(&c, S, "backend GEMM", &best);
    }
    c.peak = best;
    printf("  practical peak: %.1f GFLOP/s\n", best);

    /* shapes that do not depend on the token count (--quick keeps one linear per group and
     * the attention: the smoke test runs it in debug and sanitizer builds) */
    printf("\nper call, independent of the frame:\n");
    bo_linear(&c, "adaLN modulation (6 x 1920, pooled)", BO_BATCH, BO_D, 6 * BO_D);
    if (!o.quick) bo_linear(&c, "add_q/k/v_proj (text stream, each)", BO_BATCH * BO_TEXT, BO_D, BO_D);

    int nl = o.quick ? 1 : cpu ? (int)PF_ARRAY_LEN(bo_layouts) - 1 : (int)PF_ARRAY_LEN(bo_layouts);
    for (int i = 0; i < nl; i++) {
        const bo_layout *l = &bo_layouts[i];
        int64_t img = bo_image_tokens(l), rows_img = BO_BATCH * img, rows_joint = BO_BATCH * (BO_TEXT + img);
        printf("\n%s: %lld image tokens (+%d text) per sample, %d frame%s:\n", l->where, (long long)img, BO_TEXT,
               l->nframes, l->nframes > 1 ? "s" : "");
        bo_linear(&c, "to_q/k/v (image stream, each)", rows_img, BO_D, BO_D);
        if (!o.quick) {
            bo_linear(&c, "ff up (double block)", rows_img, BO_D, BO_MLP);
            bo_linear(&c, "ff down (double block)", rows_img, BO_MLP, BO_D);
            bo_linear(&c, "proj_mlp (single block)", rows_joint, BO_D, BO_MLP);
            bo_linear(&c, "proj_out 9600->1920 (single block)", rows_joint, BO_D + BO_MLP, BO_D);
        }
        bo_attention(&c, l);
    }
    if (!cpu || ex.conv) {
        /* decoder blocks at 384p (latent 48 x 80): 512 channels at 1/8 and 1/4, 256 at 1/2,
         * 128 at full size, the RGB output conv; 2 frames per chunk */
        printf("\nVAE decoder, causal 3x3x3 convolutions, 2 frames:\n");
        if (o.quick) {
            bo_conv(&c, "small conv (smoke test)", 16, 32, 2, 12, 20);
        } else {
            bo_conv(&c, "mid / up_blocks.0 resnet (1/8)", 512, 512, 2, 48, 80);
            bo_conv(&c, "up_blocks.0 upsampler conv (1/8)", 512, 2048, 2, 48, 80);
            bo_conv(&c, "up_blocks.1 resnet (1/4)", 512, 512, 2, 96, 160);
            bo_conv(&c, "up_blocks.2 resnet (1/2)", 256, 256, 2, 192, 320);
            bo_conv(&c, "up_blocks.3 resnet (full size)", 128, 128, 2, 384, 640);
            bo_conv(&c, "conv_out (128 -> RGB)", 128, 3, 2, 384, 640);
        }
    }
    pf_arena_free(c.arena);
    pf_backend_free(c.be);
    if (c.failures) {
        fprintf(stderr, "pflow bench ops: %d measurement(s) failed\n", c.failures);
        return 1;
    }
    return 0;
}
