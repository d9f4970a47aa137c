/*
 * Linear and (batched) matmul through cuBLASLt, with the reference GEMM kernel
 * (kernels/gemm_ref.cu) as the fallback.
 *
 * Row-major to cuBLASLt's column-major: C[M, N] = A[M, K] B'[K, N] is computed as
 * C^T[N, M] = B'^T A^T, so cuBLASLt's "A" is our B side (m = N; transposed when B
 * is [N, K] like a linear weight), its "B" is our A ([K, M] column-major, ld K)
 * and D is C with ld N. The bias epilogue adds a vector of D's row count: N, one
 * value per output feature. A batched matmul whose B is shared (batch 1) folds
 * the batch into M; otherwise it is a strided batch.
 *
 * Precision: CUBLAS_COMPUTE_32F with f32 scale everywhere: f32 operands give true
 * f32 GEMMs (no TF32; the golden checks at --dtype f32 rely on it), bf16/f16
 * operands use the tensor cores with f32 accumulation. Operand types:
 *   x and w the same type             as they are;
 *   x f32, w bf16 (bf16 weights)      x rounded to bf16 (the tensor-core path);
 *   any other mix                     both converted to f32 (exact).
 * D takes the output's type when cuBLASLt can write it, else f32 scratch that a
 * conversion kernel rounds once; the bias (converted to D's type exactly when
 * needed) is added in the epilogue before that single rounding, as the CPU
 * reference adds it to the f32 sum.
 *
 * A linear whose only consumer is gelu_tanh can run with cuBLASLt's GELU_BIAS epilogue
 * (the tanh form, applied to the f32 sum after the bias, before the single rounding):
 * pf_cuda_run_linear_gelu, planned by cuda_fuse.c. It has no reference-kernel fallback;
 * the caller runs the two nodes separately instead.
 *
 * When cuBLASLt has no algorithm for a problem (alignment, K = 0, ...) or
 * PF_CUDA_GEMM=ref is set, the reference kernel computes it from the original
 * operands. Plans (descriptors, layouts and the chosen algorithm) are cached by
 * problem (types, sizes, strides, pointer alignments, whether C is read).
 *
 * pf_cuda_gemm is the same machinery for other host files (the conv3d GEMM path):
 * an output leading dimension ldc >= N and D = alpha A B' + beta C in place (C is D).
 * With ldc != N or beta != 0 cuBLASLt must write the output type itself (f32, or the
 * 16-bit operand type); other output types go to the reference kernel, which takes
 * every combination.
 */
#include "cuda_impl.h"

static bool pf_is_f(pf_dtype t) { return t == PF_F32 || t == PF_BF16 || t == PF_F16; }

static cudaDataType pf_cuda_type(pf_dtype t) {
    return t == PF_BF16 ? CUDA_R_16BF : t == PF_F16 ? CUDA_R_16F : CUDA_R_32F;
}

/* Largest power of two (<= 256) dividing the address. */
static uint32_t pf_align_of(const void *p) {
    uintptr_t a = (uintptr_t)p;
    uint32_t al = 256;
    while (al > 1 && (a & (al - 1))) al >>= 1;
    return al;
}

/* ---------------------------------------------------------------- support */

bool pf_cuda_supports_linear(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *x = n->src[0], *w = n->src[1], *b = n->src[2];
    if (!x || !w || !pf_is_f(x->dtype) || !pf_is_f(w->dtype) || !pf_is_f(n->dtype)) return false;
    if (w->ndim != 2 || x->ndim < 1 || n->ndim != x->ndim || !pf_is_contiguous(x) || !pf_is_contiguous(w)) return false;
    int64_t K = w->ne[1], N = w->ne[0];
    if (x->ne[x->ndim - 1] != K || n->ne[n->ndim - 1] != N) return false;
    for (int d = 0; d < x->ndim - 1; d++)
        if (x->ne[d] != n->ne[d]) return false;
    return !b || (b->ndim == 1 && b->ne[0] == N && pf_is_f(b->dtype) && pf_is_contiguous(b));
}

