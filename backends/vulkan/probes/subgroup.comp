#version 450
// Configure-time probe: can glslc compile subgroup arithmetic (the *_sg shader variants)?
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer B { float f[]; };
void main() { f[gl_LocalInvocationID.x] = subgroupAdd(f[gl_LocalInvocationID.x]); }
