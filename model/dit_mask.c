/*
 * Attention metadata (facts §3.6, merge_input with use_temporal_causal=True).
 *
 * The official boolean mask over [text; image] is
 *   allowed(q, k) = id(q) == id(k) && time(q) >= time(k)
 * with id = 1 for image tokens and valid text tokens (T5 mask 1), 0 for padded text,
 * and time = the temporal RoPE id (text 0, image tokens their running frame index).
 * It is passed to attention as PF_MASK_FRAME parameters, meta = frame * 2 + valid,
 * never as an N x N tensor.
 */
#include "dit_internal.h"

void dit_token_meta(const dit_layout_key *k, int patch, const int32_t *text_mask, int32_t *meta) {
    int64_t n_img = 0;
    for (int c = 0; c < k->n_clips; c++) n_img += (int64_t)k->t[c] * (k->h[c] / patch) * (k->w[c] / patch);
    int64_t L = k->text_len, n_tot = L + n_img;
    for (int b = 0; b < k->batch; b++) {
        int32_t *m = meta + (int64_t)b * n_tot;
        for (int64_t j = 0; j < L; j++) m[j] = text_mask[(int64_t)b * L + j] != 0 ? 1 : 0; /* frame 0 */
        int64_t n = L;
        int f = 0;
        for (int c = 0; c < k->n_clips; c++) {
            int64_t per_frame = (int64_t)(k->h[c] / patch) * (k->w[c] / patch);
            for (int t = 0; t < k->t[c]; t++, f++)
                for (int64_t i = 0; i < per_frame; i++) m[n++] = f * 2 + 1;
        }
    }
}