bool pf_cuda_supports_matmul(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *a = n->src[0], *b = n->src[1];
    if (!a || !b || !pf_is_f(a->dtype) || !pf_is_f(b->dtype) || !pf_is_f(n->dtype)) return false;
    if (a->ndim < 2 || a->ndim > 3 || b->ndim < 2 || b->ndim > 3 || n->ndim != a->ndim) return false;
    if (!pf_is_contiguous(a) || !pf_is_contiguous(b)) return false;
    bool tb = n->ip[0] != 0;
    int64_t Ba = a->ndim == 3 ? a->ne[0] : 1, M = a->ne[a->ndim - 2], K = a->ne[a->ndim - 1];
    int64_t Bb = b->ndim == 3 ? b->ne[0] : 1;
    int64_t bK = tb ? b->ne[b->ndim - 1] : b->ne[b->ndim - 2], N = tb ? b->ne[b->ndim - 2] : b->ne[b->ndim - 1];
    if (bK != K || (Bb != Ba && Bb != 1) || Ba > 0x7fffffff) return false;
    return n->ne[n->ndim - 2] == M && n->ne[n->ndim - 1] == N && (a->ndim == 2 || n->ne[0] == Ba);
}

/* ---------------------------------------------------------------- plans */

static void pf_plan_free(pf_cuda_gemm_plan *p) {
    if (!p->valid) return;
    if (p->desc) cublasLtMatmulDescDestroy(p->desc);
    if (p->la) cublasLtMatrixLayoutDestroy(p->la);
    if (p->lb) cublasLtMatrixLayoutDestroy(p->lb);
    if (p->ld) cublasLtMatrixLayoutDestroy(p->ld);
    memset(p, 0, sizeof *p);
}

void pf_cuda_gemm_destroy(pf_cuda_ctx *c) {
    for (int i = 0; i < PF_CUDA_PLAN_CACHE; i++) pf_plan_free(&c->plans[i]);
}

static pf_status pf_layout(cublasLtMatrixLayout_t *l, cudaDataType t, uint64_t rows, uint64_t cols, int64_t ld,
                           int32_t batch, int64_t stride) {
    PF_CUBLAS_TRY(cublasLtMatrixLayoutCreate(l, t, rows, cols, ld), "cuBLASLt layout %llu x %llu (ld %lld)",
                  (unsigned long long)rows, (unsigned long long)cols, (long long)ld);
    if (batch > 1) {
        PF_CUBLAS_TRY(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch),
                      "cuBLASLt batch count %d", batch);
        PF_CUBLAS_TRY(
            cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride),
            "cuBLASLt batch stride %lld", (long long)stride);
    }
    return PF_OK;
}

static pf_status pf_workspace(pf_cuda_ctx *c) {
    if (c->workspace) return PF_OK;
    size_t ws = c->cc_major >= 9 ? (size_t)32 << 20 : (size_t)8 << 20; /* Hopper kernels like a large one */
    PF_TRY(pf_cuda_alloc(&c->alloc, ws, "the cuBLASLt workspace", &c->workspace));
    c->workspace_size = ws;
    return PF_OK;
}

/* Descriptors, layouts and the heuristic's algorithm for key k (p->lt_ok false: cuBLASLt
 * has none, the reference kernel runs). */
