/* FFmpeg logging glue and the "this build has no FFmpeg" message. */
#include "pf_ffmpeg.h"

pf_status pf_ff_missing(const char *path, const char *what, const char *instead) {
    return pf_error(PF_ERR_UNSUPPORTED,
                    "%s: %s needs FFmpeg, and this pflow build has none (configured with PF_FFMPEG=OFF or without the "
                    "FFmpeg development packages); %s%srebuild pflow with it (apt-get install libavcodec-dev "
                    "libavformat-dev libavutil-dev libswscale-dev; cmake -DPF_FFMPEG=ON)",
                    path, what, instead ? instead : "", instead ? ", or " : "");
}

#ifdef PF_HAVE_FFMPEG
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <pthread.h>

/* FFmpeg logs from whichever thread runs the codec; a decoder error is
 * logged on the calling thread, which is the one that wants to quote it. */
static _Thread_local char pf_ff_last[1024]; /* as large as a formatted line */

static void pf_ff_log(void *avcl, int level, const char *fmt, va_list vl) {
    if (level > AV_LOG_INFO) return; /* verbose/debug/trace: never wanted */
    char line[1024];
    int prefix = 1;
    av_log_format_line2(avcl, level, fmt, vl, line, (int)sizeof line, &prefix);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    if (n == 0) return;
    if (level <= AV_LOG_ERROR) snprintf(pf_ff_last, sizeof pf_ff_last, "%s", line);
    /* Encoder statistics and decoder complaints are noise at the default
     * level: pflow reports what matters through its own errors. */
    if (pf_log_get_level() >= PF_LOG_DEBUG) pf_log(PF_LOG_DEBUG, "ffmpeg: %s", line);
}

static pthread_once_t pf_ff_once = PTHREAD_ONCE_INIT;

static void pf_ff_install(void) { av_log_set_callback(pf_ff_log); }

void pf_ff_init(void) { pthread_once(&pf_ff_once, pf_ff_install); }

void pf_ff_clear_log(void) { pf_ff_last[0] = '\0'; }

const char *pf_ff_describe(int err, char *buf, size_t n) {
    char e[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, e, sizeof e);
    if (pf_ff_last[0])
        snprintf(buf, n, "%s (FFmpeg: %s)", e, pf_ff_last);
    else
        snprintf(buf, n, "%s", e);
    return buf;
}
#endif /* PF_HAVE_FFMPEG */
