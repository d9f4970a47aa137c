/*
 * Causal 3-D convolution (the video VAE's CausalConv3d and the DiT's patch
 * embedding), direct form.
 *
 * x [B, Ci, T, H, W], w [Co, Ci, kt, kh, kw], bias [Co], optional front cache
 * [B, Ci, pad_t, H, W] -> y [B, Co, To, Ho, Wo]. Time is padded with pad_t frames
 * in front only (zeros, or the cache: the last frames of the previous chunk),
 * height and width with pad_h / pad_w zeros on both sides; strides (st, sh, sw).
 * Padded time index tp = to*st + a reads the cache when tp < pad_t, else input
 * frame tp - pad_t, exactly as cpu_ref_conv3d.
 *
 * Design (correct and simple; an implicit-GEMM tensor-core version comes later):
 * each thread computes one output position for PF_CONV_COT = 8 consecutive output
 * channels, so every input value it loads feeds 8 accumulators (f32, in
 * registers: the channel loop is unrolled). A block of 128 threads covers 128
 * consecutive output positions (coalesced loads along W) of one batch item and
 * stages the weights of its 8 output channels for a chunk of input channels in
 * shared memory (at most 8192 floats: all threads read the same weight, a
 * broadcast). Accumulation starts from the bias, as the reference does.
 */
#include "pf_cuda_common.cuh"

#define PF_CONV_THREADS 128
#define PF_CONV_COT 8
#define PF_CONV_SMEM_FLOATS 8192

extern "C" int64_t pf_cu_conv3d_max_taps(void) { return PF_CONV_SMEM_FLOATS / PF_CONV_COT; }

__global__ void __launch_bounds__(PF_CONV_THREADS) pf_k_conv3d(pf_cu_conv3d_args a, int cic) {
    extern __shared__ float ws[]; /* [COT][cic][taps] */
    const int64_t taps = a.kt * a.kh * a.kw, P = a.To * a.Ho * a.Wo;
    const int64_t co0 = (int64_t)blockIdx.y * PF_CONV_COT, b = blockIdx.z;
    const int64_t pos = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const bool active = pos < P;
    const int64_t wo = active ? pos % a.Wo : 0, ho = active ? (pos / a.Wo) % a.Ho : 0;
    const int64_t to = active ? pos / (a.Wo * a.Ho) : 0;

    float acc[PF_CONV_COT];
#pragma unroll
    for (int c = 0; c < PF_CONV_COT; c++)
        acc[c] = (a.bias && co0 + c < a.Co) ? pf_cu_ld(a.bias, a.bias_dtype, co0 + c) : 0.0f;

    for (int64_t ci0 = 0; ci0 < a.Ci; ci0 += cic) {
        __syncthreads(); /* the previous chunk's weights are no longer read */
        const int64_t n_w = (int64_t)PF_CONV_COT * cic * taps;
        for (int64_t t = threadIdx.x; t < n_w; t += blockDim.x) {
            const int64_t c = t / (cic * taps), rem = t % (cic * taps), cil = rem / taps, tap = rem % taps;
            const int64_t co = co0 + c, ci = ci0 + cil;
            ws[t] = (co < a.Co && ci < a.Ci) ? pf_cu_ld(a.w, a.w_dtype, (co * a.Ci + ci) * taps + tap) : 0.0f;
        }
        __syncthreads();
        if (!active) continue;
        const int64_t ci_end = ci0 + cic < a.Ci ? ci0 + cic : a.Ci;
        for (int64_t ci = ci0; ci < ci_end; ci++) {
            const int64_t cil = ci - ci0;
            for (int64_t ta = 0; ta < a.kt; ta++) {
                const int64_t tp = to * a.st + ta; /* padded time index */
                const void *src;
                int sdt;
                int64_t plane;
                if (tp < a.pad_t) {
                    if (!a.front) continue; /* zero padding */
                    src = a.front;
                    sdt = a.front_dtype;
                    plane = ((b * a.Ci + ci) * a.pad_t + tp) * a.H;
                } else {
                    src = a.x;
                    sdt = a.x_dtype;
                    plane = ((b * a.Ci + ci) * a.T + (tp - a.pad_t)) * a.H;
                }
                for (int64_t e = 0; e < a.kh; e++) {
                    const int64_t hi = ho * a.sh + e - a.pad_h;
                    if (hi < 0 || hi >= a.H) continue;
                    for (int64_t f = 0; f < a.kw; f++) {
                        const int64_t wi = wo * a.sw + f - a.pad_w;
                        if (wi < 0 || wi >= a.W) continue;
                        const float xv = pf_cu_ld(src, sdt, (plane + hi) * a.W + wi);
                        const float *wr = ws + cil * taps + (ta * a.kh + e) * a.kw + f;
#pragma unroll
                        for (int c = 0; c < PF_CONV_COT; c++) acc[c] += xv * wr[(int64_t)c * cic * taps];
                    }
                }
            }
        }
    }
    if (!active) return;
#pragma unroll
    for (int c = 0; c < PF_CONV_COT; c++)
        if (co0 + c < a.Co) pf_cu_st(a.y, a.y_dtype, (b * a.Co + co0 + c) * P + pos, acc[c]);
}

extern "C" cudaError_t pf_cu_conv3d(const pf_cu_conv3d_args *a, cudaStream_t stream) {
    const int64_t taps = a->kt * a->kh * a->kw, P = a->To * a->Ho * a->Wo;
    if (a->B <= 0 || a->Co <= 0 || P <= 0) return cudaSuccess;
    if (taps <= 0 || taps > pf_cu_conv3d_max_taps() || a->B > 65535) return cudaErrorInvalidValue;
    int64_t cic = PF_CONV_SMEM_FLOATS / (PF_CONV_COT * taps);
    if (cic > a->Ci) cic = a->Ci;
    if (cic < 1) cic = 1;
    const int64_t pblocks = (P + PF_CONV_THREADS - 1) / PF_CONV_THREADS;
    const int64_t cblocks = (a->Co + PF_CONV_COT - 1) / PF_CONV_COT;
    if (pblocks > 0x7fffffff || cblocks > 65535) return cudaErrorInvalidValue;
    dim3 grid((unsigned)pblocks, (unsigned)cblocks, (unsigned)a->B);
    const size_t smem = (size_t)PF_CONV_COT * (size_t)cic * (size_t)taps * sizeof(float);
    pf_k_conv3d<<<grid, PF_CONV_THREADS, smem, stream>>>(*a, (int)cic);
    return cudaGetLastError();
}
