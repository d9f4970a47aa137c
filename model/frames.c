/* Pixel conversions at the two ends of the pipeline. */
#include "pf_pipeline.h"
#include "pf_threads.h"

static inline float pf_rnd(float v, pf_dtype dt) {
    return dt == PF_BF16 ? pf_round_bf16(v) : v;
}

typedef struct {
    const float *video;
    int64_t plane, chan;
    pf_dtype dt;
    uint8_t *rgb;
} pf_frames_job;

/* frames [begin, end) */
static void pf_frames_range(void *ctx, int64_t begin, int64_t end, int thread) {
    (void)thread;
    const pf_frames_job *j = ctx;
    const int64_t plane = j->plane, chan = j->chan;
    const pf_dtype dt = j->dt;
    for (int64_t f = begin; f < end; f++)
        for (int64_t i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++) {
                float x = pf_rnd(j->video[c * chan + f * plane + i], dt);
                float v = pf_rnd(pf_rnd(x * 127.5f, dt) + 127.5f, dt);
                if (!(v > 0.0f)) v = 0.0f; /* NaN clamps to 0 here; PyTorch would give an undefined byte */
                if (v > 255.0f) v = 255.0f;
                j->rgb[(f * plane + i) * 3 + c] = (uint8_t)v;
            }
}

/* decode_latent: image.mul(127.5).add(127.5).clamp(0, 255).byte(), then
 * "B C T H W -> (B T) H W C". byte() truncates toward zero. Frames are split over the
 * CPU's threads when there are more than 4 Mi values (a 5 s 768p video: 357 M, 3.2 s on
 * one thread of the H200 machine); each value's conversion is the same either way. */
void pf_frames_from_video(const float *video, int F, int H, int W, pf_dtype dt, uint8_t *rgb) {
    pf_frames_job j = {.video = video, .plane = (int64_t)H * W, .chan = (int64_t)F * H * W, .dt = dt, .rgb = rgb};
    pf_threadpool *tp = NULL;
    if (3 * j.chan > ((int64_t)1 << 22) && F > 1 && pf_cpu_count() > 1)
        (void)pf_threadpool_create(0, &tp); /* on failure: this thread alone */
    pf_parallel_for(tp, F, 1, pf_frames_range, &j);
    pf_threadpool_free(tp);
}

/* transforms.ToTensor() (u / 255 in float32) then Normalize(0.5, 0.5): (x - 0.5) / 0.5. */
void pf_image_to_video(const uint8_t *rgb, int H, int W, pf_dtype dt, float *video) {
    int64_t plane = (int64_t)H * W;
    for (int64_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            float x = (float)rgb[i * 3 + c] / 255.0f;
            video[c * plane + i] = pf_rnd((x - 0.5f) / 0.5f, dt);
        }
}
