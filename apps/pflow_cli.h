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
int pf_cmd_bench(int argc, char **argv);
/* bench kinds (apps/bench_<kind>.c); argv[0] is the kind */
int pf_bench_generate(int argc, char **argv);
int pf_cmd_check_golden(int argc, char **argv);

/* pflow bench kinds (apps/bench_<kind>.c); argv[0] is the kind. */
int pf_bench_ops(int argc, char **argv);
int pf_bench_dit(int argc, char **argv);
int pf_bench_text(int argc, char **argv);
int pf_bench_vae(int argc, char **argv);

#endif /* PFLOW_CLI_H */