static pf_status pf_plan_build(pf_cuda_ctx *c, pf_cuda_gemm_plan *p, const pf_cuda_gemm_key *k, const void *bias) {
    PF_TRY(pf_workspace(c));
    char what[160];
    snprintf(what, sizeof what, "GEMM plan m=%llu n=%llu k=%llu batch %d", (unsigned long long)k->m,
             (unsigned long long)k->n, (unsigned long long)k->k, k->batch);
    PF_CUBLAS_TRY(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "%s", what);
    cublasOperation_t ta = k->transa ? CUBLAS_OP_T : CUBLAS_OP_N, tb = CUBLAS_OP_N;
    PF_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta), "%s", what);
    PF_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb), "%s", what);
    if (k->bias_type >= 0 || k->gelu) {
        cublasLtEpilogue_t ep = k->gelu ? (k->bias_type >= 0 ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU)
                                        : CUBLASLT_EPILOGUE_BIAS;
        PF_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &ep, sizeof ep), "%s",
                      what);
    }
    if (k->bias_type >= 0) {
        int32_t bt = k->bias_type;
        PF_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof bt),
                      "%s", what);
        /* the heuristic reads the pointer's alignment */
        PF_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias),
                      "%s", what);
    }
    /* stored (pre-op) shapes: A is [k, m] when transposed else [m, k]; B [k, n]; D [m, n] */
    cudaDataType ab = (cudaDataType)k->ab_type, dt = (cudaDataType)k->d_type;
    PF_TRY(pf_layout(&p->la, ab, k->transa ? k->k : k->m, k->transa ? k->m : k->k, k->lda, k->batch, k->stride_a));
    PF_TRY(pf_layout(&p->lb, ab, k->k, k->n, k->ldb, k->batch, k->stride_b));
    PF_TRY(pf_layout(&p->ld, dt, k->m, k->n, k->ldd, k->batch, k->stride_d));

    cublasLtMatmulPreference_t pref;
    PF_CUBLAS_TRY(cublasLtMatmulPreferenceCreate(&pref), "%s", what);
    uint64_t wsb = c->workspace_size;
    cublasStatus_t s =
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsb, sizeof wsb);
    const cublasLtMatmulPreferenceAttributes_t al_attr[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    const uint32_t al_val[4] = {k->align_a, k->align_b, k->align_d, k->align_d};
    for (int i = 0; i < 4 && s == CUBLAS_STATUS_SUCCESS; i++)
        s = cublasLtMatmulPreferenceSetAttribute(pref, al_attr[i], &al_val[i], sizeof al_val[i]);
    cublasLtMatmulHeuristicResult_t res;
    int found = 0;
    memset(&res, 0, sizeof res);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulAlgoGetHeuristic(c->lt, p->desc, p->la, p->lb, p->ld, p->ld, pref, 1, &res, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (s == CUBLAS_STATUS_NOT_SUPPORTED ||
        (s == CUBLAS_STATUS_SUCCESS && (found < 1 || res.state != CUBLAS_STATUS_SUCCESS))) {
        PF_DEBUG("CUDA: cuBLASLt has no algorithm for %s; using the reference GEMM kernel", what);
        p->lt_ok = false;
        return PF_OK;
    }
    if (s != CUBLAS_STATUS_SUCCESS) return pf_cublas_error(s, "cublasLtMatmulAlgoGetHeuristic", "%s", what);
    p->algo = res.algo;
    p->workspace = res.workspaceSize;
    p->lt_ok = true;
    return PF_OK;
}

/* The cached plan for key k, built on first use (round-robin replacement). */
static pf_status pf_plan_get(pf_cuda_ctx *c, const pf_cuda_gemm_key *k, const void *bias, pf_cuda_gemm_plan **out) {
    *out = NULL;
    for (int i = 0; i < PF_CUDA_PLAN_CACHE; i++)
        if (c->plans[i].valid && !memcmp(&c->plans[i].key, k, sizeof *k)) {
            *out = &c->plans[i];
            return PF_OK;
        }
    pf_cuda_gemm_plan *p = &c->plans[c->plan_next];
    c->plan_next = (c->plan_next + 1) % PF_CUDA_PLAN_CACHE;
    pf_plan_free(p);
    p->key = *k;
    p->valid = true;
    pf_status rc = pf_plan_build(c, p, k, bias);
    if (rc != PF_OK) {
        pf_plan_free(p);
        return rc;
    }
    *out = p;
    return PF_OK;
}

/* ---------------------------------------------------------------- execution */

static pf_status pf_gemm_ref(pf_cuda_ctx *c, const pf_cuda_gemm_op *g) {
    pf_cu_gemm_args a = {
        .a = g->a,
        .b = g->b,
        .bias = g->bias,
        .c = g->c,
        .a_dtype = (int32_t)g->a_dt,
        .b_dtype = (int32_t)g->b_dt,
        .bias_dtype = (int32_t)g->bias_dt,
        .c_dtype = (int32_t)g->c_dt,
        .trans_b = g->trans_b,
        .Bt = g->Bt,
        .Bb = g->Bb,
        .M = g->M,
        .N = g->N,
        .K = g->K,
        .ldc = g->ldc,
        .alpha = g->alpha,
        .beta = g->beta,
    };
    return pf_cuda_launched(c, pf_cu_gemm_ref(&a, c->stream), "pf_cu_gemm_ref");
}

/* Convert n elements into a new scratch block of type dt. */
static pf_status pf_converted(pf_cuda_ctx *c, const void *src, pf_dtype st, pf_dtype dt, int64_t n, const char *what,
                              pf_cuda_block **out) {
    PF_TRY(pf_cuda_scratch(c, (size_t)n * pf_dtype_size(dt), what, out));
    pf_status rc =
        pf_cuda_launched(c, pf_cu_convert((*out)->ptr, (int)dt, src, (int)st, n, c->stream), "pf_cu_convert");
    if (rc != PF_OK) {
        pf_cuda_scratch_release(c, *out);
        *out = NULL;
    }
    return rc;
}

static pf_status pf_gemm_lt(pf_cuda_ctx *c, const pf_cuda_gemm_op *g, pf_cuda_block **tmp, bool *fallback) {
    *fallback = false;
    /* operand type */
    pf_dtype ab = g->a_dt == g->b_dt ? g->a_dt : (g->a_dt == PF_F32 && g->b_dt == PF_BF16) ? PF_BF16 : PF_F32;
    /* D type: the output's when cuBLASLt writes it from these operands (f32, or the
     * operands' 16-bit type), else f32 scratch converted afterwards */
    pf_dtype dt = g->c_dt == PF_F32 || (ab != PF_F32 && g->c_dt == ab) ? g->c_dt : PF_F32;
    if (g->bias && g->bias_dt != dt) dt = PF_F32; /* bias added to the f32 sum, then one rounding */
    const int64_t a_n = g->Bt * g->M * g->K, b_n = g->Bb * g->N * g->K, c_n = g->Bt * g->M * g->N;

    const void *pa = g->a, *pb = g->b, *pbias = g->bias;
    void *pd = g->c;
    if (g->a_dt != ab) {
        PF_TRY(pf_converted(c, g->a, g->a_dt, ab, a_n, "a GEMM operand conversion", &tmp[0]));
        pa = tmp[0]->ptr;
    }
    if (g->b_dt != ab) {
        PF_TRY(pf_converted(c, g->b, g->b_dt, ab, b_n, "a GEMM operand conversion", &tmp[1]));
        pb = tmp[1]->ptr;
    }
    if (g->bias && g->bias_dt != dt) {
        PF_TRY(pf_converted(c, g->bias, g->bias_dt, dt, g->N, "a GEMM bias conversion", &tmp[2]));
        pbias = tmp[2]->ptr;
    }
    const int64_t ldc = g->ldc > 0 ? g->ldc : g->N;
    if (dt != g->c_dt && (ldc != g->N || g->beta != 0.0f)) { /* no f32 scratch for a strided or read C */
        *fallback = true;
        return PF_OK;
    }
    if (dt != g->c_dt) {
        PF_TRY(pf_cuda_scratch(c, (size_t)c_n * sizeof(float), "the f32 GEMM result", &tmp[3]));
        pd = tmp[3]->ptr;
    }

    pf_cuda_gemm_key k;
    memset(&k, 0, sizeof k); /* padding takes part in the comparison */
    k.ab_type = pf_cuda_type(ab);
    k.d_type = pf_cuda_type(dt);
    k.bias_type = pbias ? (int32_t)pf_cuda_type(dt) : -1;
    k.gelu = g->gelu;
    k.transa = g->trans_b;
    k.m = (uint64_t)g->N;
    k.n = (uint64_t)g->M;
    k.k = (uint64_t)g->K;
    k.lda = g->trans_b ? g->K : g->N;
    k.ldb = g->K;
    k.ldd = ldc;
    k.beta_nz = g->beta != 0.0f;
    k.batch = (int32_t)g->Bt;
    k.stride_a = g->Bb == 1 ? 0 : g->N * g->K;
    k.stride_b = g->M * g->K;
    k.stride_d = g->M * ldc;
    k.align_a = pf_align_of(pb);
    k.align_b = pf_align_of(pa);
    k.align_d = pf_align_of(pd);
    k.align_bias = pbias ? pf_align_of(pbias) : 0;
    pf_cuda_gemm_plan *p;
    PF_TRY(pf_plan_get(c, &k, pbias, &p));
    if (!p->lt_ok) {
        *fallback = true;
        return PF_OK;
    }
    char what[160];
    snprintf(what, sizeof what, "GEMM m=%lld n=%lld k=%lld batch %lld (%s x %s -> %s)", (long long)g->M,
             (long long)g->N, (long long)g->K, (long long)g->Bt, pf_dtype_name(g->a_dt), pf_dtype_name(g->b_dt),
             pf_dtype_name(g->c_dt));
    if (pbias)
        PF_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &pbias, sizeof pbias),
                      "%s", what);
    const float alpha = g->alpha, beta = g->beta;
    cublasStatus_t s = cublasLtMatmul(c->lt, p->desc, &alpha, pb, p->la, pa, p->lb, &beta, pd, p->ld, pd, p->ld,
                                      &p->algo, c->workspace->ptr, p->workspace, c->stream);
    if (s == CUBLAS_STATUS_NOT_SUPPORTED) { /* declined after all: remember, and use the reference kernel */
        PF_DEBUG("CUDA: cuBLASLt declined %s; using the reference GEMM kernel", what);
        p->lt_ok = false;
        *fallback = true;
        return PF_OK;
    }
    if (s != CUBLAS_STATUS_SUCCESS) return pf_cublas_error(s, "cublasLtMatmul", "%s", what);
    if (pd != g->c)
        PF_TRY(pf_cuda_launched(c, pf_cu_convert(g->c, (int)g->c_dt, pd, PF_CU_F32, c_n, c->stream), "pf_cu_convert"));
    return PF_OK;
}

