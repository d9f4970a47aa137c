/*
 * Without a Vulkan driver (the loader pointed at a missing ICD file) the backend
 * must fail cleanly: PF_ERR_UNSUPPORTED with the reason, no crash, no leak, and the
 * other backends unaffected. A separate program because the Vulkan instance is
 * created once per process.
 */
#include "pf_backend.h"
#include "pf_test.h"

static pf_test_result test_no_driver(void) {
    /* both spellings: VK_DRIVER_FILES (loader >= 1.3.207) and the older VK_ICD_FILENAMES */
    setenv("VK_DRIVER_FILES", "/nonexistent/pflow_no_icd.json", 1);
    setenv("VK_ICD_FILENAMES", "/nonexistent/pflow_no_icd.json", 1);
    pf_backend *be = NULL;
    pf_status rc = pf_backend_create("vulkan", NULL, &be);
    CHECK(be == NULL);
    CHECK_MSG(rc == PF_ERR_UNSUPPORTED, "%s: %s", pf_status_str(rc), pf_last_error());
#ifdef PF_HAVE_VULKAN
    const char *m = pf_last_error();
    CHECK_MSG(strstr(m, "no Vulkan driver") || strstr(m, "no devices") || strstr(m, "no Vulkan loader"), "%s", m);
#endif
    /* twice: the failed attempt left nothing half-initialised behind */
    rc = pf_backend_create("vulkan", NULL, &be);
    CHECK(rc == PF_ERR_UNSUPPORTED && be == NULL);
    /* the CPU backend is unaffected */
    CHECK_OK(pf_backend_create("cpu", NULL, &be));
    pf_backend_free(be);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_no_driver))
