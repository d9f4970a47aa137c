# cmake -DIN=x.spv -DOUT=x.inc -P embed_spirv.cmake
# Writes the bytes of a SPIR-V module as a C initializer list ("0x03,0x02,...").
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR rem "${n} % 8")
if(n LESS 40 OR NOT rem EQUAL 0)
  message(FATAL_ERROR "${IN}: ${n} hex digits, not a SPIR-V module")
endif()
string(SUBSTRING "${hex}" 0 8 magic)
if(NOT magic STREQUAL "03022307")
  message(FATAL_ERROR "${IN}: bad SPIR-V magic ${magic} (expected little-endian 0x07230203)")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# 16 bytes per line
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "${bytes}\n")