/* Fold a shared B into one GEMM over all rows of A (C's batches are M * ldc apart). */
static void pf_gemm_fold(pf_cuda_gemm_op *g) {
    if (g->Bb == 1 && g->Bt > 1) {
        g->M *= g->Bt;
        g->Bt = 1;
    }
}

pf_status pf_cuda_gemm(pf_cuda_ctx *c, pf_cuda_gemm_op *g) {
    if (g->Bt <= 0 || g->M <= 0 || g->N <= 0) return PF_OK;
    if (g->ldc > 0 && g->ldc < g->N)
        return pf_error(PF_ERR_INTERNAL, "GEMM ldc %lld < N %lld", (long long)g->ldc, (long long)g->N);
    if (g->gelu) return pf_error(PF_ERR_INTERNAL, "GELU-epilogue GEMMs go through pf_cuda_run_linear_gelu");
    pf_gemm_fold(g);
    if (c->gemm_ref || g->K <= 0 || g->Bt > 0x7fffffff) return pf_gemm_ref(c, g);
    pf_cuda_block *tmp[4] = {0};
    bool fallback = false;
    pf_status rc = pf_gemm_lt(c, g, tmp, &fallback);
    for (int i = 0; i < 4; i++) pf_cuda_scratch_release(c, tmp[i]); /* stream order keeps them alive for the GEMM */
    if (rc == PF_OK && fallback) rc = pf_gemm_ref(c, g);
    return rc;
}

