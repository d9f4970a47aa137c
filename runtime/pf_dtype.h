/* Element types and the conversions between them. */
#ifndef PF_DTYPE_H
#define PF_DTYPE_H

#include "pf_common.h"

#include <math.h>

typedef enum pf_dtype {
    PF_F32 = 0,
    PF_BF16,
    PF_F16,
    PF_I32,
    PF_I64,
    PF_U8,
    PF_BOOL, /* 1 byte, 0 or 1 */
    PF_F64,  /* file readers and host tables only; no backend computes in it */
    PF_DTYPE_COUNT
} pf_dtype;

size_t pf_dtype_size(pf_dtype t);
const char *pf_dtype_name(pf_dtype t);        /* "f32", "bf16", ... */
bool pf_dtype_is_float(pf_dtype t);           /* f32, bf16, f16, f64 */
/* Parse "f32"/"F32"/"bf16"/"BF16"/... (safetensors spellings too). */
pf_status pf_dtype_parse(const char *s, pf_dtype *out);

/* bf16: upper 16 bits of an f32, rounded to nearest even; NaN stays NaN. */
static inline uint16_t pf_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float pf_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Round an f32 to the nearest bf16 value, kept as f32. */
static inline float pf_round_bf16(float f) { return pf_bf16_to_f32(pf_f32_to_bf16(f)); }

uint16_t pf_f32_to_f16(float f);
float pf_f16_to_f32(uint16_t h);

/* Convert n elements between any two dtypes (float<->int casts truncate like C). */
void pf_convert(void *dst, pf_dtype dt, const void *src, pf_dtype st, size_t n);

/* Read element i of a typed array as double / write one. */
double pf_load_elem(const void *p, pf_dtype t, size_t i);
void pf_store_elem(void *p, pf_dtype t, size_t i, double v);

#endif /* PF_DTYPE_H */
