#version 450
// Configure-time probe: can glslc compile 16-bit storage (every pflow shader needs it)?
#extension GL_EXT_shader_16bit_storage : require
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer B { uint16_t h[]; };
void main() { h[0] = uint16_t(uint(h[1]) + 1u); }