static pf_cuda_gemm_op pf_linear_gemm(const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0], *w = n->src[1], *b = n->src[2];
    int64_t K = w->ne[1], N = w->ne[0];
    pf_cuda_gemm_op g = {
        .a = pf_cuda_ptr(x),
        .b = pf_cuda_ptr(w),
        .bias = b ? pf_cuda_ptr(b) : NULL,
        .c = dst,
        .a_dt = x->dtype,
        .b_dt = w->dtype,
        .bias_dt = b ? b->dtype : PF_F32,
        .c_dt = n->dtype,
        .trans_b = true,
        .Bt = 1,
        .Bb = 1,
        .M = K ? pf_nelem(x) / K : pf_nelem(n) / (N ? N : 1),
        .N = N,
        .K = K,
        .alpha = 1.0f,
    };
    return g;
}

pf_status pf_cuda_run_linear(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    pf_cuda_gemm_op g = pf_linear_gemm(n, dst);
    return pf_cuda_gemm(c, &g);
}

pf_status pf_cuda_run_linear_gelu(pf_cuda_ctx *c, const pf_tensor *lin, const pf_tensor *act, void *dst, bool *done) {
    *done = false;
    pf_cuda_gemm_op g = pf_linear_gemm(lin, dst);
    g.c_dt = act->dtype;
    g.gelu = true;
    if (c->gemm_ref || g.K <= 0 || g.M <= 0 || g.N <= 0) return PF_OK;
    pf_gemm_fold(&g);
    pf_cuda_block *tmp[4] = {0};
    bool fallback = false;
    pf_status rc = pf_gemm_lt(c, &g, tmp, &fallback);
    for (int i = 0; i < 4; i++) pf_cuda_scratch_release(c, tmp[i]);
    *done = rc == PF_OK && !fallback;
    return rc;
}

pf_status pf_cuda_run_matmul(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *a = n->src[0], *b = n->src[1];
    bool tb = n->ip[0] != 0;
    pf_cuda_gemm_op g = {
        .a = pf_cuda_ptr(a),
        .b = pf_cuda_ptr(b),
        .bias = NULL,
        .c = dst,
        .a_dt = a->dtype,
        .b_dt = b->dtype,
        .bias_dt = PF_F32,
        .c_dt = n->dtype,
        .trans_b = tb,
        .Bt = a->ndim == 3 ? a->ne[0] : 1,
        .Bb = b->ndim == 3 ? b->ne[0] : 1,
        .M = a->ne[a->ndim - 2],
        .N = n->ne[n->ndim - 1],
        .K = a->ne[a->ndim - 1],
        .alpha = n->fp[0],
    };
    return pf_cuda_gemm(c, &g);
}
