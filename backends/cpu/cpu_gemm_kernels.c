/*
 * GEMM micro-kernels (one per instruction set) and the packing routines.
 *
 * A micro-kernel multiplies an A sliver packed as [kc][MR] by a B sliver
 * packed as [kc][NR], keeping the MR x NR tile of C in registers for the whole
 * kc loop, then writes alpha * acc + beta * C. Partial tiles (m < MR or
 * n < NR) are computed in full on zero-padded slivers and only the valid part
 * is written back.
 *
 *   generic  4 x 8   plain C (vectorised by the compiler for the baseline ISA)
 *   avx2     6 x 16  12 ymm accumulators, FMA
 *   avx512  12 x 32  24 zmm accumulators, FMA
 */
#include "cpu_gemm.h"
#include "cpu_simd.h"

#if PF_CPU_X86
#include <immintrin.h>
#endif

/* Write an MR x NR tile held in tmp (already multiplied by alpha) to C. */
static inline void pf_uk_store_tile(const float *tmp, int nr, float *c, int64_t ldc, int m, int n, float beta) {
    for (int i = 0; i < m; i++) {
        float *cr = c + i * ldc;
        const float *tr = tmp + i * nr;
        if (beta == 0.0f)
            for (int j = 0; j < n; j++) cr[j] = tr[j];
        else
            for (int j = 0; j < n; j++) cr[j] = tr[j] + beta * cr[j];
    }
}

/* ---------------------------------------------------------------- generic */

#define PF_G_MR 4
#define PF_G_NR 8

static void pf_uk_generic(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int m, int n, float alpha,
                          float beta) {
    float acc[PF_G_MR][PF_G_NR];
    for (int i = 0; i < PF_G_MR; i++)
        for (int j = 0; j < PF_G_NR; j++) acc[i][j] = 0.0f;
    for (int64_t k = 0; k < kc; k++) {
        const float *ak = a + k * PF_G_MR, *bk = b + k * PF_G_NR;
        for (int i = 0; i < PF_G_MR; i++)
            for (int j = 0; j < PF_G_NR; j++) acc[i][j] += ak[i] * bk[j];
    }
    float tmp[PF_G_MR * PF_G_NR];
    for (int i = 0; i < PF_G_MR; i++)
        for (int j = 0; j < PF_G_NR; j++) tmp[i * PF_G_NR + j] = alpha * acc[i][j];
    pf_uk_store_tile(tmp, PF_G_NR, c, ldc, m, n, beta);
}

#if PF_CPU_X86
/* ---------------------------------------------------------------- avx2 */

#define PF_A2_MR 6
#define PF_A2_NR 16

PF_TARGET_AVX2 static void pf_uk_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int m, int n,
                                      float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 t;
        t = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(t, b0, c00);
        c01 = _mm256_fmadd_ps(t, b1, c01);
        t = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(t, b0, c10);
        c11 = _mm256_fmadd_ps(t, b1, c11);
        t = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(t, b0, c20);
        c21 = _mm256_fmadd_ps(t, b1, c21);
        t = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(t, b0, c30);
        c31 = _mm256_fmadd_ps(t, b1, c31);
        t = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(t, b0, c40);
        c41 = _mm256_fmadd_ps(t, b1, c41);
        t = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(t, b0, c50);
        c51 = _mm256_fmadd_ps(t, b1, c51);
        a += PF_A2_MR;
        b += PF_A2_NR;
    }
    __m256 acc[PF_A2_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (m == PF_A2_MR && n == PF_A2_NR) {
        for (int i = 0; i < PF_A2_MR; i++) {
            float *cr = c + i * ldc;
            for (int h = 0; h < 2; h++) {
                __m256 r = _mm256_mul_ps(va, acc[i][h]);
                if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8 * h), r);
                _mm256_storeu_ps(cr + 8 * h, r);
            }
        }
        return;
    }
    float tmp[PF_A2_MR * PF_A2_NR];
    for (int i = 0; i < PF_A2_MR; i++)
        for (int h = 0; h < 2; h++) _mm256_storeu_ps(tmp + i * PF_A2_NR + 8 * h, _mm256_mul_ps(va, acc[i][h]));
    pf_uk_store_tile(tmp, PF_A2_NR, c, ldc, m, n, beta);
}

/* ---------------------------------------------------------------- avx512 */

