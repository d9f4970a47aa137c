/* pf_video_read: decode a video back to RGB frames (checks and tests). */
#include "pf_video.h"

#include "pf_ffmpeg.h"

#ifdef PF_HAVE_FFMPEG
typedef struct {
    const char *path;
    uint8_t *frames;
    size_t cap; /* bytes */
    int T, H, W;
} read_acc;

static pf_status take_frame(void *user, const uint8_t *rgb, int w, int h) {
    read_acc *a = user;
    if (a->T == 0) {
        a->W = w;
        a->H = h;
    } else if (w != a->W || h != a->H) {
        return pf_error(PF_ERR_FORMAT, "%s: frame %d is %dx%d but the first was %dx%d", a->path, a->T, w, h, a->W,
                        a->H);
    }
    size_t fb = (size_t)w * (size_t)h * 3, need = fb * (size_t)(a->T + 1);
    if (need > a->cap) {
        size_t cap = PF_MAX(need, a->cap * 2);
        uint8_t *p = pf_realloc(a->frames, cap, "decoded video");
        if (!p) return PF_ERR_OOM;
        a->frames = p;
        a->cap = cap;
    }
    memcpy(a->frames + fb * (size_t)a->T, rgb, fb);
    a->T++;
    return PF_OK;
}
#endif

pf_status pf_video_read(const char *path, int max_frames, uint8_t **frames, int *T, int *H, int *W) {
    if (!path || !frames || !T || !H || !W) return pf_error(PF_ERR_INVALID_ARG, "pf_video_read: NULL argument");
    *frames = NULL;
    *T = *H = *W = 0;
#ifdef PF_HAVE_FFMPEG
    read_acc a = {.path = path};
    pf_status s = pf_ff_decode(path, NULL, 0, max_frames, false, take_frame, &a, NULL);
    if (s != PF_OK) {
        free(a.frames);
        return s;
    }
    *frames = a.frames;
    *T = a.T;
    *H = a.H;
    *W = a.W;
    return PF_OK;
#else
    (void)max_frames;
    return pf_ff_missing(path, "reading video", NULL);
#endif
}
