/* Option parsing and small helpers shared by the pflow commands (pflow_cli.h). */
#include "pflow_cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pf_cli_error(int code, const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "pflow %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

const char *pf_cli_value(const char *cmd, int argc, char **argv, int *i, const char *lng, const char *shrt, bool *bad) {
    const char *a = argv[*i];
    size_t n = strlen(lng);
    if (!strncmp(a, lng, n) && a[n] == '=') return a + n + 1;
    if (strcmp(a, lng) && (!shrt || strcmp(a, shrt))) return NULL;
    if (*i + 1 >= argc) {
        pf_cli_error(PF_EXIT_USAGE, cmd, "%s needs a value ('pflow %s --help' describes it)", a, cmd);
        *bad = true;
        return NULL;
    }
    return argv[++*i];
}

bool pf_cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        pf_cli_error(PF_EXIT_USAGE, cmd, "%s needs a whole number from %ld to %ld, not '%s'", opt, lo, hi, s);
        return false;
    }
    *out = (int)v;
    return true;
}

bool pf_cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    /* strtoull would take "-1" as 2^64 - 1: only digits */
    unsigned long long v = *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
    if (!end || errno || *end) {
        pf_cli_error(PF_EXIT_USAGE, cmd, "%s needs a whole number from 0 to %llu, not '%s'", opt, ULLONG_MAX, s);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

bool pf_cli_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        pf_cli_error(PF_EXIT_USAGE, cmd, "%s needs a number from %g to %g, not '%s'", opt, lo, hi, s);
        return false;
    }
    *out = v;
    return true;
}

bool pf_cli_int3(const char *cmd, const char *opt, const char *s, long lo, long hi, int out[3]) {
    const char *p = s;
    for (int k = 0; k < 3; k++) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        bool sep_ok = k < 2 ? *end == ',' : *end == '\0';
        if (errno || end == p || !sep_ok || v < lo || v > hi || *p == ' ') {
            pf_cli_error(PF_EXIT_USAGE, cmd,
                         "%s needs three whole numbers from %ld to %ld separated by commas, one per pyramid stage "
                         "(like 20,20,20), not '%s'",
                         opt, lo, hi, s);
            return false;
        }
        out[k] = (int)v;
        p = end + 1;
    }
    return true;
}

const char *pf_cli_duration(double s, char *buf, size_t n) {
    if (!(s >= 0) || !isfinite(s)) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.1f s", s);
    else if (s < 3600) snprintf(buf, n, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, n, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
    return buf;
}

static bool pf_cli_has_tokenizers(const char *dir) {
    char p[8192];
    snprintf(p, sizeof p, "%s/tokenizers/t5/spiece.model", dir);
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *pf_cli_data_dir(void) {
    static char found[4096];
    const char *env = getenv("PF_DATA_DIR");
    if (env && *env) return env;
#ifdef PF_SOURCE_DATA_DIR
    if (pf_cli_has_tokenizers(PF_SOURCE_DATA_DIR)) return PF_SOURCE_DATA_DIR;
#endif
    char exe[2048];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(found, sizeof found, "%s/../share/pflow", exe);
            if (pf_cli_has_tokenizers(found)) return found;
            snprintf(found, sizeof found, "%s/data", exe);
            if (pf_cli_has_tokenizers(found)) return found;
        }
    }
    return NULL;
}
