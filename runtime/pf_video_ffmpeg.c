/* The FFmpeg back end of pf_video: .mp4 (libx264), .webm (libvpx-vp9) and
 * .gif (palette from pf_palette, FFmpeg's GIF encoder and muxer). */
#include "pf_video_impl.h"

#ifdef PF_HAVE_FFMPEG
#include "pf_ffmpeg.h"
#include "pf_outfile.h"
#include "pf_palette.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

typedef struct {
    char *tmp; /* temporary output, renamed to the destination by finish */
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *st;
    struct SwsContext *sws;
    AVFrame *rgb;   /* the caller's frame, copied into aligned rows for swscale */
    AVFrame *frame; /* what the encoder gets: yuv420p or pal8 */
    AVPacket *pkt;
    int64_t next_pts;
    /* GIF: every frame is kept until finish, because the palette is chosen
     * from all of them (as palettegen does). */
    uint8_t *gif_rgb;
    size_t gif_frames, gif_cap;
    pf_palette_hist *hist;
} ff_out;

static const char *encoder_name(pf_video_format f) {
    return f == PF_VIDEO_MP4 ? "libx264" : f == PF_VIDEO_WEBM ? "libvpx-vp9" : "gif";
}

static const char *muxer_name(pf_video_format f) {
    return f == PF_VIDEO_MP4 ? "mp4" : f == PF_VIDEO_WEBM ? "webm" : "gif";
}

static pf_status ff_check(pf_video_format f, const char *path, int w, int h, double fps) {
    pf_ff_init();
    const char *enc = encoder_name(f), *mux = muxer_name(f);
    if (!avcodec_find_encoder_by_name(enc))
        return pf_error(PF_ERR_UNSUPPORTED,
                        "%s: the FFmpeg libraries pflow uses have no '%s' encoder, which .%s output needs; install "
                        "an FFmpeg built with it (Debian's libavcodec has it) or choose another format",
                        path, enc, mux);
    if (!av_guess_format(mux, NULL, NULL))
        return pf_error(PF_ERR_UNSUPPORTED, "%s: the FFmpeg libraries pflow uses cannot write .%s files", path, mux);
    if (f == PF_VIDEO_MP4 && w > 0 && h > 0 && (w % 2 || h % 2))
        return pf_error(PF_ERR_INVALID_ARG,
                        "%s: H.264 in yuv420p needs an even width and height, and the frames are %dx%d; use an "
                        "even size, or write .webm, .gif or PNG frames, which take odd sizes",
                        path, w, h);
    if (f == PF_VIDEO_GIF && fps > 50.0)
        return pf_error(PF_ERR_INVALID_ARG,
                        "%s: GIF frame delays are whole 1/100 s and players stretch delays under 2/100 s, so a GIF "
                        "cannot play at %g fps; use 50 fps or less, or write .mp4/.webm",
                        path, fps);
    return PF_OK;
}

static void ff_free(ff_out *o) {
    if (!o) return;
    sws_freeContext(o->sws);
    av_frame_free(&o->rgb);
    av_frame_free(&o->frame);
    av_packet_free(&o->pkt);
    avcodec_free_context(&o->enc);
    if (o->oc) {
        if (o->oc->pb) avio_closep(&o->oc->pb);
        avformat_free_context(o->oc);
    }
    free(o->gif_rgb);
    pf_palette_hist_free(o->hist);
    free(o->tmp);
    free(o);
}

static void ff_discard(pf_video_writer *w) {
    ff_out *o = w->impl;
    w->impl = NULL;
    if (!o) return;
    /* Close before unlinking so FFmpeg does not write into a removed file. */
    if (o->oc && o->oc->pb) avio_closep(&o->oc->pb);
    pf_outfile_discard(o->tmp);
    ff_free(o);
}

static AVFrame *new_frame(enum AVPixelFormat fmt, int w, int h) {
    AVFrame *f = av_frame_alloc();
    if (!f) return NULL;
    f->format = fmt;
    f->width = w;
    f->height = h;
    if (av_frame_get_buffer(f, 64) < 0) av_frame_free(&f);
    return f;
}

