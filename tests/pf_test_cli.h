/*
 * Running the built `pflow` binary from tests (header-only, like pf_test.h): the
 * executable is PF_TEST_BINARY_DIR/pflow, built before the test_cli_* programs.
 * stdout and stderr are captured separately; the exit status is returned.
 */
#ifndef PF_TEST_CLI_H
#define PF_TEST_CLI_H

#include "pf_test_media.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

typedef struct pf_cli_run {
    int status; /* exit code; 128 + N when killed by signal N; -1 if it could not run */
    char *out;  /* stdout */
    char *err;  /* stderr */
    double wall_s;
} pf_cli_run;

static inline const char *pf_cli_binary(void) {
    static char path[4096];
#ifdef PF_TEST_BINARY_DIR
    snprintf(path, sizeof path, "%s/pflow", PF_TEST_BINARY_DIR);
#else
    snprintf(path, sizeof path, "pflow");
#endif
    return path;
}

static inline char *pf_cli_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return calloc(1, 1);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)(n > 0 ? n : 0) + 1);
    size_t got = s && n > 0 ? fread(s, 1, (size_t)n, f) : 0;
    if (s) s[got] = '\0';
    fclose(f);
    return s;
}

static inline void pf_cli_run_free(pf_cli_run *r) {
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/* Runs `pflow ARGS...` (args NULL-terminated, without "pflow"). scratch: a folder for the
 * captured output files. Echoes stderr on failure paths for the test log. */
static inline int pf_cli_exec(pf_cli_run *r, const char *scratch, const char *const *args) {
    memset(r, 0, sizeof *r);
    r->status = -1;
    char out_path[4096], err_path[4096];
    snprintf(out_path, sizeof out_path, "%s/.cli_stdout", scratch);
    snprintf(err_path, sizeof err_path, "%s/.cli_stderr", scratch);
    int n = 0;
    while (args[n]) n++;
    char **argv = calloc((size_t)n + 2, sizeof *argv);
    if (!argv) return -1;
    argv[0] = (char *)pf_cli_binary();
    for (int i = 0; i < n; i++) argv[i + 1] = (char *)args[i];
    double t0 = pf_time_now();
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0) _exit(126);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    free(argv);
    if (pid < 0) return -1;
    int st = 0;
    if (waitpid(pid, &st, 0) < 0) return -1;
    r->wall_s = pf_time_now() - t0;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    r->out = pf_cli_slurp(out_path);
    r->err = pf_cli_slurp(err_path);
    remove(out_path);
    remove(err_path);
    return r->status;
}

/* `pflow make-tiny-model DIR/NAME [--seed SEED]` in the scratch folder dir, which must say
 * it wrote random weights: the model's path (free it), or NULL after printing why. */
static inline char *pf_cli_tiny_model(const char *dir, const char *name, const char *seed) {
    char *model = pf_tm_join(dir, name);
    if (!model) return NULL;
    pf_cli_run r;
    const char *args[] = {"make-tiny-model", model, seed ? "--seed" : NULL, seed, NULL};
    pf_cli_exec(&r, dir, args);
    if (r.status != 0 || !strstr(r.out, "random weights")) {
        fprintf(stderr, "  make-tiny-model failed (%d): %s%s\n", r.status, r.out, r.err);
        free(model);
        model = NULL;
    }
    pf_cli_run_free(&r);
    return model;
}

/* Files in dir other than the captured-output files (hidden temporaries count). */
static inline int pf_cli_count_outputs(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, ".cli_stdout") &&
            strcmp(e->d_name, ".cli_stderr"))
            n++;
    closedir(d);
    return n;
}

/* The command must exit with `code` and print `needle` on stderr. */
#define CHECK_CLI_FAILS(r, code, needle)                                                                               \
    do {                                                                                                               \
        if ((r)->status != (code) || !strstr((r)->err, (needle))) {                                                    \
            fprintf(stderr, "  %s:%d: expected exit %d and '%s' on stderr; got exit %d, stderr:\n%s\n", __FILE__,      \
                    __LINE__, (code), (needle), (r)->status, (r)->err);                                                \
            return PF_T_FAIL;                                                                                          \
        }                                                                                                              \
    } while (0)

#define CHECK_CLI_OK(r)                                                                                                \
    do {                                                                                                               \
        if ((r)->status != 0) {                                                                                        \
            fprintf(stderr, "  %s:%d: pflow exited %d; stderr:\n%s\nstdout:\n%s\n", __FILE__, __LINE__, (r)->status,   \
                    (r)->err, (r)->out);                                                                               \
            return PF_T_FAIL;                                                                                          \
        }                                                                                                              \
    } while (0)

#endif /* PF_TEST_CLI_H */
