/* Decoding any FFmpeg-readable picture or video to RGB24 frames. */
#include "pf_ffmpeg.h"

#ifdef PF_HAVE_FFMPEG
#include "pf_image.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

/* The bytes come from memory or from a FILE*, through our own AVIOContext:
 * FFmpeg then never sees a file name (see pf_ff_decode). */
typedef struct {
    const uint8_t *data;
    size_t len, pos;
    FILE *f;
    int64_t fsize;
} ff_src;

static int src_read(void *opaque, uint8_t *buf, int n) {
    ff_src *s = opaque;
    if (n <= 0) return 0;
    if (s->f) {
        size_t r = fread(buf, 1, (size_t)n, s->f);
        if (r == 0) return ferror(s->f) ? AVERROR(EIO) : AVERROR_EOF;
        return (int)r;
    }
    size_t left = s->len - s->pos;
    if (left == 0) return AVERROR_EOF;
    size_t r = PF_MIN(left, (size_t)n);
    memcpy(buf, s->data + s->pos, r);
    s->pos += r;
    return (int)r;
}

static int64_t src_seek(void *opaque, int64_t off, int whence) {
    ff_src *s = opaque;
    int64_t size = s->f ? s->fsize : (int64_t)s->len;
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) return size;
    int64_t cur = s->f ? (int64_t)ftello(s->f) : (int64_t)s->pos;
    int64_t pos = whence == SEEK_SET ? off : whence == SEEK_CUR ? cur + off : whence == SEEK_END ? size + off : -1;
    if (pos < 0 || pos > size) return AVERROR(EINVAL);
    if (s->f) {
        if (fseeko(s->f, (off_t)pos, SEEK_SET) != 0) return AVERROR(errno);
    } else {
        s->pos = (size_t)pos;
    }
    return pos;
}

/* Playlist-style demuxers (hls, concat, ...) open further files through
 * this hook; a picture has no business doing that, and refusing keeps a
 * crafted input from reading arbitrary local files or URLs. */
static int refuse_nested_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags, AVDictionary **o) {
    (void)s, (void)pb, (void)flags, (void)o;
    PF_DEBUG("refused to let a demuxer open '%s'", url ? url : "");
    return AVERROR(EPERM);
}

typedef struct {
    const char *path;
    ff_src src;
    AVIOContext *avio;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frm, *rgbf;
    struct SwsContext *sws;
    int sws_w, sws_h, sws_fmt, sws_cs, sws_full;
    uint8_t *tight;
    pf_ff_frame_fn fn;
    void *user;
    bool strict;
    int frames, max_frames;
} ff_dec;

/* The JPEG-range ("yuvj") formats are deprecated aliases: swscale wants the
 * plain format plus an explicit full range. */
