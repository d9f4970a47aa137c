/* pflow: entry point and subcommand dispatch. */
#include "pflow_cli.h"

#include <stdio.h>
#include <string.h>

static const pf_command pf_commands[] = {
    {"generate", "make a video (or an image) from a prompt, optionally with a first-frame image", pf_cmd_generate},
    {"info", "what a model folder holds and how much memory a generation needs", pf_cmd_info},
    {"devices", "list backends and devices with their memory", pf_cmd_devices},
    {"make-tiny-model", "write a tiny random-weight model in the official layout (for trying pflow)",
     pf_cmd_make_tiny_model},
    {"check-golden", "run a golden pack's cases and compare with the official outputs", pf_cmd_check_golden},
    {"bench", "benchmarks (ops, dit, vae, text, generate)", pf_cmd_bench},
};

static void usage(FILE *f, bool full) {
    fprintf(f,
            "NAME\n"
            "    pflow %s - Pyramid Flow video generation in C\n"
            "\n"
            "SYNOPSIS\n"
            "    pflow COMMAND [OPTIONS]\n"
            "    pflow --help | --version\n"
            "\n",
            pf_version());
    if (full)
        fprintf(f, "DESCRIPTION\n"
                   "    Runs the released Pyramid Flow models (rain1011/pyramid-flow-miniflux and\n"
                   "    rain1011/pyramid-flow-sd3, as downloaded) with no Python: a text prompt, or a prompt and\n"
                   "    an image, in; an MP4, WebM, GIF or PNG frames out. CPU, CUDA and Vulkan backends.\n"
                   "\n");
    fprintf(f, "COMMANDS\n");
    for (size_t i = 0; i < sizeof pf_commands / sizeof pf_commands[0]; i++)
        fprintf(f, "    %-16s %s\n", pf_commands[i].name, pf_commands[i].summary);
    fprintf(f, "\n    'pflow COMMAND --help' describes each command and its options.\n");
    if (!full) return;
    fprintf(f, "\n"
               "EXAMPLES\n"
               "    Try it in seconds with random weights (the video is noise):\n"
               "        pflow make-tiny-model tiny && pflow generate -m tiny -p \"a red fox in the snow\" --temp 2 -o "
               "fox.mp4\n"
               "    The real model (huggingface-cli download rain1011/pyramid-flow-miniflux --local-dir miniflux):\n"
               "        pflow info miniflux\n"
               "        pflow generate -m miniflux -p \"A movie trailer featuring a space man\" -o trailer.mp4\n"
               "        pflow generate -m miniflux --image cat.jpg -p \"a cat wakes up\" -o cat.mp4\n"
               "    What this machine offers:\n"
               "        pflow devices\n"
               "\n"
               "EXIT STATUS\n"
               "    0 success; 1 the command failed (the message says why and what to do); 2 bad command line;\n"
               "    130 interrupted (Ctrl-C).\n"
               "\n"
               "ENVIRONMENT\n"
               "    PF_LOG=error|warn|info|debug   how much the library reports on stderr (default info)\n"
               "    PF_THREADS=N                   CPU threads (default: every core)\n"
               "    PF_CPU_GEMM=auto|blas|portable the CPU's matrix multiplication\n"
               "    PF_CPU_ISA=generic|avx2|avx512 cap the CPU kernels' instruction set\n"
               "    PF_CUDA_DEVICE=N               CUDA device (default 0)\n"
               "    PF_VK_DEVICE=N                 Vulkan device (default: the first discrete GPU)\n"
               "    PF_GOLDEN_DIR=DIR              golden pack of check-golden and the tests\n"
               "    PF_DATA_DIR=DIR                data files (tokenizers/) of make-tiny-model\n"
               "\n"
               "SEE ALSO\n"
               "    README.md and docs/ in the source tree.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr, false);
        return PF_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (argc > 2 && strcmp(argv[1], "help") == 0) {
            for (size_t i = 0; i < sizeof pf_commands / sizeof pf_commands[0]; i++)
                if (!strcmp(argv[2], pf_commands[i].name)) {
                    static char help[] = "--help";
                    char *sub[2] = {argv[2], help};
                    return pf_commands[i].run(2, sub);
                }
        }
        usage(stdout, true);
        return PF_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("pflow %s\n", pf_version());
        return PF_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof pf_commands / sizeof pf_commands[0]; i++)
        if (!strcmp(argv[1], pf_commands[i].name)) return pf_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "pflow: unknown command '%s'\n\n", argv[1]);
    usage(stderr, false);
    return PF_EXIT_USAGE;
}
