#ifndef EMU_CUDA_FP16_H
#define EMU_CUDA_FP16_H
#include <stdint.h>
#include <string.h>
struct __half {
    uint16_t x;
};
static inline __half __ushort_as_half(unsigned short h) {
    __half r;
    r.x = h;
    return r;
}
static inline float __half2float(__half h) {
    uint32_t sign = (uint32_t)(h.x & 0x8000u) << 16, exp = (h.x >> 10) & 0x1f, mant = h.x & 0x3ffu, u;
    if (exp == 0) {
        if (mant == 0)
            u = sign;
        else {
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 0x1f)
        u = sign | 0x7f800000u | (mant << 13);
    else
        u = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
#endif
