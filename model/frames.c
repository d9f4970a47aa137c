/* Pixel conversions at the two ends of the pipeline. */
#include "pf_pipeline.h"

static inline float pf_rnd(float v, pf_dtype dt) {
    return dt == PF_BF16 ? pf_round_bf16(v) : v;
}

/* decode_latent: image.mul(127.5).add(127.5).clamp(0, 255).byte(), then
 * "B C T H W -> (B T) H W C". byte() truncates toward zero. */
void pf_frames_from_video(const float *video, int F, int H, int W, pf_dtype dt, uint8_t *rgb) {
    int64_t plane = (int64_t)H * W, chan = (int64_t)F * plane;
    for (int f = 0; f < F; f++)
        for (int64_t i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++) {
                float x = pf_rnd(video[c * chan + (int64_t)f * plane + i], dt);
                float v = pf_rnd(pf_rnd(x * 127.5f, dt) + 127.5f, dt);
                if (!(v > 0.0f)) v = 0.0f; /* NaN clamps to 0 here; PyTorch would give an undefined byte */
                if (v > 255.0f) v = 255.0f;
                rgb[((int64_t)f * plane + i) * 3 + c] = (uint8_t)v;
            }
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
