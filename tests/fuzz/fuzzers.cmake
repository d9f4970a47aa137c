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
# Tokenizers: prompts (any bytes) through the golden pack's T5 and CLIP tokenizers, and
# spiece.model bytes through the protobuf reader and the T5 conversion.
set(PF_FUZZ_TOK_SOURCES
    model/tokenizer.c model/tok_added.c model/tok_bpe.c model/tok_charsmap.c model/tok_clip.c
    model/tok_clip_clean.c model/tok_clip_mojibake.c model/tok_clip_pretok.c model/tok_cps.c
    model/tok_ftfy_tables.c model/tok_html_entities.c model/tok_jsonfile.c model/tok_map.c
    model/tok_spm_model.c model/tok_t5.c model/tok_t5_load.c model/tok_text.c model/tok_unigram.c)
pf_fuzzer(tok_t5 ${PF_FUZZ_TOK_SOURCES})
pf_fuzzer(tok_clip ${PF_FUZZ_TOK_SOURCES})
pf_fuzzer(tok_spm_model ${PF_FUZZ_TOK_SOURCES})
