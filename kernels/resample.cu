/*
 * Resampling: depth-to-space (space and time), nearest 2x upsampling and the
 * 2x bilinear downsampling of the VAE.
 *
 * One thread per output element. Depth-to-space and nearest upsampling only
 * move elements, so they copy bytes of any element size. The bilinear 1/2
 * (align_corners=False) samples at 2i + 0.5: weights 0.5 in each axis, evaluated
 * in PyTorch's order h0*(w0*a + w1*b) + h1*(w0*c + w1*d) with each product and
 * sum rounded in f32 (see cpu_ref_downsample2x), then times `mul`.
 */
#include "pf_cuda_common.cuh"

/* Output [B, C, To, Ho, Wo]; input [B, Ci, Ti, Hi, Wi] (Ci = 4C for space, 2C for time). */
__global__ void pf_k_depth_to_space(void *__restrict__ y, const void *__restrict__ x, int es, int space, int drop,
                                    int64_t C, int64_t To, int64_t Ho, int64_t Wo, int64_t Ci, int64_t Ti, int64_t Hi,
                                    int64_t Wi, int64_t n) {
    PF_CU_GRID_STRIDE(o, n) {
        const int64_t w = o % Wo, h = (o / Wo) % Ho, t = (o / (Wo * Ho)) % To, ch = (o / (Wo * Ho * To)) % C;
        const int64_t b = o / (Wo * Ho * To * C);
        int64_t ic, it, ih, iw;
        if (space) {
            ic = ch * 4 + (h % 2) * 2 + (w % 2);
            it = t;
            ih = h / 2;
            iw = w / 2;
        } else {
            const int64_t tt = t + drop; /* frame index before dropping */
            ic = ch * 2 + tt % 2;
            it = tt / 2;
            ih = h;
            iw = w;
        }
        pf_cu_copy_elem(y, o, x, (((b * Ci + ic) * Ti + it) * Hi + ih) * Wi + iw, es);
    }
}

extern "C" cudaError_t pf_cu_depth_to_space(void *y, const void *x, int elem_size, int mode, int drop_first, int64_t B,
                                            int64_t C, int64_t To, int64_t Ho, int64_t Wo, int64_t Ci, int64_t Ti,
                                            int64_t Hi, int64_t Wi, cudaStream_t stream) {
    const int64_t n = B * C * To * Ho * Wo;
    if (n <= 0) return cudaSuccess;
    pf_k_depth_to_space<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(
        y, x, elem_size, mode == 0, drop_first, C, To, Ho, Wo, Ci, Ti, Hi, Wi, n);
    return cudaGetLastError();
}

__global__ void pf_k_upsample2x(void *__restrict__ y, const void *__restrict__ x, int es, int64_t Ho, int64_t Wo,
                                int64_t n) {
    const int64_t Hi = Ho / 2, Wi = Wo / 2;
    PF_CU_GRID_STRIDE(o, n) {
        const int64_t w = o % Wo, h = (o / Wo) % Ho, p = o / (Wo * Ho);
        pf_cu_copy_elem(y, o, x, (p * Hi + h / 2) * Wi + w / 2, es);
    }
}

extern "C" cudaError_t pf_cu_upsample2x(void *y, const void *x, int elem_size, int64_t planes, int64_t Ho, int64_t Wo,
                                        cudaStream_t stream) {
    const int64_t n = planes * Ho * Wo;
    if (n <= 0) return cudaSuccess;
    pf_k_upsample2x<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(y, x, elem_size, Ho, Wo, n);
    return cudaGetLastError();
}

__global__ void pf_k_downsample2x(void *__restrict__ y, int ydt, const void *__restrict__ x, int xdt, int64_t Ho,
                                  int64_t Wo, float mul, int64_t n) {
    const int64_t Wi = 2 * Wo;
    PF_CU_GRID_STRIDE(o, n) {
        const int64_t w = o % Wo, h = (o / Wo) % Ho, p = o / (Wo * Ho);
        const int64_t i = (p * Ho * 2 + 2 * h) * Wi + 2 * w;
        const float va = pf_cu_ld(x, xdt, i), vb = pf_cu_ld(x, xdt, i + 1);
        const float vc = pf_cu_ld(x, xdt, i + Wi), vd = pf_cu_ld(x, xdt, i + Wi + 1);
        const float top = __fadd_rn(__fmul_rn(0.5f, va), __fmul_rn(0.5f, vb));
        const float bot = __fadd_rn(__fmul_rn(0.5f, vc), __fmul_rn(0.5f, vd));
        const float v = __fadd_rn(__fmul_rn(0.5f, top), __fmul_rn(0.5f, bot));
        pf_cu_st(y, ydt, o, __fmul_rn(v, mul));
    }
}

extern "C" cudaError_t pf_cu_downsample2x(void *y, int y_dtype, const void *x, int x_dtype, int64_t planes, int64_t Ho,
                                          int64_t Wo, float mul, cudaStream_t stream) {
    const int64_t n = planes * Ho * Wo;
    if (n <= 0) return cudaSuccess;
    pf_k_downsample2x<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, Ho, Wo, mul,
                                                                                    n);
    return cudaGetLastError();
}