#define PF_A5_MR 12
#define PF_A5_NR 32

PF_TARGET_AVX512 static void pf_uk_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int m,
                                          int n, float alpha, float beta) {
    __m512 acc[PF_A5_MR][2];
    for (int i = 0; i < PF_A5_MR; i++) {
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
        /* the tile of C is needed at the end: start fetching it now */
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
    }
    for (int64_t k = 0; k < kc; k++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        for (int i = 0; i < PF_A5_MR; i++) {
            __m512 t = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(t, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(t, b1, acc[i][1]);
        }
        a += PF_A5_MR;
        b += PF_A5_NR;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    if (m == PF_A5_MR && n == PF_A5_NR) {
        for (int i = 0; i < PF_A5_MR; i++) {
            float *cr = c + i * ldc;
            for (int h = 0; h < 2; h++) {
                __m512 r = _mm512_mul_ps(va, acc[i][h]);
                if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + 16 * h), r);
                _mm512_storeu_ps(cr + 16 * h, r);
            }
        }
        return;
    }
    float tmp[PF_A5_MR * PF_A5_NR];
    for (int i = 0; i < PF_A5_MR; i++)
        for (int h = 0; h < 2; h++) _mm512_storeu_ps(tmp + i * PF_A5_NR + 16 * h, _mm512_mul_ps(va, acc[i][h]));
    pf_uk_store_tile(tmp, PF_A5_NR, c, ldc, m, n, beta);
}
/* Pack an nr-column sliver of B given as W [N, K] (each column of B contiguous along k):
 * d[k * nr + j] = W[j][k] for k < kc, j < nr (nr a multiple of 8), f32 or bf16. The rows
 * are read 8 k at a time and transposed 8 x 8 in registers: reading nr rows element by
 * element would keep nr streams in flight and thrash the cache. */
PF_TARGET_AVX2 static void pf_pk_w_avx2(const void *w, pf_dtype dt, int64_t ld, int nr, int64_t kc, float *d) {
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8)
        for (int g = 0; g < nr; g += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) {
                if (dt == PF_F32) {
                    r[i] = _mm256_loadu_ps((const float *)w + (g + i) * ld + k);
                } else { /* bf16: the upper half of an f32 */
                    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + (g + i) * ld + k));
                    r[i] = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
                }
            }
            __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
            __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
            __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
            __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
            __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
            __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
            __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
            __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
            float *o = d + k * nr + g;
            _mm256_storeu_ps(o + 0 * nr, _mm256_permute2f128_ps(s0, s4, 0x20));
            _mm256_storeu_ps(o + 1 * nr, _mm256_permute2f128_ps(s1, s5, 0x20));
            _mm256_storeu_ps(o + 2 * nr, _mm256_permute2f128_ps(s2, s6, 0x20));
            _mm256_storeu_ps(o + 3 * nr, _mm256_permute2f128_ps(s3, s7, 0x20));
            _mm256_storeu_ps(o + 4 * nr, _mm256_permute2f128_ps(s0, s4, 0x31));
            _mm256_storeu_ps(o + 5 * nr, _mm256_permute2f128_ps(s1, s5, 0x31));
            _mm256_storeu_ps(o + 6 * nr, _mm256_permute2f128_ps(s2, s6, 0x31));
            _mm256_storeu_ps(o + 7 * nr, _mm256_permute2f128_ps(s3, s7, 0x31));
        }
    for (; k < kc; k++)
        for (int j = 0; j < nr; j++)
            d[k * nr + j] = dt == PF_F32 ? ((const float *)w)[j * ld + k] : pf_bf16_to_f32(((const uint16_t *)w)[j * ld + k]);
}
#endif /* PF_CPU_X86 */

static const pf_cpu_gemm_kernel pf_gemm_kernels[PF_ISA_COUNT] = {
    [PF_ISA_GENERIC] = {PF_G_MR, PF_G_NR, pf_uk_generic, "generic 4x8"},
#if PF_CPU_X86
    [PF_ISA_AVX2] = {PF_A2_MR, PF_A2_NR, pf_uk_avx2, "avx2 6x16"},
    [PF_ISA_AVX512] = {PF_A5_MR, PF_A5_NR, pf_uk_avx512, "avx512 12x32"},
#else
    [PF_ISA_AVX2] = {PF_G_MR, PF_G_NR, pf_uk_generic, "generic 4x8"},
    [PF_ISA_AVX512] = {PF_G_MR, PF_G_NR, pf_uk_generic, "generic 4x8"},
#endif
};

