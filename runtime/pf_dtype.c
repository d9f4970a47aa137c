#include "pf_dtype.h"

#include <strings.h>

static const struct {
    const char *name;
    const char *st_name; /* safetensors spelling */
    size_t size;
    bool is_float;
} pf_dtype_info[PF_DTYPE_COUNT] = {
    [PF_F32] = {"f32", "F32", 4, true},   [PF_BF16] = {"bf16", "BF16", 2, true},
    [PF_F16] = {"f16", "F16", 2, true},   [PF_I32] = {"i32", "I32", 4, false},
    [PF_I64] = {"i64", "I64", 8, false},  [PF_U8] = {"u8", "U8", 1, false},
    [PF_BOOL] = {"bool", "BOOL", 1, false}, [PF_F64] = {"f64", "F64", 8, true},
};

size_t pf_dtype_size(pf_dtype t) { return (unsigned)t < PF_DTYPE_COUNT ? pf_dtype_info[t].size : 0; }

const char *pf_dtype_name(pf_dtype t) { return (unsigned)t < PF_DTYPE_COUNT ? pf_dtype_info[t].name : "?"; }

bool pf_dtype_is_float(pf_dtype t) { return (unsigned)t < PF_DTYPE_COUNT && pf_dtype_info[t].is_float; }

pf_status pf_dtype_parse(const char *s, pf_dtype *out) {
    for (int i = 0; i < PF_DTYPE_COUNT; i++) {
        if (!strcasecmp(s, pf_dtype_info[i].name) || !strcmp(s, pf_dtype_info[i].st_name)) {
            *out = (pf_dtype)i;
            return PF_OK;
        }
    }
    if (!strcasecmp(s, "float32")) { *out = PF_F32; return PF_OK; }
    if (!strcasecmp(s, "bfloat16")) { *out = PF_BF16; return PF_OK; }
    if (!strcasecmp(s, "float16")) { *out = PF_F16; return PF_OK; }
    return pf_error(PF_ERR_INVALID_ARG, "unknown dtype '%s'", s);
}

uint16_t pf_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t mant = x & 0x007fffffu;
    int32_t exp = (int32_t)((x >> 23) & 0xff);
    if (exp == 0xff) { /* Inf / NaN */
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    }
    int32_t e = exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u); /* overflow -> Inf */
    if (e <= 0) {                                      /* subnormal or zero */
        if (e < -10) return (uint16_t)sign;
        mant |= 0x00800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) half++; /* may carry into exponent: correct */
    return (uint16_t)half;
}

float pf_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ffu;
    uint32_t x;
    if (exp == 0) {
        if (mant == 0) {
            x = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 0x1f) {
        x = sign | 0x7f800000u | (mant << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

double pf_load_elem(const void *p, pf_dtype t, size_t i) {
    switch (t) {
    case PF_F32: return ((const float *)p)[i];
    case PF_BF16: return pf_bf16_to_f32(((const uint16_t *)p)[i]);
    case PF_F16: return pf_f16_to_f32(((const uint16_t *)p)[i]);
    case PF_I32: return ((const int32_t *)p)[i];
    case PF_I64: return (double)((const int64_t *)p)[i];
    case PF_U8: return ((const uint8_t *)p)[i];
    case PF_BOOL: return ((const uint8_t *)p)[i] ? 1.0 : 0.0;
    case PF_F64: return ((const double *)p)[i];
    default: return 0.0;
    }
}

void pf_store_elem(void *p, pf_dtype t, size_t i, double v) {
    switch (t) {
    case PF_F32: ((float *)p)[i] = (float)v; break;
    case PF_BF16: ((uint16_t *)p)[i] = pf_f32_to_bf16((float)v); break;
    case PF_F16: ((uint16_t *)p)[i] = pf_f32_to_f16((float)v); break;
    case PF_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case PF_I64: ((int64_t *)p)[i] = (int64_t)v; break;
    case PF_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case PF_BOOL: ((uint8_t *)p)[i] = v != 0.0; break;
    case PF_F64: ((double *)p)[i] = v; break;
    default: break;
    }
}

void pf_convert(void *dst, pf_dtype dt, const void *src, pf_dtype st, size_t n) {
    if (dt == st) {
        memcpy(dst, src, n * pf_dtype_size(dt));
        return;
    }
    /* fast paths for the float conversions used on every weight load */
    if (st == PF_F32 && dt == PF_BF16) {
        const float *s = src;
        uint16_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = pf_f32_to_bf16(s[i]);
        return;
    }
    if (st == PF_BF16 && dt == PF_F32) {
        const uint16_t *s = src;
        float *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = pf_bf16_to_f32(s[i]);
        return;
    }
    if (st == PF_F16 && dt == PF_F32) {
        const uint16_t *s = src;
        float *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = pf_f16_to_f32(s[i]);
        return;
    }
    if (st == PF_F32 && dt == PF_F16) {
        const float *s = src;
        uint16_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = pf_f32_to_f16(s[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) pf_store_elem(dst, dt, i, pf_load_elem(src, st, i));
}
