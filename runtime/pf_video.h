/*
 * Video output: uint8 RGB frames -> .mp4 (H.264), .webm (VP9), .gif or a
 * numbered PNG sequence (frames_%04d.png).
 *
 * Frames are tightly packed RGB24, [H, W, 3] per frame ([T, H, W, 3] for a
 * whole clip), row 0 at the top. The writer streams: open, write frames as
 * they are produced, close. Nothing appears at the output path until close
 * succeeds: frames go to a hidden temporary file in the output's directory
 * (".NAME.pflow-PID-N.tmp") that close renames over the destination, and any
 * failure (or pf_video_discard) deletes it. A crash can leave such a hidden
 * file behind, never a truncated video under the requested name.
 *
 * Formats and encoder settings:
 *   .mp4   H.264 (libx264), yuv420p, BT.709 limited range (tagged), CRF 18,
 *          preset "medium", moov atom up front (+faststart) so the file
 *          plays while it downloads.
 *   .webm  VP9 (libvpx-vp9), yuv420p, BT.709 limited range, constant quality
 *          CRF 30, "good" deadline at cpu-used 4, row multithreading.
 *   .gif   one global 256-colour palette chosen by median cut over every
 *          frame, Sierra-2-4A error diffusion (what FFmpeg's palettegen +
 *          paletteuse do by default), FFmpeg's GIF encoder and muxer,
 *          looping forever. GIF delays are whole centiseconds: frame k is
 *          shown at round(100 k / fps) cs, so 24 fps alternates 4 and 5 cs
 *          delays and keeps the right average speed; fps above 50 is refused.
 *          The frames are kept in memory until close (the palette needs them
 *          all), T*H*W*3 bytes.
 *   .png   a printf-style frame number pattern (frames_%04d.png; %d, %Nd,
 *          %0Nd; %% for a literal %) in the file name, first number
 *          opts->png_start_number, written with libpng (8-bit RGB).
 *
 * Odd sizes: yuv420p stores chroma at half resolution and libx264 refuses
 * odd widths and heights, so .mp4 refuses them (pf_video_check_output says
 * so up front). Padding would silently change the frame size and cropping
 * would drop a line of content; the caller picks the format instead. VP9
 * codes odd sizes exactly (chroma planes are rounded up), GIF and PNG have
 * no constraint, so those accept any size.
 *
 * Build configuration: .mp4/.webm/.gif need FFmpeg (PF_HAVE_FFMPEG), PNG
 * sequences need libpng (PF_HAVE_PNG). A build without them returns
 * PF_ERR_UNSUPPORTED with a message that names the missing library.
 */
#ifndef PF_VIDEO_H
#define PF_VIDEO_H

#include "pf_common.h"

#define PF_VIDEO_DEFAULT_FPS 24.0

typedef enum pf_video_format {
    PF_VIDEO_AUTO = 0, /* from the path's extension (case-insensitive) */
    PF_VIDEO_MP4,
    PF_VIDEO_WEBM,
    PF_VIDEO_GIF,
    PF_VIDEO_PNG, /* numbered PNG sequence */
} pf_video_format;

/* Zero-initialised options mean the defaults. */
typedef struct pf_video_opts {
    pf_video_format format; /* PF_VIDEO_AUTO: from the extension */
    double fps;             /* <= 0: PF_VIDEO_DEFAULT_FPS (24) */
    int crf;                /* mp4/webm constant-quality factor; 0: 18 (mp4), 30 (webm) */
    const char *preset;     /* libx264 preset (ultrafast ... veryslow); NULL: "medium" */
    int png_start_number;   /* number of the first PNG frame (default 0) */
} pf_video_opts;

typedef struct pf_video_writer pf_video_writer;

/* Format implied by the path's extension (.mp4, .webm, .gif, .png), or
 * PF_VIDEO_AUTO when the extension is none of these. */
pf_video_format pf_video_format_from_path(const char *path);

/* "mp4", "webm", "gif", "png", "auto". */
const char *pf_video_format_name(pf_video_format f);

/* Whether this build can write the format (FFmpeg for mp4/webm/gif, libpng
 * for png). */
bool pf_video_format_available(pf_video_format f);

/*
 * Cheap checks before any heavy work (model loading, sampling), so that
 * `pflow generate -o out.avi` fails in a second, not after an hour:
 * the extension names a known format, this build (and its FFmpeg) has the
 * encoder, a PNG path holds a valid frame number pattern, the directory
 * exists and a file can be created in it (a probe file is created and
 * removed), the path is not a directory, fps is valid, and, when width and
 * height are known (> 0), the size suits the format (even for .mp4).
 * Pass width = height = 0 when the size is not known yet. Messages say what
 * to do ("create it first", "use .webm or an even size", ...).
 */
pf_status pf_video_check_output(const char *path, const pf_video_opts *opts, int width, int height);

/* Starts writing a width x height video to `path` (see the file comment for
 * formats). opts may be NULL. Runs pf_video_check_output first. */
pf_status pf_video_open(pf_video_writer **out, const char *path, int width, int height, const pf_video_opts *opts);

/* Appends one frame, rgb = [H, W, 3] uint8. After a failure the writer
 * refuses further frames and pf_video_close reports the failure. */
pf_status pf_video_write_frame(pf_video_writer *w, const uint8_t *rgb);

/* Appends `count` consecutive frames, rgb = [count, H, W, 3]. */
pf_status pf_video_write_frames(pf_video_writer *w, const uint8_t *rgb, int count);

/* Number of frames written so far. */
int pf_video_frame_count(const pf_video_writer *w);

/* Finishes the file (flushes the encoder, writes the trailer) and renames it
 * to the output path. Frees w whatever happens; on failure no output file is
 * left. A writer that received no frames fails with PF_ERR_INVALID_ARG. */
pf_status pf_video_close(pf_video_writer *w);

/* Drops the output (removes the temporary file) and frees w. NULL is fine. */
void pf_video_discard(pf_video_writer *w);

/* One call: frames = [T, H, W, 3] uint8, T >= 1. */
pf_status pf_video_write(const char *path, const uint8_t *frames, int T, int H, int W, const pf_video_opts *opts);

/*
 * Decodes up to max_frames (<= 0: all) frames of any video FFmpeg can read
 * into *frames = [T, H, W, 3] uint8 (free() it), for checks and tests.
 * Colours are converted with the matrix and range the file is tagged with
 * (BT.601 when untagged). Needs FFmpeg.
 */
pf_status pf_video_read(const char *path, int max_frames, uint8_t **frames, int *T, int *H, int *W);

#endif /* PF_VIDEO_H */