static pf_status ff_open(pf_video_writer *w) {
    char eb[768];
    int r;
    pf_ff_init();
    pf_ff_clear_log();
    ff_out *o = pf_calloc(1, sizeof *o, "video encoder");
    if (!o) return PF_ERR_OOM;
    w->impl = o;
    const bool gif = w->format == PF_VIDEO_GIF;
    PF_TRY(pf_outfile_create_tmp(w->path, &o->tmp));

    r = avformat_alloc_output_context2(&o->oc, NULL, muxer_name(w->format), o->tmp);
    if (r < 0 || !o->oc)
        return pf_error(PF_ERR_UNSUPPORTED, "%s: cannot set up the %s muxer: %s", w->path, muxer_name(w->format),
                        pf_ff_describe(r, eb, sizeof eb));
    const AVCodec *codec = avcodec_find_encoder_by_name(encoder_name(w->format));
    o->st = avformat_new_stream(o->oc, NULL);
    o->enc = codec ? avcodec_alloc_context3(codec) : NULL;
    if (!codec || !o->st || !o->enc) return pf_error(PF_ERR_OOM, "%s: cannot set up the encoder", w->path);

    AVRational rate = av_d2q(w->fps, 1000000); /* 24 -> 24/1, 23.976 -> 2997/125 */
    AVCodecContext *e = o->enc;
    e->width = w->width;
    e->height = w->height;
    e->time_base = av_inv_q(rate); /* one tick per frame */
    e->framerate = rate;
    e->sample_aspect_ratio = (AVRational){1, 1};
    e->pix_fmt = gif ? AV_PIX_FMT_PAL8 : AV_PIX_FMT_YUV420P;
    e->thread_count = 0; /* let the encoder pick */
    if (!gif) {
        /* Convert with BT.709 and say so: untagged files make players guess
         * (BT.601 for small frames, BT.709 for HD), shifting the colours. */
        e->color_range = AVCOL_RANGE_MPEG;
        e->colorspace = AVCOL_SPC_BT709;
        e->color_primaries = AVCOL_PRI_BT709;
        e->color_trc = AVCOL_TRC_BT709;
    }
    if (o->oc->oformat->flags & AVFMT_GLOBALHEADER) e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *copt = NULL;
    if (w->format == PF_VIDEO_MP4) {
        av_dict_set(&copt, "preset", w->preset, 0);
        av_dict_set_int(&copt, "crf", w->crf, 0);
    } else if (w->format == PF_VIDEO_WEBM) {
        /* Constant quality (bit_rate 0 + crf). cpu-used 4 is several times
         * faster than the default 1 for a small loss; row-mt spreads one
         * frame over the cores. */
        e->bit_rate = 0;
        av_dict_set_int(&copt, "crf", w->crf, 0);
        av_dict_set(&copt, "deadline", "good", 0);
        av_dict_set_int(&copt, "cpu-used", 4, 0);
        av_dict_set_int(&copt, "row-mt", 1, 0);
    }
    r = avcodec_open2(e, codec, &copt);
    av_dict_free(&copt);
    if (r < 0)
        return pf_error(PF_ERR_UNSUPPORTED, "%s: cannot start the %s encoder for %dx%d: %s", w->path, codec->name,
                        w->width, w->height, pf_ff_describe(r, eb, sizeof eb));
    r = avcodec_parameters_from_context(o->st->codecpar, e);
    if (r < 0) return pf_error(PF_ERR_INTERNAL, "%s: cannot copy the encoder parameters", w->path);
    o->st->time_base = e->time_base;
    o->st->avg_frame_rate = rate;

    r = avio_open(&o->oc->pb, o->tmp, AVIO_FLAG_WRITE);
    if (r < 0)
        return pf_error(PF_ERR_IO, "%s: cannot open the temporary file %s: %s", w->path, o->tmp,
                        pf_ff_describe(r, eb, sizeof eb));
    AVDictionary *mopt = NULL;
    /* Move the index (moov) to the front once the file is complete, so the
     * video starts playing before it has fully downloaded. */
    if (w->format == PF_VIDEO_MP4) av_dict_set(&mopt, "movflags", "+faststart", 0);
    r = avformat_write_header(o->oc, &mopt);
    av_dict_free(&mopt);
    if (r < 0)
        return pf_error(PF_ERR_IO, "%s: cannot write the %s header: %s", w->path, muxer_name(w->format),
                        pf_ff_describe(r, eb, sizeof eb));

    o->pkt = av_packet_alloc();
    o->frame = new_frame(e->pix_fmt, w->width, w->height);
    if (!o->pkt || !o->frame) return pf_error(PF_ERR_OOM, "%s: out of memory for encoder frames", w->path);
    if (gif) return pf_palette_hist_new(&o->hist);

    o->rgb = new_frame(AV_PIX_FMT_RGB24, w->width, w->height);
    o->sws = sws_getContext(w->width, w->height, AV_PIX_FMT_RGB24, w->width, w->height, AV_PIX_FMT_YUV420P,
                            SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!o->rgb || !o->sws) return pf_error(PF_ERR_OOM, "%s: cannot set up the RGB to YUV conversion", w->path);
    const int *bt709 = sws_getCoefficients(SWS_CS_ITU709);
    /* full-range RGB in, BT.709 limited-range YUV out */
    sws_setColorspaceDetails(o->sws, bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16);
    return PF_OK;
}

