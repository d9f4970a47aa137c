# The fuzz targets: one line each, pf_fuzzer(NAME LIBRARY_SOURCES...).
#   tests/fuzz/fuzz_NAME.c      defines LLVMFuzzerTestOneInput
#   tests/fuzz/corpus/NAME/     a few tiny seed inputs (committed)
#   LIBRARY_SOURCES             the pflow sources it needs, relative to the source root, beyond
#                               runtime/pf_common.c, pf_dtype.c and pf_mapfile.c (always linked)
# Included by tests/fuzz/CMakeLists.txt (ctest registration, label `fuzz`) and by
# tests/fuzz/project/CMakeLists.txt (the clang build).
pf_fuzzer(safetensors runtime/pf_safetensors.c)
pf_fuzzer(torchzip runtime/pf_torchzip.c)
pf_fuzzer(json runtime/pf_json.c)
