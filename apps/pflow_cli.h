/* The pflow command line: one function per subcommand. */
#ifndef PFLOW_CLI_H
#define PFLOW_CLI_H

#include "pflow.h"

typedef struct pf_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} pf_command;

int pf_cmd_devices(int argc, char **argv);
int pf_cmd_generate(int argc, char **argv);
int pf_cmd_info(int argc, char **argv);
int pf_cmd_make_tiny_model(int argc, char **argv);
int pf_cmd_bench(int argc, char **argv);
int pf_cmd_check_golden(int argc, char **argv);

/* pflow bench kinds (apps/bench_<kind>.c); argv[0] is the kind. */
int pf_bench_generate(int argc, char **argv);
int pf_bench_ops(int argc, char **argv);
int pf_bench_dit(int argc, char **argv);
int pf_bench_text(int argc, char **argv);
int pf_bench_vae(int argc, char **argv);

/* ---- option parsing shared by the commands (apps/cli_args.c) ----
 * Exit statuses: 0 success, 1 the work failed, 2 bad command line, 130 interrupted. */
#define PF_EXIT_OK 0
#define PF_EXIT_FAIL 1
#define PF_EXIT_USAGE 2
#define PF_EXIT_INTERRUPTED 130

/* Matches argv[*i] against "--long VALUE", "--long=VALUE" or "-s VALUE" (short may be
 * NULL). Returns the value and advances *i past it, or NULL when argv[*i] is another
 * option. A matching option without a value prints an error and sets *bad. */
const char *pf_cli_value(const char *cmd, int argc, char **argv, int *i, const char *lng, const char *shrt, bool *bad);
/* Whole-string numbers in [lo, hi]; on failure print "pflow CMD: OPT ..." and return false. */
bool pf_cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, int *out);
bool pf_cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
bool pf_cli_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);
/* "a,b,c": three whole numbers in [lo, hi]. */
bool pf_cli_int3(const char *cmd, const char *opt, const char *s, long lo, long hi, int out[3]);
/* "pflow CMD: message" on stderr; returns code. */
int pf_cli_error(int code, const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* "1.23 s", "2 min 05 s", "1 h 02 min" */
const char *pf_cli_duration(double s, char *buf, size_t n);
/* The folder of data files (tokenizers/): $PF_DATA_DIR, else the source tree's data/
 * this binary was built from, else ../share/pflow beside the executable. NULL if none. */
const char *pf_cli_data_dir(void);

/* ---- progress display and interruption (apps/cli_progress.c) ---- */
typedef struct pf_cli_progress {
    bool quiet, tty;
    double *cost; /* cumulative cost (tokens) after each DiT call, n_calls entries */
    int n_calls;
    double decode_t0; /* elapsed time when the decode phase started (-1: not yet) */
    bool line_open;   /* a TTY line is drawn and not yet ended */
} pf_cli_progress;

/* Prepare the display of pf_generate's progress for these parameters (the DiT calls are
 * weighted by their tokens for the time estimate). width/height: the video size. */
void pf_cli_progress_init(pf_cli_progress *p, const pf_generate_params *gp, int width, int height, bool quiet);
/* A pf_progress_fn (user = the pf_cli_progress): draws the line; returns false after Ctrl-C. */
bool pf_cli_progress_cb(void *user, const pf_progress *pr);
/* Ends a line drawn in place. */
void pf_cli_progress_end(pf_cli_progress *p);
void pf_cli_progress_free(pf_cli_progress *p);
/* A status line ("loading the model ...") in the same style. */
void pf_cli_status(pf_cli_progress *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* SIGINT and SIGTERM set a flag (the progress callback then cancels); a second one ends
 * the process at once. */
void pf_cli_signals_install(void);
void pf_cli_signals_restore(void);
bool pf_cli_interrupted(void);

#endif /* PFLOW_CLI_H */
