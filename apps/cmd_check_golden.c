/* pflow check-golden [DIR]: run a golden pack's cases against this build. */
#include "pflow_cli.h"

#include "pf_golden.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_golden_usage(FILE *f) {
    fprintf(f,
            "usage: pflow check-golden [DIR] [OPTIONS]\n"
            "\n"
            "Runs every case of a golden pack (tensors made by the official Pyramid Flow code) with this\n"
            "build and compares the outputs. DIR defaults to $PF_GOLDEN_DIR, else %s.\n"
            "\n"
            "A case is DIR/cases/NAME.safetensors; its \"case\" metadata names its kind and model folder.\n"
            "DIR/tokenizers/ adds the cases tokenizer_t5 and tokenizer_clip. One line per case:\n"
            "  NAME PASS|FAIL|SKIP max_abs=... nmse=...   (FAIL and SKIP say why)\n"
            "then 'N passed, M failed, K skipped'.\n"
            "\n"
            "options:\n"
            "  --backend NAME   cpu (default), cuda or vulkan\n"
            "  --dtype T        weights: f32 (default; thresholds max_abs 1e-4 CPU / 5e-4 GPU for models)\n"
            "                   or bf16 (the GPU speed path; models need nmse <= 2e-3)\n"
            "  --act T          the DiT's activations in the dit and pipeline cases: f32 (default) or bf16\n"
            "                   (the official autocast run; those cases are then judged as at --dtype bf16)\n"
            "  --filter TEXT    run only the cases whose name contains TEXT\n"
            "  --threads N      CPU threads (default: all cores)\n"
            "  -v, --verbose    figures per tensor and time per case\n"
            "  -h, --help       this text\n"
            "\n"
            "exit status: 0 when no case failed (skips allowed), 1 when one did or the pack could not\n"
            "be read, 2 on bad arguments.\n",
            pf_golden_default_dir());
}

/* "--opt VALUE" or "--opt=VALUE"; advances *i past a separate value. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt) {
    size_t n = strlen(opt);
    if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=') return argv[*i] + n + 1;
    if (strcmp(argv[*i], opt)) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "pflow check-golden: %s needs a value\n", opt);
        return "";
    }
    return argv[++*i];
}

int pf_cmd_check_golden(int argc, char **argv) {
    pf_golden_opts o = {.backend = "cpu", .dtype = PF_F32, .act = PF_F32};
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            check_golden_usage(stdout);
            return 0;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o.verbose = true;
        } else if ((v = opt_value(argc, argv, &i, "--backend"))) {
            if (!*v) return 2;
            if (strcmp(v, "cpu") && strcmp(v, "cuda") && strcmp(v, "vulkan")) {
                fprintf(stderr, "pflow check-golden: unknown backend '%s' (cpu, cuda or vulkan)\n", v);
                return 2;
            }
            o.backend = v;
        } else if ((v = opt_value(argc, argv, &i, "--dtype"))) {
            if (!*v) return 2;
            if (!strcmp(v, "f32"))
                o.dtype = PF_F32;
            else if (!strcmp(v, "bf16"))
                o.dtype = PF_BF16;
            else {
                fprintf(stderr, "pflow check-golden: --dtype must be f32 or bf16, not '%s'\n", v);
                return 2;
            }
        } else if ((v = opt_value(argc, argv, &i, "--act"))) {
            if (!*v) return 2;
            if (!strcmp(v, "f32"))
                o.act = PF_F32;
            else if (!strcmp(v, "bf16"))
                o.act = PF_BF16;
            else {
                fprintf(stderr, "pflow check-golden: --act must be f32 or bf16, not '%s'\n", v);
                return 2;
            }
        } else if ((v = opt_value(argc, argv, &i, "--filter"))) {
            if (!*v) return 2;
            o.filter = v;
        } else if ((v = opt_value(argc, argv, &i, "--threads"))) {
            if (!*v) return 2;
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (errno || *end || end == v || n < 0 || n > 4096) {
                fprintf(stderr, "pflow check-golden: --threads needs a number from 0 to 4096, not '%s'\n", v);
                return 2;
            }
            o.threads = (int)n;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "pflow check-golden: unknown option '%s' ('pflow check-golden --help' lists them)\n", a);
            return 2;
        } else if (dir) {
            fprintf(stderr, "pflow check-golden: one pack folder only ('%s' and '%s' given)\n", dir, a);
            return 2;
        } else {
            dir = a;
        }
    }
    int np = 0, nf = 0, ns = 0;
    pf_status rc = pf_golden_check_pack(dir, &o, stdout, &np, &nf, &ns);
    if (rc != PF_OK && nf == 0) { /* the pack itself could not be run */
        fprintf(stderr, "pflow check-golden: %s\n", pf_last_error());
        return 1;
    }
    return nf ? 1 : 0;
}
