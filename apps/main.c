/* pflow: entry point and subcommand dispatch. */
#include "pflow_cli.h"

#include <stdio.h>
#include <string.h>

static const pf_command pf_commands[] = {
    {"bench", "benchmarks (ops, dit, vae, text, generate)", pf_cmd_bench},
    {"check-golden", "run a golden pack's cases and compare with the official outputs", pf_cmd_check_golden},
    {"devices", "list backends and devices with their memory", pf_cmd_devices},
};

static void usage(FILE *f) {
    fprintf(f,
            "pflow %s - Pyramid Flow video generation in C\n"
            "\n"
            "usage: pflow COMMAND [OPTIONS]\n"
            "\n"
            "commands:\n",
            pf_version());
    for (size_t i = 0; i < sizeof pf_commands / sizeof pf_commands[0]; i++)
        fprintf(f, "  %-14s %s\n", pf_commands[i].name, pf_commands[i].summary);
    fprintf(f, "\n'pflow COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("pflow %s\n", pf_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof pf_commands / sizeof pf_commands[0]; i++)
        if (!strcmp(argv[1], pf_commands[i].name)) return pf_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "pflow: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
