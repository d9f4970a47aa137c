/*
 * Causal conv3d on the CUDA backend: x [B, Ci, T, H, W], w [Co, Ci, kt, kh, kw],
 * bias [Co], optional front cache [B, Ci, pad_t, H, W] -> y [B, Co, To, Ho, Wo]
 * (semantics: pf_conv3d, kernels/conv3d.cu). Two paths:
 *
 *  GEMM (issue 11): the convolution as a matrix product on the tensor cores. With
 *  K = Ci kt kh kw and P = To Ho Wo, per batch item and chunk of Pc output positions
 *    col [K, Pc]                                kernels/im2col3d.cu (the weight's k order)
 *    y[b, :, p0 : p0 + Pc] = W [Co, K] . col    one GEMM (pf_cuda_gemm, ldc = P)
 *  so w is used as stored. The bias is prefilled into the output chunk and the GEMM
 *  runs with beta = 1 (cuBLASLt's bias epilogue adds along its m, which is our
 *  positions here, not the channels). A 1x1x1 conv with unit strides and no padding
 *  skips the column matrix: x[b] is the [K, P] operand already.
 *
 *  direct (kernels/conv3d.cu): no workspace, f32 FMAs. It takes the convs the GEMM
 *  gains little on (pf_conv_gemm_worth) and everything under PF_CUDA_CONV=direct;
 *  PF_CUDA_CONV=gemm sends every conv the GEMM path can take to it (tests).
 *
 *  implicit (kernels/conv3d_igemm.cu, PF_CUDA_CONV=implicit, opt-in until measured on a
 *  GPU): the GEMM with its columns gathered into shared memory tile by tile, never
 *  written out (the column matrix is 27 times a 3x3x3 conv's input), for bf16 x and w;
 *  other convs go the auto way.
 *
 * Types (the operand rule of cuda_gemm.c with x as the activation, w as the weight):
 * x and w alike -> that type; x f32, w bf16 -> bf16 (x rounded, the tensor cores);
 * any other mix -> f32 (exact). Accumulation is f32 (CUBLAS_COMPUTE_32F, no TF32).
 * The GEMM writes y itself when y is f32 or the operands' 16-bit type. The bias in y
 * is then stored in y's type first, so for a bf16/f16 output it is rounded to 16 bits
 * before the f32 sum is added to it (the reference adds the f32 bias to the f32 sum):
 * at most half a unit in the last place of the bias, beside the output's own rounding.
 * Other output types (f32 operands into a 16-bit y, bf16 operands into f16) take an
 * f32 chunk [Co, Pc] that one copy rounds into y, the bias exact.
 *
 * Workspace (pf_cuda_scratch, released once enqueued): the column chunk (and the f32
 * chunk) take at most 256 MiB or a quarter of the device's free memory, or
 * $PF_CUDA_CONV_CHUNK bytes (tests: several chunks on small shapes); Pc is a multiple
 * of 128 positions (at least 128) or all of P.
 */
#include "cuda_impl.h"

#define PF_CONV_CHUNK_BYTES ((size_t)256 << 20)
#define PF_CONV_CHUNK_POS 128

static bool pf_is_f(pf_dtype t) { return t == PF_F32 || t == PF_BF16 || t == PF_F16; }

/* GEMM operand type for input dtype xt (x and its cache) and weight dtype wt. */
static pf_dtype pf_conv_operand(pf_dtype xt, pf_dtype wt) {
    return xt == wt ? wt : (xt == PF_F32 && wt == PF_BF16) ? PF_BF16 : PF_F32;
}

static int64_t pf_conv_taps(const pf_tensor *w) { return w->ne[2] * w->ne[3] * w->ne[4]; }

/* The direct kernel's limits: its shared-memory weight tile and its grid. */
static bool pf_conv_direct_ok(const pf_tensor *n) {
    const pf_tensor *x = n->src[0], *w = n->src[1];
    return pf_conv_taps(w) <= pf_cu_conv3d_max_taps() && x->ne[0] <= 65535 && PF_CEIL_DIV(w->ne[0], 8) <= 65535;
}

/* The GEMM path's limits (it is allowed unless PF_CUDA_CONV=direct): the column kernel's grid. */
static bool pf_conv_gemm_ok(const pf_cuda_ctx *c, const pf_tensor *n) {
    const pf_tensor *w = n->src[1];
    return c->conv_mode != PF_CUDA_CONV_DIRECT && w->ne[1] * pf_conv_taps(w) <= pf_cu_im2col3d_max_k();
}

