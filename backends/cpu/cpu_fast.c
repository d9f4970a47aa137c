/* Fast CPU kernels: the table the backend consults before the reference kernels. */
#include "cpu_ops.h"

const pf_cpu_kernel pf_cpu_fast_kernels[PF_OP_COUNT] = {
    [PF_OP_LINEAR] = pf_cpu_fast_linear,
    [PF_OP_MATMUL] = pf_cpu_fast_matmul,
};