/* Sends one frame (NULL: flush) and writes every packet that comes out. */
static pf_status encode(pf_video_writer *w, ff_out *o, AVFrame *f) {
    char eb[768];
    int r = avcodec_send_frame(o->enc, f);
    if (r < 0) return pf_error(PF_ERR_INTERNAL, "%s: encoding failed: %s", w->path, pf_ff_describe(r, eb, sizeof eb));
    for (;;) {
        r = avcodec_receive_packet(o->enc, o->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return PF_OK;
        if (r < 0)
            return pf_error(PF_ERR_INTERNAL, "%s: encoding failed: %s", w->path, pf_ff_describe(r, eb, sizeof eb));
        /* A frame lasts until the next one's time, rounded in the stream's
         * time base: for GIF (1/100 s) at 24 fps the delays come out
         * 4, 4, 5, 4, ... cs and the clip keeps its length. */
        int64_t p = o->pkt->pts;
        av_packet_rescale_ts(o->pkt, o->enc->time_base, o->st->time_base);
        if (p != AV_NOPTS_VALUE)
            o->pkt->duration = av_rescale_q(p + 1, o->enc->time_base, o->st->time_base) -
                               av_rescale_q(p, o->enc->time_base, o->st->time_base);
        o->pkt->stream_index = o->st->index;
        r = av_interleaved_write_frame(o->oc, o->pkt);
        if (r < 0)
            return pf_error(PF_ERR_IO, "%s: writing the video failed: %s", w->path, pf_ff_describe(r, eb, sizeof eb));
    }
}

static pf_status ff_write(pf_video_writer *w, const uint8_t *rgb) {
    ff_out *o = w->impl;
    size_t fbytes = (size_t)w->width * (size_t)w->height * 3;
    pf_ff_clear_log();
    if (o->hist) {
        if (o->gif_frames == o->gif_cap) {
            size_t cap = o->gif_cap ? o->gif_cap * 2 : 16;
            uint8_t *p = pf_realloc(o->gif_rgb, cap * fbytes, "GIF frames");
            if (!p) return PF_ERR_OOM;
            o->gif_rgb = p;
            o->gif_cap = cap;
        }
        memcpy(o->gif_rgb + o->gif_frames * fbytes, rgb, fbytes);
        o->gif_frames++;
        pf_palette_hist_add(o->hist, rgb, fbytes / 3);
        return PF_OK;
    }
    if (av_frame_make_writable(o->frame) < 0) return pf_error(PF_ERR_OOM, "%s: out of memory", w->path);
    for (int y = 0; y < w->height; y++)
        memcpy(o->rgb->data[0] + (size_t)y * (size_t)o->rgb->linesize[0], rgb + (size_t)y * (size_t)w->width * 3,
               (size_t)w->width * 3);
    sws_scale(o->sws, (const uint8_t *const *)o->rgb->data, o->rgb->linesize, 0, w->height, o->frame->data,
              o->frame->linesize);
    o->frame->pts = o->next_pts++;
    return encode(w, o, o->frame);
}

/* Quantises the kept frames to one palette and encodes them. */
static pf_status gif_encode_all(pf_video_writer *w, ff_out *o) {
    uint8_t pal[PF_PALETTE_MAX][3];
    int n = 0;
    PF_TRY(pf_palette_build(o->hist, PF_PALETTE_MAX, pal, &n));
    pf_palette_map *map = NULL;
    PF_TRY(pf_palette_map_new((const uint8_t(*)[3])pal, n, &map));
    size_t fbytes = (size_t)w->width * (size_t)w->height * 3;
    pf_status s = PF_OK;
    for (size_t i = 0; i < o->gif_frames && s == PF_OK; i++) {
        if (av_frame_make_writable(o->frame) < 0) {
            s = pf_error(PF_ERR_OOM, "%s: out of memory", w->path);
            break;
        }
        uint32_t *argb = (uint32_t *)o->frame->data[1]; /* PAL8: 256 native-endian 0xAARRGGBB */
        for (int k = 0; k < 256; k++)
            argb[k] = k < n ? 0xFF000000u | ((uint32_t)pal[k][0] << 16) | ((uint32_t)pal[k][1] << 8) | pal[k][2]
                            : 0xFF000000u;
        s = pf_palette_dither(map, o->gif_rgb + i * fbytes, w->width, w->height, o->frame->data[0],
                              o->frame->linesize[0]);
        if (s != PF_OK) break;
        o->frame->pts = o->next_pts++;
        s = encode(w, o, o->frame);
    }
    pf_palette_map_free(map);
    return s;
}

static pf_status ff_finish(pf_video_writer *w) {
    ff_out *o = w->impl;
    char eb[768];
    pf_ff_clear_log();
    pf_status s = PF_OK;
    if (o->hist) s = gif_encode_all(w, o);
    if (s == PF_OK) s = encode(w, o, NULL);
    if (s == PF_OK) {
        int r = av_write_trailer(o->oc);
        if (r < 0)
            s = pf_error(PF_ERR_IO, "%s: finishing the %s file failed: %s", w->path, muxer_name(w->format),
                         pf_ff_describe(r, eb, sizeof eb));
    }
    if (s == PF_OK) {
        /* Closing flushes the last buffered bytes: a full disk shows here. */
        int r = avio_closep(&o->oc->pb);
        if (r < 0)
            s = pf_error(PF_ERR_IO, "%s: writing the video failed: %s", w->path, pf_ff_describe(r, eb, sizeof eb));
    }
    if (s == PF_OK) {
        s = pf_outfile_commit(o->tmp, w->path);
        w->impl = NULL;
        ff_free(o);
        return s;
    }
    ff_discard(w);
    return s;
}

const pf_video_backend pf_video_backend_ffmpeg = {
    .check = ff_check,
    .open = ff_open,
    .write = ff_write,
    .finish = ff_finish,
    .discard = ff_discard,
};
#endif /* PF_HAVE_FFMPEG */
