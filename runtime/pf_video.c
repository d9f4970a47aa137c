/* Video output front end: format choice, up-front checks, the streaming
 * writer's state machine. The encoding lives in the back ends. */
#include "pf_video_impl.h"

#include "pf_ffmpeg.h"
#include "pf_image.h"
#include "pf_outfile.h"
#include "pf_png.h"

#include <math.h>
#include <strings.h>

#define PF_VIDEO_MAX_FPS 1000.0

pf_video_format pf_video_format_from_path(const char *path) {
    if (!path) return PF_VIDEO_AUTO;
    const char *ext = pf_path_extension(path);
    if (!strcasecmp(ext, "mp4")) return PF_VIDEO_MP4;
    if (!strcasecmp(ext, "webm")) return PF_VIDEO_WEBM;
    if (!strcasecmp(ext, "gif")) return PF_VIDEO_GIF;
    if (!strcasecmp(ext, "png")) return PF_VIDEO_PNG;
    return PF_VIDEO_AUTO;
}

const char *pf_video_format_name(pf_video_format f) {
    switch (f) {
    case PF_VIDEO_AUTO: return "auto";
    case PF_VIDEO_MP4: return "mp4";
    case PF_VIDEO_WEBM: return "webm";
    case PF_VIDEO_GIF: return "gif";
    case PF_VIDEO_PNG: return "png";
    }
    return "?";
}

static const pf_video_backend *backend_for(pf_video_format f) {
    switch (f) {
    case PF_VIDEO_MP4:
    case PF_VIDEO_WEBM:
    case PF_VIDEO_GIF:
#ifdef PF_HAVE_FFMPEG
        return &pf_video_backend_ffmpeg;
#else
        return NULL;
#endif
    case PF_VIDEO_PNG:
#ifdef PF_HAVE_PNG
        return &pf_video_backend_png;
#else
        return NULL;
#endif
    case PF_VIDEO_AUTO: break;
    }
    return NULL;
}

bool pf_video_format_available(pf_video_format f) { return backend_for(f) != NULL; }

static pf_status missing_backend(const char *path, pf_video_format f) {
    char what[64];
    snprintf(what, sizeof what, "writing .%s video", pf_video_format_name(f));
    if (f == PF_VIDEO_PNG)
        return pf_png_missing(path, "writing PNG frames",
                              pf_video_format_available(PF_VIDEO_MP4) ? "write .mp4, .webm or .gif instead" : NULL);
    return pf_ff_missing(path, what,
                         pf_video_format_available(PF_VIDEO_PNG)
                             ? "write PNG frames instead (-o frames_%04d.png) and encode them with the ffmpeg command"
                             : NULL);
}

static const char *const pf_x264_presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                              "medium",    "slow",      "slower",   "veryslow", "placebo"};

/* The format the options and path ask for, or an error naming the problem. */
static pf_status resolve_format(const char *path, const pf_video_opts *o, pf_video_format *f) {
    *f = o && o->format != PF_VIDEO_AUTO ? o->format : pf_video_format_from_path(path);
    if (o && ((int)o->format < (int)PF_VIDEO_AUTO || (int)o->format > (int)PF_VIDEO_PNG))
        return pf_error(PF_ERR_INVALID_ARG, "%s: invalid video format code %d", path, (int)o->format);
    if (*f != PF_VIDEO_AUTO) return PF_OK;
    const char *ext = pf_path_extension(path);
    if (!*ext)
        return pf_error(PF_ERR_INVALID_ARG,
                        "%s: no file extension to choose the video format from; name the output .mp4 (H.264), "
                        ".webm (VP9), .gif or a PNG frame pattern such as frames_%%04d.png",
                        path);
    return pf_error(PF_ERR_INVALID_ARG,
                    "%s: unknown video format '.%s'; name the output .mp4 (H.264), .webm (VP9), .gif or a PNG "
                    "frame pattern such as frames_%%04d.png",
                    path, ext);
}

pf_status pf_video_check_output(const char *path, const pf_video_opts *o, int width, int height) {
    if (!path || !*path) return pf_error(PF_ERR_INVALID_ARG, "no output path given");
    pf_video_format f;
    PF_TRY(resolve_format(path, o, &f));
    double fps = o && o->fps > 0 ? o->fps : PF_VIDEO_DEFAULT_FPS;
    if (o && (!isfinite(o->fps) || o->fps > PF_VIDEO_MAX_FPS))
        return pf_error(PF_ERR_INVALID_ARG, "%s: frame rate %g is not usable; give a value in (0, %g]", path, o->fps,
                        PF_VIDEO_MAX_FPS);
    if (width < 0 || height < 0 || width > PF_IMAGE_MAX_SIDE || height > PF_IMAGE_MAX_SIDE)
        return pf_error(PF_ERR_INVALID_ARG, "%s: invalid frame size %dx%d", path, width, height);
    if (o && o->crf != 0) {
        int hi = f == PF_VIDEO_MP4 ? 51 : 63;
        if ((f == PF_VIDEO_MP4 || f == PF_VIDEO_WEBM) && (o->crf < 1 || o->crf > hi))
            return pf_error(PF_ERR_INVALID_ARG, "%s: CRF %d is out of range for .%s; use 1..%d (lower is better)",
                            path, o->crf, pf_video_format_name(f), hi);
    }
    if (o && o->preset && f == PF_VIDEO_MP4) {
        bool known = false;
        for (size_t i = 0; i < PF_ARRAY_LEN(pf_x264_presets); i++) known |= !strcmp(o->preset, pf_x264_presets[i]);
        if (!known)
            return pf_error(PF_ERR_INVALID_ARG,
                            "%s: unknown x264 preset '%s'; use one of ultrafast, superfast, veryfast, faster, fast, "
                            "medium, slow, slower, veryslow",
                            path, o->preset);
    }
    if (o && o->png_start_number < 0)
        return pf_error(PF_ERR_INVALID_ARG, "%s: the first PNG frame number must be >= 0, not %d", path,
                        o->png_start_number);
    const pf_video_backend *be = backend_for(f);
    if (!be) return missing_backend(path, f);
    PF_TRY(be->check(f, path, width, height, fps));
    return pf_outfile_check_writable(path);
}

