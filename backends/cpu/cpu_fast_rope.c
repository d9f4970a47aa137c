/*
 * Fast kernel: RoPE on interleaved pairs. x [B, N, H, D], table f32
 * [N, D/2, 2] of (cos, sin); (x0, x1) -> (x0 c - x1 s, x0 s + x1 c), the same
 * rotation for every head of a token. Threaded over tokens; in place allowed
 * (each pair is read before it is written).
 */
#include "cpu_gemm.h"

typedef struct {
    pf_cpu_ctx *c;
    pf_tensor *d;
    int64_t N, H, P; /* P = D / 2 pairs */
} pf_rope_job;

static void pf_rope_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    const pf_rope_job *jb = ctx;
    const pf_tensor *x = jb->d->src[0];
    const float *tab = pf_cpu_data(jb->d->src[1]);
    int64_t HD = jb->H * 2 * jb->P;
    float *buf = pf_cpu_thread_scratch(jb->c, thread), *out = buf + HD;
    for (int64_t r = r0; r < r1; r++) { /* r = b * N + n */
        const float *cs = tab + (r % jb->N) * jb->P * 2;
        const float *xr;
        if (x->dtype == PF_F32) {
            xr = (const float *)pf_cpu_data(x) + r * HD;
        } else {
            pf_cpu_to_f32(buf, (const char *)pf_cpu_data(x) + (size_t)(r * HD) * pf_dtype_size(x->dtype), x->dtype, HD);
            xr = buf;
        }
        for (int64_t h = 0; h < jb->H; h++) {
            const float *xh = xr + h * 2 * jb->P;
            float *oh = out + h * 2 * jb->P;
            for (int64_t j = 0; j < jb->P; j++) {
                float x0 = xh[2 * j], x1 = xh[2 * j + 1], c = cs[2 * j], s = cs[2 * j + 1];
                oh[2 * j] = x0 * c - x1 * s;
                oh[2 * j + 1] = x0 * s + x1 * c;
            }
        }
        pf_cpu_from_f32((char *)pf_cpu_data(jb->d) + (size_t)(r * HD) * pf_dtype_size(jb->d->dtype), jb->d->dtype, out, HD);
    }
}

pf_status pf_cpu_fast_rope(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *x = d->src[0];
    pf_rope_job jb = {c, d, x->ne[1], x->ne[2], x->ne[3] / 2};
    int64_t HD = x->ne[2] * x->ne[3];
    PF_TRY(pf_cpu_thread_scratch_reserve(c, (size_t)(2 * HD) * sizeof(float)));
    pf_parallel_for(c->pool, x->ne[0] * x->ne[1], PF_MAX(1, 8192 / PF_MAX(HD, 1)), pf_rope_task, &jb);
    return PF_OK;
}