static enum AVPixelFormat unalias(enum AVPixelFormat f, int *full) {
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

static pf_status emit_frame(ff_dec *d, const AVFrame *f) {
    int w = f->width, h = f->height;
    if (w <= 0 || h <= 0 || w > PF_IMAGE_MAX_SIDE || h > PF_IMAGE_MAX_SIDE ||
        (long long)w * h > PF_IMAGE_MAX_PIXELS)
        return pf_error(PF_ERR_FORMAT, "%s: a %dx%d picture is outside what pflow accepts", d->path, w, h);
    if (d->strict && (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT)))
        return pf_error(PF_ERR_FORMAT, "%s: the picture is damaged (the decoder had to conceal errors)", d->path);
    int full = f->color_range == AVCOL_RANGE_JPEG;
    enum AVPixelFormat fmt = unalias((enum AVPixelFormat)f->format, &full);
    /* Untagged YUV is BT.601, as every decoder of JPEG/WebP and most players assume. */
    int cs = f->colorspace;
    if (cs == AVCOL_SPC_UNSPECIFIED || cs == AVCOL_SPC_RGB || cs == AVCOL_SPC_RESERVED || cs > AVCOL_SPC_BT2020_CL)
        cs = SWS_CS_DEFAULT;
    if (!d->sws || d->sws_w != w || d->sws_h != h || d->sws_fmt != (int)fmt || d->sws_cs != cs ||
        d->sws_full != full) {
        sws_freeContext(d->sws);
        d->sws = sws_getContext(w, h, fmt, w, h, AV_PIX_FMT_RGB24,
                                SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
        if (!d->sws)
            return pf_error(PF_ERR_UNSUPPORTED, "%s: cannot convert %s pictures to RGB", d->path,
                            av_get_pix_fmt_name(fmt) ? av_get_pix_fmt_name(fmt) : "these");
        /* For RGB sources swscale ignores this (and says so by failing). */
        (void)sws_setColorspaceDetails(d->sws, sws_getCoefficients(cs), full, sws_getCoefficients(SWS_CS_DEFAULT), 1,
                                       0, 1 << 16, 1 << 16);
        av_frame_free(&d->rgbf);
        free(d->tight);
        d->tight = NULL;
        d->rgbf = av_frame_alloc();
        if (!d->rgbf) return pf_error(PF_ERR_OOM, "%s: out of memory", d->path);
        d->rgbf->format = AV_PIX_FMT_RGB24;
        d->rgbf->width = w;
        d->rgbf->height = h;
        /* swscale's SIMD paths may write past the row end: give it padded,
         * aligned rows and copy out the tight image afterwards. */
        if (av_frame_get_buffer(d->rgbf, 64) < 0) return pf_error(PF_ERR_OOM, "%s: out of memory", d->path);
        d->tight = pf_malloc((size_t)w * (size_t)h * 3, "decoded picture");
        if (!d->tight) return PF_ERR_OOM;
        d->sws_w = w, d->sws_h = h, d->sws_fmt = (int)fmt, d->sws_cs = cs, d->sws_full = full;
    }
    if (sws_scale(d->sws, (const uint8_t *const *)f->data, f->linesize, 0, h, d->rgbf->data, d->rgbf->linesize) != h)
        return pf_error(PF_ERR_INTERNAL, "%s: converting the picture to RGB failed", d->path);
    for (int y = 0; y < h; y++)
        memcpy(d->tight + (size_t)y * (size_t)w * 3, d->rgbf->data[0] + (size_t)y * (size_t)d->rgbf->linesize[0],
               (size_t)w * 3);
    d->frames++;
    return d->fn(d->user, d->tight, w, h);
}

/* Takes every frame the decoder has ready. */
static pf_status drain(ff_dec *d) {
    char eb[768];
    for (;;) {
        if (d->frames >= d->max_frames) return PF_OK;
        int r = avcodec_receive_frame(d->dec, d->frm);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return PF_OK;
        if (r < 0)
            return pf_error(PF_ERR_FORMAT, "%s: corrupt data: %s", d->path, pf_ff_describe(r, eb, sizeof eb));
        pf_status s = emit_frame(d, d->frm);
        av_frame_unref(d->frm);
        if (s != PF_OK) return s;
    }
}

static pf_status decode_all(ff_dec *d) {
    char eb[768];
    int r;
    d->fmt = avformat_alloc_context();
    uint8_t *iobuf = av_malloc(1 << 16);
    if (!d->fmt || !iobuf) {
        av_free(iobuf);
        return pf_error(PF_ERR_OOM, "%s: out of memory", d->path);
    }
    d->avio = avio_alloc_context(iobuf, 1 << 16, 0, &d->src, src_read, NULL, src_seek);
    if (!d->avio) {
        av_free(iobuf);
        return pf_error(PF_ERR_OOM, "%s: out of memory", d->path);
    }
    d->fmt->pb = d->avio;
    d->fmt->io_open = refuse_nested_open;
    /* No file name: the format is recognised from the bytes alone. With a
     * name, FFmpeg would weigh the extension and could pick the image2
     * demuxer, which reads the name as a %d pattern and reopens it. */
    r = avformat_open_input(&d->fmt, "", NULL, NULL);
    if (r < 0) {
        /* avformat_open_input frees the context on failure */
        return pf_error(PF_ERR_FORMAT, "%s: not a picture or video FFmpeg recognises: %s", d->path,
                        pf_ff_describe(r, eb, sizeof eb));
    }
    r = avformat_find_stream_info(d->fmt, NULL);
    if (r < 0)
        return pf_error(PF_ERR_FORMAT, "%s: cannot read the stream layout: %s", d->path,
                        pf_ff_describe(r, eb, sizeof eb));
    const AVCodec *codec = NULL;
    int idx = av_find_best_stream(d->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (idx < 0 || !codec)
        return pf_error(PF_ERR_FORMAT, "%s: holds no picture FFmpeg can decode (format '%s')", d->path,
                        d->fmt->iformat && d->fmt->iformat->name ? d->fmt->iformat->name : "?");
    d->dec = avcodec_alloc_context3(codec);
    if (!d->dec) return pf_error(PF_ERR_OOM, "%s: out of memory", d->path);
    r = avcodec_parameters_to_context(d->dec, d->fmt->streams[idx]->codecpar);
    if (r < 0) return pf_error(PF_ERR_FORMAT, "%s: bad codec parameters", d->path);
    d->dec->thread_count = 1;
    /* AV_EF_EXPLODE: stop at the first damage instead of concealing it, so a
     * corrupt input image is an error rather than a grey smear. */
    if (d->strict) d->dec->err_recognition |= AV_EF_EXPLODE | AV_EF_CRCCHECK | AV_EF_BITSTREAM;
    r = avcodec_open2(d->dec, codec, NULL);
    if (r < 0)
        return pf_error(PF_ERR_FORMAT, "%s: cannot open the %s decoder: %s", d->path, codec->name,
                        pf_ff_describe(r, eb, sizeof eb));
    d->pkt = av_packet_alloc();
    d->frm = av_frame_alloc();
    if (!d->pkt || !d->frm) return pf_error(PF_ERR_OOM, "%s: out of memory", d->path);

    bool eof = false;
    while (d->frames < d->max_frames && !eof) {
        r = av_read_frame(d->fmt, d->pkt);
        if (r == AVERROR_EOF) {
            eof = true;
            break;
        }
        if (r < 0) {
            if (d->strict || d->frames == 0)
                return pf_error(PF_ERR_FORMAT, "%s: reading failed: %s", d->path, pf_ff_describe(r, eb, sizeof eb));
            eof = true; /* a damaged tail of a video: keep what decoded */
            break;
        }
        if (d->pkt->stream_index != idx) {
            av_packet_unref(d->pkt);
            continue;
        }
        r = avcodec_send_packet(d->dec, d->pkt);
        av_packet_unref(d->pkt);
        if (r < 0 && r != AVERROR(EAGAIN))
            return pf_error(PF_ERR_FORMAT, "%s: corrupt data: %s", d->path, pf_ff_describe(r, eb, sizeof eb));
        PF_TRY(drain(d));
    }
    if (d->frames < d->max_frames) {
        r = avcodec_send_packet(d->dec, NULL); /* flush the frames the decoder holds back */
        if (r < 0 && r != AVERROR_EOF)
            return pf_error(PF_ERR_FORMAT, "%s: corrupt data: %s", d->path, pf_ff_describe(r, eb, sizeof eb));
        PF_TRY(drain(d));
    }
    if (d->frames == 0) return pf_error(PF_ERR_FORMAT, "%s: no picture could be decoded", d->path);
    return PF_OK;
}

pf_status pf_ff_decode(const char *path, const uint8_t *data, size_t len, int max_frames, bool strict,
                       pf_ff_frame_fn fn, void *user, int *decoded) {
    if (decoded) *decoded = 0;
    pf_ff_init();
    pf_ff_clear_log();
    ff_dec d = {.path = path, .fn = fn, .user = user, .strict = strict};
    d.max_frames = max_frames > 0 ? max_frames : INT_MAX;
    if (data) {
        d.src.data = data;
        d.src.len = len;
    } else {
        d.src.f = fopen(path, "rb");
        if (!d.src.f) return pf_error(PF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        struct stat st;
        if (fstat(fileno(d.src.f), &st) != 0 || !S_ISREG(st.st_mode)) {
            fclose(d.src.f);
            return pf_error(PF_ERR_IO, "%s: not a regular file", path);
        }
        d.src.fsize = (int64_t)st.st_size;
    }
    pf_status s = decode_all(&d);
    if (decoded) *decoded = d.frames;
    sws_freeContext(d.sws);
    av_frame_free(&d.rgbf);
    av_frame_free(&d.frm);
    av_packet_free(&d.pkt);
    avcodec_free_context(&d.dec);
    avformat_close_input(&d.fmt); /* NULL-safe; leaves our custom pb alone */
    if (d.avio) {
        av_freep(&d.avio->buffer); /* FFmpeg may have swapped the buffer: free the current one */
        avio_context_free(&d.avio);
    }
    free(d.tight);
    if (d.src.f) fclose(d.src.f);
    return s;
}
#endif /* PF_HAVE_FFMPEG */