/* Whether the GEMM is worth its column matrix. Below 16 output channels (the VAE's
 * RGB output conv, Co = 3) a tensor-core tile's rows are mostly idle, and writing and
 * reading K values per position costs more than the direct kernel's reads; below
 * K = 64 the GEMM is a single k step. K must also give 16-byte aligned column and
 * weight rows (K % 8 for 16-bit operands, K % 4 for f32): the tensor-core kernels'
 * vector loads need them, and without them cuBLASLt may decline (then the reference
 * GEMM kernel runs, slower than the direct one). The convs this leaves out (Ci = 3
 * inputs: K = 81) are narrow anyway. */
static bool pf_conv_gemm_worth(const pf_tensor *n) {
    const pf_tensor *x = n->src[0], *w = n->src[1];
    int64_t K = w->ne[1] * pf_conv_taps(w), es = (int64_t)pf_dtype_size(pf_conv_operand(x->dtype, w->dtype));
    return w->ne[0] >= 16 && K >= 64 && (K * es) % 16 == 0;
}

/* Whether the GEMM path computes n (else the direct kernel). */
static bool pf_conv_use_gemm(const pf_cuda_ctx *c, const pf_tensor *n) {
    if (!pf_conv_gemm_ok(c, n)) return false;
    return c->conv_mode == PF_CUDA_CONV_GEMM || !pf_conv_direct_ok(n) || pf_conv_gemm_worth(n);
}

bool pf_cuda_supports_conv3d(const pf_cuda_ctx *c, const pf_tensor *n) {
    const pf_tensor *x = n->src[0], *w = n->src[1], *bias = n->src[2], *front = n->src[3];
    if (!x || !w || x->ndim != 5 || w->ndim != 5 || n->ndim != 5) return false;
    if (!pf_is_f(x->dtype) || !pf_is_f(w->dtype) || !pf_is_f(n->dtype)) return false;
    if (!pf_is_contiguous(x) || !pf_is_contiguous(w) || w->ne[1] != x->ne[1]) return false;
    const int32_t *ip = n->ip;
    if (ip[0] < 0 || ip[1] < 0 || ip[2] < 0 || ip[3] < 1 || ip[4] < 1 || ip[5] < 1) return false;
    if (!pf_conv_direct_ok(n) && !pf_conv_gemm_ok(c, n)) return false; /* neither path takes it */
    if (bias && (bias->ndim != 1 || bias->ne[0] != w->ne[0] || !pf_is_f(bias->dtype) || !pf_is_contiguous(bias)))
        return false;
    if (front &&
        (front->dtype != x->dtype || front->ndim != 5 || front->ne[0] != x->ne[0] || front->ne[1] != x->ne[1] ||
         front->ne[2] != ip[0] || front->ne[3] != x->ne[3] || front->ne[4] != x->ne[4] || !pf_is_contiguous(front)))
        return false;
    /* output shape as pf_conv3d computes it */
    int64_t To = (x->ne[2] + ip[0] - w->ne[2]) / ip[3] + 1, Ho = (x->ne[3] + 2 * ip[1] - w->ne[3]) / ip[4] + 1;
    int64_t Wo = (x->ne[4] + 2 * ip[2] - w->ne[4]) / ip[5] + 1;
    return n->ne[0] == x->ne[0] && n->ne[1] == w->ne[0] && n->ne[2] == To && n->ne[3] == Ho && n->ne[4] == Wo;
}

static pf_cu_conv3d_args pf_conv_args(const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0], *w = n->src[1], *bias = n->src[2], *front = n->src[3];
    pf_cu_conv3d_args a = {
        .x = pf_cuda_ptr(x),
        .w = pf_cuda_ptr(w),
        .bias = bias ? pf_cuda_ptr(bias) : NULL,
        .front = front ? pf_cuda_ptr(front) : NULL,
        .y = dst,
        .x_dtype = (int32_t)x->dtype,
        .w_dtype = (int32_t)w->dtype,
        .bias_dtype = bias ? (int32_t)bias->dtype : PF_CU_F32,
        .front_dtype = front ? (int32_t)front->dtype : PF_CU_F32,
        .y_dtype = (int32_t)n->dtype,
        .B = x->ne[0],
        .Ci = x->ne[1],
        .T = x->ne[2],
        .H = x->ne[3],
        .W = x->ne[4],
        .Co = w->ne[0],
        .kt = w->ne[2],
        .kh = w->ne[3],
        .kw = w->ne[4],
        .To = n->ne[2],
        .Ho = n->ne[3],
        .Wo = n->ne[4],
        .pad_t = n->ip[0],
        .pad_h = n->ip[1],
        .pad_w = n->ip[2],
        .st = n->ip[3],
        .sh = n->ip[4],
        .sw = n->ip[5],
    };
    return a;
}

