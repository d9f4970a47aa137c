/*
 * The clean history a unit conditions on (generate(): the "pad the past clean
 * latents" loop), as a list of clips over the pyramid of generated frames.
 *
 * With k frames generated before the unit and the unit at stage s, the official loop
 * starts from the newest frame at the stage's own level and walks back one frame and
 * one level at a time; when it reaches the lowest level every remaining older frame
 * goes into one clip there. For S = 3 (q, h, f = quarter, half, full):
 *   s = 2: [q 0..k-3] [h k-2] [f k-1];  s = 1: [q 0..k-2] [h k-1];  s = 0: [q 0..k-2] [q k-1]
 * (empty groups dropped), chronological, the current noisy clip goes after them.
 */
#include "pf_pipeline.h"

int pf_history_layout(int k, int stage, int n_stages, pf_hist_clip *clips, int cap) {
    if (k <= 0 || stage < 0 || stage >= n_stages || cap < n_stages) return 0;
    pf_hist_clip rev[PF_SCHED_MAX_STAGES + 1];
    int n = 0;
    /* frame_per_unit = 1: unit frames are single latent frames */
    rev[n++] = (pf_hist_clip){.level = stage, .first = k - 1, .count = 1};
    int cur_stage = stage, ptx = 1;
    while (ptx < k) {
        cur_stage = cur_stage - 1 < 0 ? 0 : cur_stage - 1;
        if (cur_stage == 0) break;
        ptx++;
        rev[n++] = (pf_hist_clip){.level = cur_stage, .first = k - ptx, .count = 1};
    }
    if (cur_stage == 0 && ptx < k) rev[n++] = (pf_hist_clip){.level = 0, .first = 0, .count = k - ptx};
    for (int i = 0; i < n; i++) clips[i] = rev[n - 1 - i];
    return n;
}
