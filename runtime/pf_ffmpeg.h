/* FFmpeg glue shared by image input, video output and video read-back.
 * Internal; the FFmpeg parts exist only when built with PF_HAVE_FFMPEG. */
#ifndef PF_FFMPEG_H
#define PF_FFMPEG_H

#include "pf_common.h"

/* The message for a build without FFmpeg: what is missing and what to do.
 * `what` says what needed it ("writing .mp4", "reading JPEG images"),
 * `instead` suggests a way around it (may be NULL). */
pf_status pf_ff_missing(const char *path, const char *what, const char *instead);

#ifdef PF_HAVE_FFMPEG
/* Routes FFmpeg's log into pf_log (debug level, so PF_LOG=debug shows it)
 * instead of stderr, and keeps each thread's last error line so that our
 * messages can quote it. Idempotent and thread-safe. */
void pf_ff_init(void);

/* FFmpeg error code as text, followed by what FFmpeg last logged as an error
 * on this thread since pf_ff_clear_log(), if anything: "Invalid data found
 * when processing input (libx264: ...)". Returns buf. */
const char *pf_ff_describe(int err, char *buf, size_t n);
void pf_ff_clear_log(void);

/* One decoded frame, converted to tightly packed RGB24 [h, w, 3]. Returning
 * an error stops decoding with that status. */
typedef pf_status (*pf_ff_frame_fn)(void *user, const uint8_t *rgb, int w, int h);

/*
 * Decodes the best video stream of a file (data == NULL: read `path`) or of
 * an in-memory file (data, len; `path` only names it in messages), calling fn
 * for up to max_frames frames (<= 0: all). The container is recognised from
 * the content alone, and the demuxer may not open other files (playlists),
 * so a crafted input cannot make it read elsewhere. strict: treat any
 * damage FFmpeg notices as an error (for still images; FFmpeg's default is
 * to conceal it). *decoded (may be NULL) receives the frame count; no frame
 * at all is a PF_ERR_FORMAT error.
 */
pf_status pf_ff_decode(const char *path, const uint8_t *data, size_t len, int max_frames, bool strict,
                       pf_ff_frame_fn fn, void *user, int *decoded);
#endif

#endif /* PF_FFMPEG_H */