/* Bytes the chunk buffers may take: $PF_CUDA_CONV_CHUNK, else 256 MiB bounded by a
 * quarter of what the device has free (free memory plus the allocator's cache). */
static size_t pf_conv_budget(pf_cuda_ctx *c) {
    if (c->conv_chunk) return c->conv_chunk;
    size_t budget = PF_CONV_CHUNK_BYTES, fr = 0, tot = 0;
    if (cudaMemGetInfo(&fr, &tot) == cudaSuccess) {
        size_t avail = (fr + c->alloc.cached) / 4;
        if (avail < budget) budget = avail;
    } else {
        (void)cudaGetLastError();
    }
    return budget;
}

typedef struct pf_conv_gemm {
    pf_cu_conv3d_args a;
    pf_dtype ab, y_dt, bias_dt;
    const void *w; /* [Co, K] in type ab */
    bool f32_out;  /* the GEMM cannot write y's type: f32 chunks [Co, Pc] rounded into y */
    void *tmp;     /* that chunk */
    int64_t K, P, Co;
} pf_conv_gemm;

/* y[b, :, p0 : p0 + n] = W . bm (+ bias) with bm [K, n]: the column chunk, or x[b] itself
 * (pointwise, n = P). */
static pf_status pf_conv_gemm_chunk(pf_cuda_ctx *c, const pf_conv_gemm *g, const void *bm, int64_t b, int64_t p0,
                                    int64_t n) {
    const size_t yes = pf_dtype_size(g->y_dt);
    char *yb = (char *)g->a.y + (size_t)((b * g->Co) * g->P + p0) * yes; /* [Co, n], rows P apart */
    void *d = g->f32_out ? g->tmp : yb;
    pf_dtype d_dt = g->f32_out ? PF_F32 : g->y_dt;
    int64_t ldd = g->f32_out ? n : g->P;
    if (g->a.bias) /* D[co, :] = bias[co], in D's type */
        PF_TRY(pf_cuda_launched(
            c, pf_cu_rows_copy(d, (int)d_dt, ldd, g->a.bias, (int)g->bias_dt, 1, 0, g->Co, n, c->stream),
            "pf_cu_rows_copy"));
    pf_cuda_gemm_op op = {
        .a = g->w,
        .b = bm,
        .c = d,
        .a_dt = g->ab,
        .b_dt = g->ab,
        .bias_dt = PF_F32,
        .c_dt = d_dt,
        .trans_b = false,
        .Bt = 1,
        .Bb = 1,
        .M = g->Co,
        .N = n,
        .K = g->K,
        .ldc = ldd,
        .alpha = 1.0f,
        .beta = g->a.bias ? 1.0f : 0.0f,
    };
    PF_TRY(pf_cuda_gemm(c, &op));
    c->conv_stats.gemm_calls++;
    if (g->f32_out) /* y[b, co, p0 + j] = round(tmp[co, j]) */
        PF_TRY(pf_cuda_launched(c,
                                pf_cu_rows_copy(yb, (int)g->y_dt, g->P, g->tmp, PF_CU_F32, n, 1, g->Co, n, c->stream),
                                "pf_cu_rows_copy"));
    return PF_OK;
}

/* Scratch first (blocks[]: converted weights, columns, f32 chunk; *no_memory when one
 * does not fit, before anything is enqueued), then the chunks. */