pf_status pf_video_open(pf_video_writer **out, const char *path, int width, int height, const pf_video_opts *o) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_video_open: NULL writer pointer");
    *out = NULL;
    if (width <= 0 || height <= 0)
        return pf_error(PF_ERR_INVALID_ARG, "%s: invalid frame size %dx%d", path ? path : "(null)", width, height);
    PF_TRY(pf_video_check_output(path, o, width, height));
    pf_video_writer *w = pf_calloc(1, sizeof *w, "video writer");
    if (!w) return PF_ERR_OOM;
    resolve_format(path, o, &w->format);
    w->be = backend_for(w->format);
    w->width = width;
    w->height = height;
    w->fps = o && o->fps > 0 ? o->fps : PF_VIDEO_DEFAULT_FPS;
    w->crf = o && o->crf > 0 ? o->crf : w->format == PF_VIDEO_WEBM ? 30 : 18;
    snprintf(w->preset, sizeof w->preset, "%s", o && o->preset ? o->preset : "medium");
    w->png_start = o ? o->png_start_number : 0;
    w->path = pf_strdup(path);
    if (!w->path) {
        free(w);
        return PF_ERR_OOM;
    }
    pf_status s = w->be->open(w);
    if (s != PF_OK) {
        w->be->discard(w);
        free(w->path);
        free(w);
        return s;
    }
    *out = w;
    return PF_OK;
}

pf_status pf_video_write_frame(pf_video_writer *w, const uint8_t *rgb) {
    if (!w) return pf_error(PF_ERR_INVALID_ARG, "pf_video_write_frame: NULL writer");
    if (w->failed) return pf_error(w->failed, "%s", w->failed_msg ? w->failed_msg : "an earlier frame failed");
    if (!rgb) return pf_error(PF_ERR_INVALID_ARG, "%s: NULL frame", w->path);
    pf_status s = w->be->write(w, rgb);
    if (s != PF_OK) {
        /* Keep the message: the caller may only look at pf_video_close's. */
        w->failed = s;
        w->failed_msg = pf_strdup(pf_last_error());
        return s;
    }
    w->frames++;
    return PF_OK;
}

pf_status pf_video_write_frames(pf_video_writer *w, const uint8_t *rgb, int count) {
    if (!w) return pf_error(PF_ERR_INVALID_ARG, "pf_video_write_frames: NULL writer");
    if (count < 0 || (count > 0 && !rgb)) return pf_error(PF_ERR_INVALID_ARG, "%s: bad frames argument", w->path);
    for (int i = 0; i < count; i++)
        PF_TRY(pf_video_write_frame(w, rgb + (size_t)i * (size_t)w->width * (size_t)w->height * 3));
    return PF_OK;
}

int pf_video_frame_count(const pf_video_writer *w) { return w ? w->frames : 0; }

static void writer_free(pf_video_writer *w) {
    free(w->failed_msg);
    free(w->path);
    free(w);
}

void pf_video_discard(pf_video_writer *w) {
    if (!w) return;
    w->be->discard(w);
    writer_free(w);
}

pf_status pf_video_close(pf_video_writer *w) {
    if (!w) return pf_error(PF_ERR_INVALID_ARG, "pf_video_close: NULL writer");
    pf_status s;
    if (w->failed) {
        w->be->discard(w);
        s = pf_error(w->failed, "%s", w->failed_msg ? w->failed_msg : "writing a frame failed");
    } else if (w->frames == 0) {
        w->be->discard(w);
        s = pf_error(PF_ERR_INVALID_ARG, "%s: no frames were written, so there is no video to save", w->path);
    } else {
        s = w->be->finish(w);
    }
    writer_free(w);
    return s;
}

pf_status pf_video_write(const char *path, const uint8_t *frames, int T, int H, int W, const pf_video_opts *o) {
    if (T <= 0) return pf_error(PF_ERR_INVALID_ARG, "%s: no frames to write (T = %d)", path ? path : "(null)", T);
    if (!frames) return pf_error(PF_ERR_INVALID_ARG, "%s: NULL frames", path ? path : "(null)");
    pf_video_writer *w = NULL;
    PF_TRY(pf_video_open(&w, path, W, H, o));
    pf_status s = pf_video_write_frames(w, frames, T);
    if (s != PF_OK) {
        pf_video_discard(w);
        return s;
    }
    return pf_video_close(w);
}
