#version 450
// Resampling of the VAE: depth-to-space over space (MODE 0) or time (MODE 1, with
// optional dropped first frame), nearest 2x upsample (MODE 2), bilinear 1/2
// downsample with align_corners=False (MODE 3). One invocation per output element;
// the first three are bit copies of ES-byte elements, the downsample computes in f32
// in PyTorch's order (0.5 a + 0.5 b per row, then the rows) times `mul`.
#include "pf_common.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 0) const uint MODE = 0u;
layout(constant_id = 1) const uint ES = 4u;  // element size for the copy modes
layout(constant_id = 2) const uint TD = 0u;
layout(constant_id = 3) const uint TX = 0u;

PF_BINDING(0, D)
PF_BINDING(1, X)

layout(push_constant) uniform PC {
    uint n;              // output elements
    uint C, To, Ho, Wo;  // output [B, C, To, Ho, Wo] (up/down: [planes, Ho, Wo], C = To = 1)
    uint Cin, Ti, Hi, Wi;
    uint drop;           // time mode: output frame 0 dropped
    uint x_off, d_off;
    float mul;
} pc;

void main() {
    uint i = pf_group_linear() * 256u + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    uint w = i % pc.Wo;
    uint r = i / pc.Wo;
    uint h = r % pc.Ho;
    r /= pc.Ho;
    if (MODE == 3u) {
        uint p = r; // plane
        uint o = (p * pc.Ho * 2u + 2u * h) * pc.Wi + 2u * w;
        float a = X_ld(TX, pc.x_off + o), bb = X_ld(TX, pc.x_off + o + 1u);
        float c = X_ld(TX, pc.x_off + o + pc.Wi), d = X_ld(TX, pc.x_off + o + pc.Wi + 1u);
        precise float top = 0.5 * a + 0.5 * bb;
        precise float bot = 0.5 * c + 0.5 * d;
        precise float v = 0.5 * top + 0.5 * bot;
        precise float vm = v * pc.mul;
        D_st(TD, pc.d_off + i, vm);
        return;
    }
    uint src;
    if (MODE == 2u) {
        src = (r * pc.Hi + h / 2u) * pc.Wi + w / 2u;
    } else {
        uint t = r % pc.To;
        r /= pc.To;
        uint ch = r % pc.C, b = r / pc.C;
        uint ic, it, ih, iw;
        if (MODE == 0u) {
            ic = ch * 4u + (h % 2u) * 2u + (w % 2u);
            it = t;
            ih = h / 2u;
            iw = w / 2u;
        } else {
            uint tt = t + pc.drop; // frame index before dropping
            ic = ch * 2u + tt % 2u;
            it = tt / 2u;
            ih = h;
            iw = w;
        }
        src = (((b * pc.Cin + ic) * pc.Ti + it) * pc.Hi + ih) * pc.Wi + iw;
    }
    uint di = pc.d_off + i, si = pc.x_off + src;
    PF_BITCOPY(D, X, ES, di, si)
}