const pf_cpu_gemm_kernel *pf_cpu_gemm_kernel_get(void) { return &pf_gemm_kernels[pf_cpu_isa_get()]; }

/* ---------------------------------------------------------------- packing */

/* Load element at p[i] of a float dtype as f32. */
static inline float pf_pk_ld(const void *p, pf_dtype dt, int64_t i) {
    if (dt == PF_F32) return ((const float *)p)[i];
    if (dt == PF_BF16) return pf_bf16_to_f32(((const uint16_t *)p)[i]);
    return pf_f16_to_f32(((const uint16_t *)p)[i]);
}

/* dst[t * dstride] = X(r, c0 + t) for t < len: one row of X read along its columns. */
static void pf_pk_row(const pf_cpu_mat *X, int64_t r, int64_t c0, int64_t len, float *dst, int64_t dstride) {
    int64_t o = r * X->rs + c0 * X->cs, cs = X->cs;
    if (X->dt == PF_F32) {
        const float *p = (const float *)X->p + o;
        for (int64_t t = 0; t < len; t++) dst[t * dstride] = p[t * cs];
    } else if (X->dt == PF_BF16) {
        const uint16_t *p = (const uint16_t *)X->p + o;
        for (int64_t t = 0; t < len; t++) dst[t * dstride] = pf_bf16_to_f32(p[t * cs]);
    } else {
        for (int64_t t = 0; t < len; t++) dst[t * dstride] = pf_pk_ld(X->p, X->dt, o + t * cs);
    }
}

/* Interleave `rows` (<= 64) streams: d[k * rows + i] = src_i[k] for k < kc. The rows are
 * read in order, which beats scattering each row with a stride. */
static void pf_pk_interleave(const pf_cpu_mat *X, int64_t r0, int rows, int64_t c0, int64_t kc, float *d) {
    if (X->dt == PF_F32) {
        const float *src[64];
        for (int i = 0; i < rows; i++) src[i] = (const float *)X->p + (r0 + i) * X->rs + c0;
        for (int64_t k = 0; k < kc; k++)
            for (int i = 0; i < rows; i++) d[k * rows + i] = src[i][k];
    } else if (X->dt == PF_BF16) {
        const uint16_t *src[64];
        for (int i = 0; i < rows; i++) src[i] = (const uint16_t *)X->p + (r0 + i) * X->rs + c0;
        for (int64_t k = 0; k < kc; k++)
            for (int i = 0; i < rows; i++) d[k * rows + i] = pf_bf16_to_f32(src[i][k]);
    } else {
        for (int i = 0; i < rows; i++) pf_pk_row(X, r0 + i, c0, kc, d + i, rows);
    }
}

void pf_cpu_pack_a(const pf_cpu_mat *A, int64_t i0, int64_t m, int64_t k0, int64_t kc, int mr, float *dst) {
    for (int64_t s = 0; s < m; s += mr) {
        int64_t rows = PF_MIN((int64_t)mr, m - s);
        float *d = dst + s * kc;
        if (A->cs == 1 && rows == mr && mr <= 64) {
            pf_pk_interleave(A, i0 + s, mr, k0, kc, d);
        } else if (A->rs == 1 && A->cs != 1) {
            /* A stored transposed (column i contiguous): rows consecutive floats per k */
            if (A->dt == PF_F32) {
                const float *src = (const float *)A->p + (i0 + s) + k0 * A->cs;
                for (int64_t k = 0; k < kc; k++) {
                    const float *r = src + k * A->cs;
                    float *o = d + k * mr;
                    int64_t i = 0;
                    for (; i < rows; i++) o[i] = r[i];
                    for (; i < mr; i++) o[i] = 0.0f;
                }
            } else {
                pf_cpu_mat At = pf_cpu_mat_make(A->p, A->dt, A->cs, A->rs);
                for (int64_t k = 0; k < kc; k++) {
                    pf_pk_row(&At, k0 + k, i0 + s, rows, d + k * mr, 1);
                    for (int64_t i = rows; i < mr; i++) d[k * mr + i] = 0.0f;
                }
            }
        } else if (A->cs == 1 || rows < mr) {
            /* rows contiguous along k (A row-major): read each row, scatter with stride mr */
            for (int64_t i = 0; i < rows; i++) pf_pk_row(A, i0 + s + i, k0, kc, d + i, mr);
            for (int64_t i = rows; i < mr; i++)
                for (int64_t k = 0; k < kc; k++) d[k * mr + i] = 0.0f;
        } else {
            /* columns contiguous (A transposed): read mr consecutive rows per k */
            pf_cpu_mat At = pf_cpu_mat_make(A->p, A->dt, A->cs, A->rs);
            for (int64_t k = 0; k < kc; k++) pf_pk_row(&At, k0 + k, i0 + s, mr, d + k * mr, 1);
        }
    }
}

