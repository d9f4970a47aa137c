/*
 * Progress of a generation on stderr: one line per DiT step (latent frame, pyramid
 * stage, step) and per VAE chunk, with the time elapsed and an estimate of the time
 * left; redrawn in place on a terminal, one line each otherwise (logs, pipes). Ctrl-C
 * sets a flag that the progress callback turns into a cancellation.
 */
#include "pflow_cli.h"

#include "pf_pipeline.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---------------------------------------------------------------- signals */

static volatile sig_atomic_t pf_cli_sig_count;
static struct sigaction pf_cli_old_int, pf_cli_old_term;

static void pf_cli_on_signal(int sig) {
    (void)sig;
    pf_cli_sig_count = pf_cli_sig_count + 1;
    if (pf_cli_sig_count == 1) {
        static const char msg[] =
            "\npflow: interrupted: stopping after the current step, nothing will be written (again to quit at once)\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
    }
}

void pf_cli_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pf_cli_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* the second signal takes the default action: the process ends */
    sigaction(SIGINT, &sa, &pf_cli_old_int);
    sigaction(SIGTERM, &sa, &pf_cli_old_term);
}

void pf_cli_signals_restore(void) {
    sigaction(SIGINT, &pf_cli_old_int, NULL);
    sigaction(SIGTERM, &pf_cli_old_term, NULL);
}

bool pf_cli_interrupted(void) { return pf_cli_sig_count > 0; }

/* ---------------------------------------------------------------- display */

void pf_cli_progress_init(pf_cli_progress *p, const pf_generate_params *gp, int width, int height, bool quiet) {
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->tty = isatty(STDERR_FILENO) == 1;
    p->decode_t0 = -1.0;
    /* The DiT calls the pipeline will make, each weighted by its tokens: later frames carry
     * a longer history and cost more, so counting calls alone would promise too early an end. */
    pf_pipe_params pp;
    pf_pipe_stats st;
    memset(&st, 0, sizeof st);
    if (pf_pipe_params_from_api(gp, width, height, &pp) != PF_OK ||
        pf_pipeline_count_calls(&pp, PF_T5_MAX_TOKENS, 2, &st) != PF_OK) {
        pf_pipe_stats_free(&st);
        pf_clear_error(); /* the estimate falls back to counting calls */
        return;
    }
    int n = 0;
    for (int i = 0; i < st.n_rows; i++) n += st.rows[i].calls;
    p->cost = n > 0 ? malloc(sizeof(double) * (size_t)n) : NULL;
    if (p->cost) {
        double sum = 0.0;
        int k = 0;
        for (int i = 0; i < st.n_rows; i++)
            for (int c = 0; c < st.rows[i].calls && k < n; c++) {
                sum += (double)st.rows[i].image_tokens + st.rows[i].text_tokens;
                p->cost[k++] = sum;
            }
        p->n_calls = k;
    }
    pf_pipe_stats_free(&st);
}

void pf_cli_progress_free(pf_cli_progress *p) {
    free(p->cost);
    p->cost = NULL;
}

void pf_cli_progress_end(pf_cli_progress *p) {
    if (p->line_open) fputc('\n', stderr);
    p->line_open = false;
    fflush(stderr);
}

static void pf_cli_line(pf_cli_progress *p, const char *text) {
    if (p->tty) {
        /* a line longer than the terminal would wrap, and \r would then redraw only its tail */
        struct winsize ws;
        int cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 0;
        int len = (int)strlen(text);
        if (cols > 1 && len > cols - 1) len = cols - 1;
        fprintf(stderr, "\r%.*s\033[K", len, text);
        p->line_open = true;
    } else {
        fprintf(stderr, "%s\n", text);
    }
    fflush(stderr);
}

void pf_cli_status(pf_cli_progress *p, const char *fmt, ...) {
    if (p->quiet) return;
    pf_cli_progress_end(p);
    fputs("pflow: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

bool pf_cli_progress_cb(void *user, const pf_progress *pr) {
    pf_cli_progress *p = user;
    if (pf_cli_interrupted()) return false;
    if (p->quiet) return true;
    char line[256], el[32], eta[32];
    double t = pr->elapsed_s, left = -1.0;
    if (!strcmp(pr->phase, "denoise")) {
        int done = pr->call;
        if (p->cost && p->n_calls == pr->n_calls && done >= 1 && done <= p->n_calls)
            left = t * (p->cost[p->n_calls - 1] - p->cost[done - 1]) / p->cost[done - 1];
        else if (done >= 1) left = t * (double)(pr->n_calls - done) / done;
        snprintf(line, sizeof line,
                 "pflow: denoise  latent frame %d/%d  stage %d/%d  step %d/%d  (DiT call %d/%d)  %s, about %s left",
                 pr->unit + 1, pr->n_units, pr->stage + 1, pr->n_stages, pr->step + 1, pr->n_steps, pr->call,
                 pr->n_calls, pf_cli_duration(t, el, sizeof el), pf_cli_duration(left, eta, sizeof eta));
    } else {
        bool decode = !strcmp(pr->phase, "decode");
        if (decode && p->decode_t0 < 0) {
            pf_cli_progress_end(p); /* keep the last denoise line */
            p->decode_t0 = t;
        }
        double t0 = decode ? p->decode_t0 : 0.0;
        if (pr->chunk >= 1 && pr->n_chunks >= pr->chunk)
            left = (t - t0) * (double)(pr->n_chunks - pr->chunk) / pr->chunk;
        snprintf(line, sizeof line, "pflow: %-7s VAE chunk %d/%d  %s, about %s left", decode ? "decode" : "encode",
                 pr->chunk, pr->n_chunks, pf_cli_duration(t, el, sizeof el), pf_cli_duration(left, eta, sizeof eta));
    }
    pf_cli_line(p, line);
    return !pf_cli_interrupted();
}
