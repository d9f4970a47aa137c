/*
 * CUDA backend host logic that needs no device: the allocator's size classes, the
 * reason creation gives without a usable driver or device, and the `pflow devices`
 * line. Runs (and can fail) on machines without a GPU; a build without CUDA skips.
 */
#include "pf_backend.h"
#include "pf_test.h"

#ifdef PF_HAVE_CUDA
#include "cuda_impl.h"

static pf_test_result test_size_classes(void) {
    size_t r;
    CHECK(pf_cuda_size_class(1, &r) == 0 && r == 512);
    CHECK(pf_cuda_size_class(512, &r) == 0 && r == 512);
    CHECK(pf_cuda_size_class(513, &r) == 1 && r == 576);
    CHECK(pf_cuda_size_class(1024, &r) == 8 && r == 1024);
    CHECK(pf_cuda_size_class(1025, &r) == 9 && r == 1152);
    CHECK(pf_cuda_size_class(PF_CUDA_SMALL_MAX, &r) == PF_CUDA_N_CLASSES - 1 && r == PF_CUDA_SMALL_MAX);
    CHECK(pf_cuda_size_class(PF_CUDA_SMALL_MAX + 1, &r) == -1 && r == PF_CUDA_SMALL_MAX + PF_CUDA_LARGE_ROUND);
    CHECK(pf_cuda_size_class((size_t)5 << 30, &r) == -1 && r == (size_t)5 << 30);
    /* every size: fits, bounded slack, classes ascend and stay in range, a class has one size */
    size_t class_size[PF_CUDA_N_CLASSES] = {0};
    int prev = 0;
    for (size_t s = 1; s <= PF_CUDA_SMALL_MAX; s = s < 4096 ? s + 1 : s + s / 61 + 1) {
        int c = pf_cuda_size_class(s, &r);
        CHECK_MSG(c >= prev && c < PF_CUDA_N_CLASSES, "size %zu: class %d after %d", s, c, prev);
        CHECK_MSG(r >= s && (r <= 512 || r - s <= s / 8), "size %zu rounds to %zu", s, r);
        CHECK_MSG(!class_size[c] || class_size[c] == r, "class %d holds %zu and %zu", c, class_size[c], r);
        class_size[c] = r;
        prev = c;
    }
    for (size_t s = PF_CUDA_SMALL_MAX + 1; s < ((size_t)1 << 36); s = s * 3 / 2 + 17) {
        CHECK(pf_cuda_size_class(s, &r) == -1 && r >= s && r - s < PF_CUDA_LARGE_ROUND && r % PF_CUDA_LARGE_ROUND == 0);
    }
    return PF_T_PASS;
}

/* Creation either works or says why, naming CUDA (error 35 without a driver). */
static pf_test_result test_create_or_reason(void) {
    pf_backend *be = NULL;
    pf_clear_error();
    pf_status rc = pf_backend_create("cuda", NULL, &be);
    if (rc == PF_OK) {
        CHECK(be && !strcmp(pf_backend_name(be), "cuda"));
        pf_backend_free(be);
        return PF_T_PASS;
    }
    CHECK(be == NULL);
    CHECK_MSG(rc == PF_ERR_UNSUPPORTED, "status %s: %s", pf_status_str(rc), pf_last_error());
    CHECK_MSG(strstr(pf_last_error(), "CUDA") != NULL, "reason '%s'", pf_last_error());
    /* repeated attempts give the same answer and leave no error state behind */
    pf_status rc2 = pf_backend_create("cuda", NULL, &be);
    CHECK(rc2 == rc && be == NULL);
    return PF_T_PASS;
}

/* A block a captured CUDA graph owns (its scratch) is not cached by a release: only the
 * graph's own give-back (owner cleared) returns it, so no later allocation can share it. */
static pf_test_result test_owned_block_stays(void) {
    pf_backend *be = NULL;
    if (pf_backend_create("cuda", NULL, &be) != PF_OK) SKIP("no CUDA device: %s", pf_last_error());
    pf_backend_free(be);
    pf_cuda_allocator a;
    memset(&a, 0, sizeof a);
    CHECK(cudaStreamCreateWithFlags(&a.stream, cudaStreamNonBlocking) == cudaSuccess);
    pf_cuda_block *b = NULL, *b2 = NULL;
    CHECK_OK(pf_cuda_alloc(&a, 1000, "an owned block", &b));
    int graph = 0;
    b->owner = &graph;
    pf_cuda_release(&a, b); /* a node's release while the graph holds it: ignored */
    CHECK_MSG(a.cached == 0 && a.in_use == 1024, "cached %zu, in use %zu", a.cached, a.in_use);
    CHECK_OK(pf_cuda_alloc(&a, 1000, "a second block", &b2));
    CHECK(b2 != b && b2->ptr != b->ptr && b2->owner == NULL);
    b->owner = NULL; /* the graph gives it back */
    pf_cuda_release(&a, b);
    CHECK(a.cached == 1024 && a.in_use == 1024);
    pf_cuda_release(&a, b2);
    CHECK_OK(pf_cuda_trim(&a));
    CHECK(a.cached == 0 && a.in_use == 0);
    pf_cuda_allocator_destroy(&a);
    CHECK(cudaStreamDestroy(a.stream) == cudaSuccess);
    return PF_T_PASS;
}

/* `pflow devices` prints a cuda line (device or reason) and succeeds (the CPU is there). */
static pf_test_result test_devices_command(void) {
    char cmd[1024], line[1024];
    snprintf(cmd, sizeof cmd, "%s/pflow devices 2>&1", PF_TEST_BINARY_DIR);
    FILE *p = popen(cmd, "r");
    CHECK(p);
    bool cuda = false, cpu = false;
    while (fgets(line, sizeof line, p)) {
        if (!strncmp(line, "cuda ", 5)) cuda = true;
        if (!strncmp(line, "cpu ", 4)) cpu = true;
    }
    int st = pclose(p);
    if (st == -1 || (!cuda && !cpu)) SKIP("pflow not built or not runnable");
    CHECK_MSG(cuda && cpu, "cuda line %d, cpu line %d", cuda, cpu);
    CHECK_MSG(st == 0, "pflow devices exited with %d", st);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_size_classes), PF_TEST(test_create_or_reason), PF_TEST(test_owned_block_stays),
             PF_TEST(test_devices_command))

#else

static pf_test_result test_cuda_host(void) { SKIP("built without CUDA (PF_CUDA=OFF or no CUDA toolkit)"); }

PF_TEST_MAIN(PF_TEST(test_cuda_host))

#endif