void pf_cpu_pack_b(const pf_cpu_mat *B, int64_t k0, int64_t kc, int64_t j0, int64_t n, int nr, float *dst) {
    if (B->pack) {
        B->pack(B->pack_ctx, k0, kc, j0, n, nr, dst);
        return;
    }
    for (int64_t s = 0; s < n; s += nr) {
        int64_t cols = PF_MIN((int64_t)nr, n - s);
        float *d = dst + s * kc;
        if (B->cs == 1 && B->dt == PF_F32 && cols == nr && (nr == 8 || nr == 16 || nr == 32)) {
            /* f32 row-major [K, N], a full sliver: fixed-size row copies the compiler vectorises */
            const float *src = (const float *)B->p + k0 * B->rs + j0 + s;
            int64_t rs = B->rs;
            if (nr == 32)
                for (int64_t k = 0; k < kc; k++)
                    for (int j = 0; j < 32; j++) d[k * 32 + j] = src[k * rs + j];
            else if (nr == 16)
                for (int64_t k = 0; k < kc; k++)
                    for (int j = 0; j < 16; j++) d[k * 16 + j] = src[k * rs + j];
            else
                for (int64_t k = 0; k < kc; k++)
                    for (int j = 0; j < 8; j++) d[k * 8 + j] = src[k * rs + j];
        } else if (B->cs == 1) {
            /* B row-major [K, N]: each k row of the sliver is contiguous */
            for (int64_t k = 0; k < kc; k++) {
                pf_pk_row(B, k0 + k, j0 + s, cols, d + k * nr, 1);
                for (int64_t j = cols; j < nr; j++) d[k * nr + j] = 0.0f;
            }
        } else {
            /* B given as W [N, K] (linear): column j of B is row j of W, contiguous along k */
            pf_cpu_mat Bt = pf_cpu_mat_make(B->p, B->dt, B->cs, B->rs);
#if PF_CPU_X86
            if (B->rs == 1 && cols == nr && nr % 8 == 0 && (B->dt == PF_F32 || B->dt == PF_BF16) &&
                pf_cpu_isa_get() >= PF_ISA_AVX2) {
                size_t es = pf_dtype_size(B->dt);
                pf_pk_w_avx2((const char *)B->p + (size_t)((j0 + s) * B->cs + k0) * es, B->dt, B->cs, nr, kc, d);
                continue;
            }
#endif
            if (B->rs == 1 && cols == nr && nr <= 64) {
                pf_pk_interleave(&Bt, j0 + s, nr, k0, kc, d);
                continue;
            }
            for (int64_t j = 0; j < cols; j++) pf_pk_row(&Bt, j0 + s + j, k0, kc, d + j, nr);
            for (int64_t j = cols; j < nr; j++)
                for (int64_t k = 0; k < kc; k++) d[k * nr + j] = 0.0f;
        }
    }
}

void pf_cpu_gemm_packed(const pf_cpu_gemm_kernel *k, int64_t m, int64_t n, int64_t kc, const float *Ap,
                        const float *Bp, float *C, int64_t ldc, float alpha, float beta) {
    for (int64_t j = 0; j < n; j += k->nr) {
        const float *b = Bp + j * kc;
        int nn = (int)PF_MIN((int64_t)k->nr, n - j);
        for (int64_t i = 0; i < m; i += k->mr) {
            int mm = (int)PF_MIN((int64_t)k->mr, m - i);
            k->run(kc, Ap + i * kc, b, C + i * ldc + j, ldc, mm, nn, alpha, beta);
        }
    }
}
