/* Seeded random weights (the recipe is in pf_random_fill.h). */
#include "pf_random_fill.h"

#define PF_RF_THREADED (1 << 20) /* values from which a tensor is filled on the thread pool */

static inline uint64_t pf_rf_mix64(uint64_t z) {
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
} pf_rf_job;

static void pf_rf_range(void *ctx, int64_t begin, int64_t end, int thread) {
    (void)thread;
    const pf_rf_job *j = ctx;
    /* sum of 4 uniforms on [0, 1): mean 2, variance 1/3 */
    const float k = 1.7320508f / 65536.0f; /* sqrt(3) / 2^16 */
    for (int64_t i = begin; i < end; i++) {
        uint64_t z = pf_rf_mix64(j->key + (uint64_t)i);
        float s = (float)(z & 0xffff) + (float)((z >> 16) & 0xffff) + (float)((z >> 32) & 0xffff) + (float)(z >> 48);
        float v = j->mean + j->std * (s - 2.0f * 65536.0f) * k;
        switch (j->dt) {
        case PF_BF16: ((uint16_t *)j->dst)[i] = pf_f32_to_bf16(v); break;
        case PF_F16: ((uint16_t *)j->dst)[i] = pf_f32_to_f16(v); break;
        default: ((float *)j->dst)[i] = v; break;
        }
    }
}

pf_status pf_random_values(void *dst, pf_dtype dt, size_t n, uint64_t seed, uint64_t stream, float mean, float std,
                           pf_threadpool *threads) {
    if (dt != PF_F32 && dt != PF_BF16 && dt != PF_F16)
        return pf_error(PF_ERR_UNSUPPORTED, "random values in dtype %s (f32, bf16 or f16)",
                        (unsigned)dt < PF_DTYPE_COUNT ? pf_dtype_name(dt) : "?");
    pf_rf_job job = {.dst = dst, .dt = dt, .key = pf_rf_mix64(seed ^ pf_rf_mix64(stream + 1)), .mean = mean, .std = std};
    pf_parallel_for(threads, (int64_t)n, 1 << 16, pf_rf_range, &job);
    return PF_OK;
}

pf_status pf_random_fill_tensor(pf_random_fill *f, pf_tensor *t, uint64_t stream, float mean, float std) {
    if (!f || !t) return pf_error(PF_ERR_INVALID_ARG, "pf_random_fill_tensor: NULL argument");
    if (t->buffer && pf_backend_is_meta(t->buffer->backend)) return PF_OK; /* sizes only */
    if (t->dtype != PF_F32 && t->dtype != PF_BF16 && t->dtype != PF_F16)
        return pf_error(PF_ERR_UNSUPPORTED, "random weights: tensor '%s' has dtype %s", t->name,
                        pf_dtype_name(t->dtype));
    size_t n = (size_t)pf_nelem(t), bytes = pf_nbytes(t);
    if (n == 0) return PF_OK;
    if (bytes > f->cap) {
        free(f->stage);
        f->stage = pf_malloc(bytes, t->name);
        f->cap = f->stage ? bytes : 0;
        if (!f->stage) return PF_ERR_OOM;
    }
    if (n >= PF_RF_THREADED && !f->threads && pf_cpu_count() > 1)
        pf_threadpool_create(0, &f->threads); /* on failure: this thread only */
    PF_TRY(pf_random_values(f->stage, t->dtype, n, f->seed, stream, mean, std,
                            n >= PF_RF_THREADED ? f->threads : NULL));
    return pf_tensor_set(t, f->stage, bytes);
}

void pf_random_fill_free(pf_random_fill *f) {
    if (!f) return;
    pf_threadpool_free(f->threads);
    free(f->stage);
    f->threads = NULL;
    f->stage = NULL;
    f->cap = 0;
}
