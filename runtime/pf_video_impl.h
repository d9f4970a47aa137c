/* Internals of pf_video: the writer object and the two encoder back ends
 * (FFmpeg for mp4/webm/gif, libpng for PNG sequences). */
#ifndef PF_VIDEO_IMPL_H
#define PF_VIDEO_IMPL_H

#include "pf_video.h"

typedef struct pf_video_backend pf_video_backend;

struct pf_video_writer {
    const pf_video_backend *be;
    pf_video_format format;
    int width, height;
    double fps;
    int crf;            /* resolved: never 0 */
    char preset[16];    /* resolved x264 preset */
    int png_start;
    char *path;         /* destination */
    int frames;         /* frames accepted so far */
    pf_status failed;   /* first failure (PF_OK while healthy) */
    char *failed_msg;   /* its message, repeated by pf_video_close */
    void *impl;         /* back-end state */
};

struct pf_video_backend {
    /* Format-specific checks that need no file (encoder present, pattern
     * valid, size acceptable when w, h > 0). */
    pf_status (*check)(pf_video_format f, const char *path, int w, int h, double fps);
    /* Create the temporary output(s) and encoder state in w->impl. */
    pf_status (*open)(pf_video_writer *w);
    pf_status (*write)(pf_video_writer *w, const uint8_t *rgb);
    /* Finish and publish under w->path; on failure remove the temporaries.
     * Frees w->impl in every case. */
    pf_status (*finish)(pf_video_writer *w);
    /* Remove the temporaries, free w->impl. */
    void (*discard)(pf_video_writer *w);
};

#ifdef PF_HAVE_FFMPEG
extern const pf_video_backend pf_video_backend_ffmpeg;
#endif
#ifdef PF_HAVE_PNG
extern const pf_video_backend pf_video_backend_png;
#endif

#endif /* PF_VIDEO_IMPL_H */
