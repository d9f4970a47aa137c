// Shared helpers of every pflow compute shader: dtype codes, bf16/f16 conversions
// that round exactly like the CPU reference (runtime/pf_dtype.c), typed buffer
// bindings, and the flattened 2-D workgroup index.
//
// Tensors are bound whole (the VkBuffer of their pf_buffer, offset 0) and addressed
// by element offsets from the push constants, so views at any element offset work
// without minStorageBufferOffsetAlignment. Each binding is declared three times
// (f32, 16-bit and 32-bit words) over the same descriptor: the dtype is a
// specialization constant, so the branches below fold away at pipeline creation.
// bf16 and f16 are 16-bit words converted here (no shaderFloat16, no bf16 extension
// needed); that needs storageBuffer16BitAccess, which the backend requires.
#extension GL_EXT_shader_16bit_storage : require

// pf_dtype values (runtime/pf_dtype.h)
const uint PF_F32 = 0u;
const uint PF_BF16 = 1u;
const uint PF_F16 = 2u;
const uint PF_I32 = 3u;
const uint PF_I64 = 4u;

// Masked attention scores and the initial running max. A finite sentinel instead of
// -inf: drivers may compile with fast-math assumptions that break inf arithmetic.
const float PF_NEG = -1.0e30;

float pf_bf16_to_f32(uint h) { return uintBitsToFloat(h << 16); }

// Round to nearest even; NaN stays a (quiet) NaN.
uint pf_f32_to_bf16(float f) {
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return ((u >> 16) | 0x40u) & 0xffffu;
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

float pf_f16_to_f32(uint h) { return unpackHalf2x16(h).x; }

// Integer re-implementation of pf_f32_to_f16 (round to nearest even, overflow to
// Inf, subnormals), because packHalf2x16's rounding mode is not specified.
uint pf_f32_to_f16(float f) {
    uint x = floatBitsToUint(f);
    uint sign = (x >> 16) & 0x8000u;
    uint mant = x & 0x007fffffu;
    int ex = int((x >> 23) & 0xffu);
    if (ex == 0xff) return sign | 0x7c00u | (mant != 0u ? 0x200u : 0u);
    int e = ex - 127 + 15;
    if (e >= 0x1f) return sign | 0x7c00u;
    if (e <= 0) {
        if (e < -10) return sign;
        mant |= 0x00800000u;
        uint shift = uint(14 - e);
        uint half_ = mant >> shift;
        uint rem = mant & ((1u << shift) - 1u);
        uint mid = 1u << (shift - 1u);
        if (rem > mid || (rem == mid && (half_ & 1u) != 0u)) half_++;
        return sign | half_;
    }
    uint h = sign | (uint(e) << 10) | (mant >> 13);
    uint rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) h++;
    return h & 0xffffu;
}

// A storage-buffer binding with typed load/store: NAME_ld(dtype, i) -> f32,
// NAME_st(dtype, i, v) rounds to the dtype. i32 converts like C casts. NAME_u /
// NAME_h / NAME_f are the raw 32-bit / 16-bit / f32 views for bit copies.
#define PF_BINDING(B, NAME)                                                          \
    layout(std430, binding = B) buffer NAME##_F { float NAME##_f[]; };               \
    layout(std430, binding = B) buffer NAME##_H { uint16_t NAME##_h[]; };            \
    layout(std430, binding = B) buffer NAME##_U { uint NAME##_u[]; };                \
    float NAME##_ld(uint dt, uint i) {                                               \
        if (dt == PF_F32) return NAME##_f[i];                                        \
        if (dt == PF_BF16) return pf_bf16_to_f32(uint(NAME##_h[i]));                 \
        if (dt == PF_F16) return pf_f16_to_f32(uint(NAME##_h[i]));                   \
        return float(int(NAME##_u[i]));                                              \
    }                                                                                \
    void NAME##_st(uint dt, uint i, float v) {                                       \
        if (dt == PF_F32) NAME##_f[i] = v;                                           \
        else if (dt == PF_BF16) NAME##_h[i] = uint16_t(pf_f32_to_bf16(v));           \
        else if (dt == PF_F16) NAME##_h[i] = uint16_t(pf_f32_to_f16(v));             \
        else NAME##_u[i] = uint(int(v));                                             \
    }

// Element-size bit copy between two bindings (2, 4 or 8 bytes; offsets in elements).
#define PF_BITCOPY(DST, SRC, ES, di, si)                                             \
    if (ES == 2u) DST##_h[di] = SRC##_h[si];                                         \
    else if (ES == 4u) DST##_u[di] = SRC##_u[si];                                    \
    else { DST##_u[2u * (di)] = SRC##_u[2u * (si)];                                  \
           DST##_u[2u * (di) + 1u] = SRC##_u[2u * (si) + 1u]; }

// Linear workgroup index of a dispatch the host split over x and y (groups beyond
// maxComputeWorkGroupCount[0] spill into y).
uint pf_group_linear() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }
