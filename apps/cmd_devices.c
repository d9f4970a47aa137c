/* pflow devices: every backend compiled in, and what it finds. */
#include "pflow_cli.h"
#include "pf_backend.h"

#include <stdio.h>
#include <string.h>

int pf_cmd_devices(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: pflow devices\n\nLists the backends compiled into this build and the device each one finds,\n"
               "with total and free memory. A backend without a usable device says why.\n");
        return 0;
    }
    int found = 0;
    for (int i = 0; i < pf_backend_count(); i++) {
        const char *name = pf_backend_name_at(i);
        pf_backend *be = NULL;
        pf_status rc = pf_backend_create(name, NULL, &be);
        if (rc != PF_OK) {
            printf("%-7s unavailable: %s\n", name, pf_last_error());
            continue;
        }
        pf_backend_info info;
        pf_backend_get_info(be, &info);
        char t[32], f[32], m[32];
        printf("%-7s %s\n        memory %s total, %s free; largest buffer %s\n", name, info.device,
               info.mem_total ? pf_fmt_bytes((double)info.mem_total, t, sizeof t) : "?",
               info.mem_free ? pf_fmt_bytes((double)info.mem_free, f, sizeof f) : "?",
               pf_fmt_bytes((double)info.max_buffer_size, m, sizeof m));
        pf_backend_free(be);
        found++;
    }
    return found ? 0 : 1;
}
