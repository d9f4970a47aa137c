/*
 * Helpers for the image/video I/O tests: scratch directories, directory
 * listings, ffprobe queries. Header-only (static), like pf_test.h.
 */
#ifndef PF_TEST_MEDIA_H
#define PF_TEST_MEDIA_H

#include "pf_test.h"

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh empty directory under the build tree (or /tmp); the caller frees
 * the name and removes the tree with pf_tm_rmtree. */
static inline char *pf_tm_mkdtemp(const char *tag) {
#ifdef PF_TEST_BINARY_DIR
    const char *base = PF_TEST_BINARY_DIR;
#else
    const char *base = "/tmp";
#endif
    size_t n = strlen(base) + strlen(tag) + 32;
    char *d = malloc(n);
    if (!d) return NULL;
    snprintf(d, n, "%s/%s.XXXXXX", base, tag);
    if (!mkdtemp(d)) {
        free(d);
        return NULL;
    }
    return d;
}

static inline int pf_tm_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)flag, (void)f;
    remove(p);
    return 0;
}

static inline void pf_tm_rmtree(char *dir) {
    if (!dir) return;
    nftw(dir, pf_tm_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Number of entries in dir (hidden ones included, "." and ".." not). */
static inline int pf_tm_count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static inline char *pf_tm_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static inline bool pf_tm_have_ffprobe(void) { return system("command -v ffprobe >/dev/null 2>&1") == 0; }

/* Runs ffprobe with `args` (a -show_entries selection) on path, in
 * "key=value" lines, into out (NUL-terminated). */
static inline bool pf_tm_ffprobe(const char *path, const char *args, char *out, size_t n) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ffprobe -v error %s -of default=noprint_wrappers=1 '%s' 2>&1", args, path);
    FILE *p = popen(cmd, "r");
    if (!p) return false;
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    return pclose(p) == 0;
}

/* Value of "key=" in ffprobe output (first occurrence) copied into v. */
static inline const char *pf_tm_field(const char *probe, const char *key, char *v, size_t n) {
    size_t kl = strlen(key);
    for (const char *l = probe; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, key, kl) && l[kl] == '=') {
            const char *s = l + kl + 1;
            size_t m = strcspn(s, "\r\n");
            if (m >= n) m = n - 1;
            memcpy(v, s, m);
            v[m] = '\0';
            return v;
        }
    }
    v[0] = '\0';
    return v;
}

#ifdef PF_HAVE_FFMPEG
#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

/* Encodes one RGB24 picture with an FFmpeg encoder ("mjpeg" with a yuvj
 * format, "libwebp" with yuv420p) into a standalone file image in *out
 * (malloc'd). False when the encoder is missing or fails. */
static inline bool pf_tm_encode_still(const char *enc_name, enum AVPixelFormat fmt, const uint8_t *rgb, int w, int h,
                                      uint8_t **out, size_t *n) {
    *out = NULL;
    *n = 0;
    av_log_set_level(AV_LOG_ERROR); /* swscale warns about the yuvj formats */
    const AVCodec *codec = avcodec_find_encoder_by_name(enc_name);
    if (!codec) return false;
    AVCodecContext *e = avcodec_alloc_context3(codec);
    AVFrame *f = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    struct SwsContext *s = NULL;
    bool ok = false;
    if (!e || !f || !pkt) goto done;
    e->width = w;
    e->height = h;
    e->pix_fmt = fmt;
    e->time_base = (AVRational){1, 25};
    if (codec->id == AV_CODEC_ID_MJPEG) {
        e->flags |= AV_CODEC_FLAG_QSCALE;
        e->global_quality = FF_QP2LAMBDA * 2; /* near-best quality */
    } else {
        av_opt_set_double(e->priv_data, "quality", 95, 0);
    }
    if (avcodec_open2(e, codec, NULL) < 0) goto done;
    f->format = fmt;
    f->width = w;
    f->height = h;
    if (av_frame_get_buffer(f, 32) < 0) goto done;
    s = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, fmt, SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!s) goto done;
    const uint8_t *src[1] = {rgb};
    int stride[1] = {w * 3};
    sws_scale(s, src, stride, 0, h, f->data, f->linesize);
    if (avcodec_send_frame(e, f) < 0 || avcodec_send_frame(e, NULL) < 0) goto done;
    while (avcodec_receive_packet(e, pkt) == 0) {
        uint8_t *p = realloc(*out, *n + (size_t)pkt->size);
        if (!p) break;
        memcpy(p + *n, pkt->data, (size_t)pkt->size);
        *out = p;
        *n += (size_t)pkt->size;
        ok = true;
        av_packet_unref(pkt);
    }
done:
    sws_freeContext(s);
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&e);
    return ok;
}
#endif

#endif /* PF_TEST_MEDIA_H */
