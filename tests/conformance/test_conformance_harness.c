/*
 * The conformance harness must catch what it claims to: a backend that writes past
 * its output, one that computes a wrong value, one that produces NaN, and one that
 * declines an op (reported as unsupported, not as a pass). A faulty backend wraps
 * the CPU backend and damages its results on purpose.
 */
#include "conformance.h"
#include "pf_test.h"

typedef enum { FAULT_NONE, FAULT_OOB, FAULT_VALUE, FAULT_NAN, FAULT_DECLINE } fault_kind;

typedef struct {
    pf_backend *inner;
    fault_kind fault;
} faulty_ctx;

static faulty_ctx g_fault;

static void f_destroy(pf_backend *be) { free(be); }
static void f_info(pf_backend *be, pf_backend_info *i) {
    (void)be;
    g_fault.inner->ops->get_info(g_fault.inner, i);
    snprintf(i->name, sizeof i->name, "faulty");
}
static bool f_supports(pf_backend *be, const pf_tensor *n) {
    (void)be;
    if (g_fault.fault == FAULT_DECLINE && n->op == PF_OP_SOFTMAX) return false;
    return g_fault.inner->ops->supports_op(g_fault.inner, n);
}
static pf_status f_alloc(pf_backend *be, size_t size, pf_buffer **out) {
    pf_status rc = g_fault.inner->ops->buffer_alloc(g_fault.inner, size, out);
    if (rc == PF_OK) (*out)->backend = be;
    return rc;
}
static void f_free(pf_backend *be, pf_buffer *b) {
    (void)be;
    g_fault.inner->ops->buffer_free(g_fault.inner, b);
}
static pf_status f_up(pf_backend *be, pf_buffer *b, size_t o, const void *s, size_t n) {
    (void)be;
    return g_fault.inner->ops->upload(g_fault.inner, b, o, s, n);
}
static pf_status f_down(pf_backend *be, pf_buffer *b, size_t o, void *d, size_t n) {
    (void)be;
    return g_fault.inner->ops->download(g_fault.inner, b, o, d, n);
}
static pf_status f_compute(pf_backend *be, pf_graph *g) {
    (void)be;
    PF_TRY(g_fault.inner->ops->compute(g_fault.inner, g));
    pf_tensor *last = NULL;
    for (int i = 0; i < pf_graph_n_nodes(g); i++)
        if (pf_node_is_compute(pf_graph_node(g, i))) last = pf_graph_node(g, i);
    if (!last || last->dtype != PF_F32) return PF_OK;
    float *p = (float *)((char *)pf_root(last)->buffer->host + pf_data_offset(last));
    int64_t n = pf_nelem(last);
    if (g_fault.fault == FAULT_OOB) p[n] = 1.0f; /* one element past the end */
    if (g_fault.fault == FAULT_VALUE) p[n / 2] += 0.5f;
    if (g_fault.fault == FAULT_NAN) p[0] = NAN;
    return PF_OK;
}

static const pf_backend_ops faulty_ops = {
    .name = "faulty", .destroy = f_destroy, .get_info = f_info, .supports_op = f_supports, .buffer_alloc = f_alloc,
    .buffer_free = f_free, .upload = f_up, .download = f_down, .compute = f_compute,
};

static pf_test_result run_with_fault(fault_kind k, pf_conf_result *res) {
    g_fault.fault = k;
    pf_backend *be = calloc(1, sizeof *be);
    be->ops = &faulty_ops;
    pf_conf_runner *r;
    if (pf_conf_runner_create_with(be, &r) != PF_OK) return PF_T_FAIL;
    pf_conf_list l = {0};
    pf_conf_case *c = pf_conf_add(&l, PF_OP_SOFTMAX, "softmax f32 [3,40]");
    pf_conf_in(c, PF_F32, 2, (const int64_t[]){3, 40}, PF_FILL_RANDN);
    c->fp[0] = 1.0f;
    pf_status rc = pf_conf_run_case(r, c, res);
    pf_conf_list_free(&l);
    pf_conf_runner_free(r);
    return rc == PF_OK ? PF_T_PASS : PF_T_FAIL;
}

static pf_test_result test_harness_catches_faults(void) {
    pf_backend_options o = {.device = -1, .threads = 1, .reference = false};
    CHECK_OK(pf_backend_create("cpu", &o, &g_fault.inner));
    pf_conf_result res;
    CHECK(run_with_fault(FAULT_NONE, &res) == PF_T_PASS);
    CHECK_MSG(res.supported && res.pass, "clean run: %s", res.why);
    CHECK(run_with_fault(FAULT_OOB, &res) == PF_T_PASS);
    CHECK_MSG(!res.pass && strstr(res.why, "guard"), "out-of-bounds write not caught: %s", res.why);
    CHECK(run_with_fault(FAULT_VALUE, &res) == PF_T_PASS);
    CHECK_MSG(!res.pass && strstr(res.why, "nmse"), "wrong value not caught: %s", res.why);
    CHECK(run_with_fault(FAULT_NAN, &res) == PF_T_PASS);
    CHECK_MSG(!res.pass && strstr(res.why, "NaN"), "NaN not caught: %s", res.why);
    CHECK(run_with_fault(FAULT_DECLINE, &res) == PF_T_PASS);
    CHECK_MSG(!res.supported && !res.pass, "unsupported op reported as supported");
    pf_backend_free(g_fault.inner);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_harness_catches_faults))
