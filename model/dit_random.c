/*
 * Random DiT weights for benchmarks at the released sizes (no file needed).
 *
 * Values are counter-based (a hash of seed, tensor and element index), so they do
 * not depend on the thread count, and approximately normal (Irwin-Hall sum of four
 * uniforms, rescaled): about 2 G values in seconds, written straight in the target dtype.
 */
#include "dit_internal.h"
#include "pf_threads.h"

static inline uint64_t dit_mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct {
    void *dst;
    pf_dtype dt;
    uint64_t key;
    float mean, std;
} dit_fill_job;

static void dit_fill_range(void *ctx, int64_t begin, int64_t end, int thread) {
    (void)thread;
    const dit_fill_job *j = ctx;
    /* sum of 4 uniforms on [0, 1): mean 2, variance 1/3 */
    const float k = 1.7320508f / 65536.0f; /* sqrt(3) / 2^16 */
    for (int64_t i = begin; i < end; i++) {
        uint64_t z = dit_mix64(j->key + (uint64_t)i);
        float s = (float)(z & 0xffff) + (float)((z >> 16) & 0xffff) + (float)((z >> 32) & 0xffff) + (float)(z >> 48);
        float v = j->mean + j->std * (s - 2.0f * 65536.0f) * k;
        switch (j->dt) {
        case PF_BF16: ((uint16_t *)j->dst)[i] = pf_f32_to_bf16(v); break;
        case PF_F16: ((uint16_t *)j->dst)[i] = pf_f32_to_f16(v); break;
        default: ((float *)j->dst)[i] = v; break;
        }
    }
}

pf_status dit_random_fill(pf_tensor *t, uint64_t seed, uint64_t stream, float mean, float std) {
    if (t->dtype != PF_F32 && t->dtype != PF_BF16 && t->dtype != PF_F16)
        return pf_error(PF_ERR_UNSUPPORTED, "random weights: tensor '%s' has dtype %s", t->name,
                        pf_dtype_name(t->dtype));
    int64_t n = pf_nelem(t);
    void *host = pf_malloc(pf_nbytes(t) ? pf_nbytes(t) : 1, t->name);
    if (!host) return PF_ERR_OOM;
    dit_fill_job job = {
        .dst = host, .dt = t->dtype, .key = dit_mix64(seed ^ dit_mix64(stream + 1)), .mean = mean, .std = std};
    pf_threadpool *pool = NULL;
    if (n >= (1 << 20) && pf_cpu_count() > 1) pf_threadpool_create(0, &pool); /* falls back to one thread */
    pf_parallel_for(pool, n, 1 << 16, dit_fill_range, &job);
    pf_threadpool_free(pool);
    pf_status rc = pf_tensor_set(t, host, pf_nbytes(t));
    free(host);
    return rc;
}
