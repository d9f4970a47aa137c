#version 450
// The element-wise family: cpy (cast, strided gather, concat pieces), add/sub/mul,
// scale, unary, modulate, gated_add. One invocation per element of the iteration
// shape (at most 4 dims after the host merged contiguous and dropped unit dims);
// every operand has its own element offset and strides, so broadcasting (stride 0),
// transposed views and writing into a slice of a larger tensor (concat) all go
// through the same code. Each invocation reads its inputs before writing its one
// output, so dst may alias src0 (in-place).
#include "pf_common.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 0) const uint OP = 0u;  // see PF_VK_EW_* in backends/vulkan/vk_ops.h
layout(constant_id = 1) const uint FN = 0u;  // pf_unary for OP == UNARY
layout(constant_id = 2) const uint TD = 0u;  // dtypes (pf_dtype); element size in bytes for BITCOPY
layout(constant_id = 3) const uint TA = 0u;
layout(constant_id = 4) const uint TB = 0u;
layout(constant_id = 5) const uint TC = 0u;

const uint EW_CONVERT = 0u, EW_ADD = 1u, EW_SUB = 2u, EW_MUL = 3u, EW_SCALE = 4u, EW_UNARY = 5u,
           EW_MODULATE = 6u, EW_GATED_ADD = 7u, EW_BITCOPY = 8u;

PF_BINDING(0, D)
PF_BINDING(1, A)
PF_BINDING(2, B)
PF_BINDING(3, C)

layout(push_constant) uniform PC {
    uvec4 ne;   // iteration shape, ne.w innermost
    uint n;     // elements
    uint pad0, pad1, pad2;
    uvec4 off;  // element offsets of dst, a, b, c
    ivec4 st_d; // strides (elements) per operand
    ivec4 st_a;
    ivec4 st_b;
    ivec4 st_c;
    float p0, p1;
} pc;

#include "pf_unary.glsl"

uint pf_offset(uint base, uvec4 idx, ivec4 st) {
    // uint arithmetic wraps modulo 2^32, so negative strides work too
    return base + idx.x * uint(st.x) + idx.y * uint(st.y) + idx.z * uint(st.z) + idx.w * uint(st.w);
}

void main() {
    uint i = pf_group_linear() * 256u + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    uvec4 idx;
    idx.w = i % pc.ne.w;
    uint r = i / pc.ne.w;
    idx.z = r % pc.ne.z;
    r /= pc.ne.z;
    idx.y = r % pc.ne.y;
    idx.x = r / pc.ne.y;
    uint od = pf_offset(pc.off.x, idx, pc.st_d);
    uint oa = pf_offset(pc.off.y, idx, pc.st_a);
    if (OP == EW_BITCOPY) {
        PF_BITCOPY(D, A, TD, od, oa)
        return;
    }
    float x = A_ld(TA, oa);
    precise float v;
    if (OP == EW_CONVERT) {
        v = x;
    } else if (OP == EW_SCALE) {
        precise float t = x * pc.p0;
        v = t + pc.p1;
    } else if (OP == EW_UNARY) {
        v = pf_unary(FN, x);
    } else {
        float y = B_ld(TB, pf_offset(pc.off.z, idx, pc.st_b));
        if (OP == EW_ADD) v = x + y;
        else if (OP == EW_SUB) v = x - y;
        else if (OP == EW_MUL) v = x * y;
        else {
            float z = C_ld(TC, pf_offset(pc.off.w, idx, pc.st_c));
            if (OP == EW_MODULATE) { // x * (1 + scale) + shift; y = shift, z = scale
                precise float s = 1.0 + z;
                precise float t = x * s;
                v = t + y;
            } else { // gated add: x + gate * y; y = gate, z = y
                precise float gy = y * z;
                v = x + gy;
            }
        }
    }
    D_st(TD, od, v);
}