static pf_status pf_conv_gemm_run(pf_cuda_ctx *c, const pf_tensor *n, pf_conv_gemm *g, pf_cuda_block **blocks,
                                  bool *no_memory) {
    const pf_tensor *x = n->src[0], *w = n->src[1];
    const size_t es = pf_dtype_size(g->ab);
    /* 1x1x1, unit strides, no padding: x[b] is the [K, P] operand itself (16-byte rows) */
    const bool pointwise = pf_conv_taps(w) == 1 && g->a.pad_t == 0 && g->a.pad_h == 0 && g->a.pad_w == 0 &&
                           g->a.st == 1 && g->a.sh == 1 && g->a.sw == 1 && x->dtype == g->ab && !g->f32_out &&
                           (g->P * (int64_t)es) % 16 == 0;
    const size_t row = (size_t)g->K * es + (g->f32_out ? (size_t)g->Co * sizeof(float) : 0); /* bytes a position */
    int64_t Pc = (int64_t)(pf_conv_budget(c) / row) / PF_CONV_CHUNK_POS * PF_CONV_CHUNK_POS;
    Pc = PF_MIN(PF_MAX(Pc, PF_CONV_CHUNK_POS), g->P);

    pf_status rc = PF_OK;
    if (w->dtype != g->ab) /* weights converted once per node, not per chunk */
        rc = pf_cuda_scratch(c, (size_t)(g->Co * g->K) * es, "the conv3d weights in the GEMM operand type", &blocks[0]);
    if (rc == PF_OK && !pointwise)
        rc = pf_cuda_scratch(c, (size_t)Pc * (size_t)g->K * es, "the conv3d column chunk", &blocks[1]);
    if (rc == PF_OK && g->f32_out)
        rc = pf_cuda_scratch(c, (size_t)Pc * (size_t)g->Co * sizeof(float), "the conv3d f32 result chunk", &blocks[2]);
    *no_memory = rc == PF_ERR_OOM;
    PF_TRY(rc);

    if (blocks[0]) {
        PF_TRY(pf_cuda_launched(c,
                                pf_cu_convert(blocks[0]->ptr, (int)g->ab, g->w, (int)w->dtype, g->Co * g->K, c->stream),
                                "pf_cu_convert"));
        g->w = blocks[0]->ptr;
    }
    if (blocks[2]) g->tmp = blocks[2]->ptr;
    for (int64_t b = 0; b < g->a.B; b++) {
        if (pointwise) {
            const char *xb = (const char *)g->a.x + (size_t)(b * g->K * g->P) * es;
            PF_TRY(pf_conv_gemm_chunk(c, g, xb, b, 0, g->P));
            continue;
        }
        for (int64_t p0 = 0; p0 < g->P; p0 += Pc) {
            int64_t cn = PF_MIN(Pc, g->P - p0);
            PF_TRY(pf_cuda_launched(c, pf_cu_im2col3d(&g->a, blocks[1]->ptr, (int)g->ab, b, p0, cn, c->stream),
                                    "pf_cu_im2col3d"));
            PF_TRY(pf_conv_gemm_chunk(c, g, blocks[1]->ptr, b, p0, cn));
        }
    }
    return PF_OK;
}

pf_status pf_cuda_run_conv3d(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0], *w = n->src[1], *bias = n->src[2];
    pf_cu_conv3d_args a = pf_conv_args(n, dst);
    if (c->conv_mode == PF_CUDA_CONV_IMPLICIT && pf_cu_conv3d_igemm_ok(&a)) {
        c->conv_stats.implicit_nodes++;
        return pf_cuda_launched(c, pf_cu_conv3d_igemm(&a, c->stream), "pf_cu_conv3d_igemm");
    }
    if (pf_conv_use_gemm(c, n)) {
        pf_conv_gemm g = {
            .a = a,
            .ab = pf_conv_operand(x->dtype, w->dtype),
            .y_dt = n->dtype,
            .bias_dt = bias ? bias->dtype : PF_F32,
            .w = a.w,
            .K = w->ne[1] * pf_conv_taps(w),
            .P = n->ne[2] * n->ne[3] * n->ne[4],
            .Co = w->ne[0],
        };
        g.f32_out = g.y_dt != PF_F32 && g.y_dt != g.ab; /* cuBLASLt writes f32 or the operands' 16-bit type */
        pf_cuda_block *blocks[3] = {0};
        bool no_memory = false;
        pf_status rc = pf_conv_gemm_run(c, n, &g, blocks, &no_memory);
        /* stream order keeps them alive; under a capture the graph entry owns them (a plain
         * release would hand them out again while the graph still writes them) */
        for (int i = 0; i < 3; i++) pf_cuda_scratch_release(c, blocks[i]);
        if (rc == PF_OK) {
            c->conv_stats.gemm_nodes++;
            return PF_OK;
        }
        /* no room for the columns: the direct kernel needs none */
        if (!(no_memory && pf_conv_direct_ok(n))) return rc;
        PF_DEBUG("CUDA: conv3d '%s': no memory for the GEMM path's columns; using the direct kernel", n->name);
    }
    c->conv_stats.direct_nodes++;
    return pf_cuda_launched(c, pf_cu_conv3d(&a, c->stream), "pf_cu_conv3d");
}
