/*
 * Conformance, CI subset: the hand-written cases on every backend compiled into
 * this build (the CPU fast paths included), each compared with the CPU reference.
 *   test_conformance [--backend NAME] [--op NAME]
 */
#include "conformance.h"
#include "pf_test.h"
#ifdef PF_HAVE_VULKAN
#include "vulkan/pf_vulkan.h"
#endif

int main(int argc, char **argv) {
    const char *only = NULL, *op = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--op") && i + 1 < argc) op = argv[++i];
    }
    pf_conf_list l = {0};
    pf_conf_cases_ci(&l);
    int failures = 0, ran = 0;
    for (int b = 0; b < pf_backend_count(); b++) {
        const char *name = pf_backend_name_at(b);
        if (only && strcmp(only, name)) continue;
        int np = 0;
        int f = pf_conf_run_list(name, &l, op, stdout, &np, NULL);
        if (f < 0) continue; /* backend compiled in but no device here: skipped */
        ran++;
        failures += f;
    }
    pf_conf_list_free(&l);
#ifdef PF_HAVE_VULKAN
    /* with PF_VK_VALIDATE=1 (or a Debug build) the validation layer must stay silent */
    if (pf_vulkan_validation_messages() > 0) {
        printf("vulkan: %d validation-layer messages\n", pf_vulkan_validation_messages());
        failures++;
    }
#endif
    if (!ran) {
        printf("no backend available\n");
        return 77;
    }
    return failures ? 1 : 0;
}
