#version 450
// Embedding lookup: out[i, :] = table[ids[i], :]. One invocation per output element,
// a bit copy of the table's element (2 or 4 bytes). ids are i32 or i64 (read as two
// words, little-endian). An id outside [0, V) cannot raise an error from a shader:
// the row is written as zeros and the first bad id is recorded in the status buffer,
// which the backend checks after the submission and reports as an error.
#include "pf_common.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 0) const uint ES = 4u;       // table element size
layout(constant_id = 1) const bool IDS64 = false;

PF_BINDING(0, D)
PF_BINDING(1, Tab)
PF_BINDING(2, Ids)
layout(std430, binding = 7) buffer PF_STATUS { uint pf_status[]; };

layout(push_constant) uniform PC {
    uint n, dim, V;
    uint t_off, ids_off, d_off;
} pc;

void main() {
    uint i = pf_group_linear() * 256u + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    uint row = i / pc.dim, c = i % pc.dim;
    uint lo, hi = 0u;
    if (IDS64) {
        lo = Ids_u[2u * (pc.ids_off + row)];
        hi = Ids_u[2u * (pc.ids_off + row) + 1u];
    } else {
        lo = Ids_u[pc.ids_off + row];
        hi = int(lo) < 0 ? 0xffffffffu : 0u;
    }
    uint di = pc.d_off + i;
    if (hi != 0u || lo >= pc.V) {
        if (ES == 2u) D_h[di] = uint16_t(0u);
        else D_u[di] = 0u;
        if (c == 0u && atomicCompSwap(pf_status[0], 0u, 1u) == 0u) {
            pf_status[1] = lo;
            pf_status[2] = hi;
            pf_status[3] = pc.V;
        }
        return;
    }
    uint si = pc.t_off + lo * pc.dim + c;
    PF_BITCOPY(D, Tab, ES, di, si)
}
