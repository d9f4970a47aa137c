#!/usr/bin/env bash
# Runs the CUDA backend's host code and kernels on the CPU through a host emulation of
# the CUDA runtime, cuBLASLt and the kernel execution model, for machines without a GPU.
# NOT a GPU result: it checks the logic (indexing, tiling, barriers, the cuBLASLt
# argument mapping, stream ordering of transfers), not the hardware, the real cuBLASLt or
# the memory model. See docs/cuda.md.
#   tests/cuda_emu/run.sh [BUILD_DIR] [asan|tsan]
# Builds the library with PF_HAVE_CUDA against the emulation headers (g++ C++20 for the
# kernels), then runs test_conformance --backend cuda (and its conv3d cases under each
# PF_CUDA_CONV path), test_cuda_backend, test_cuda_host and the no-driver path
# (EMU_NO_DEVICE=1). Needs gcc/g++ >= 12, python3, cJSON, utf8proc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build-emu}
san=${2:-}
case "$san" in
  asan) SAN=("-fsanitize=address,undefined" -fno-omit-frame-pointer) ;;
  tsan) SAN=(-fsanitize=thread) ;;
  "") SAN=() ;;
  *) echo "usage: $0 [BUILD_DIR] [asan|tsan]" >&2; exit 2 ;;
esac
mkdir -p "$out/gen" "$out/obj"
INC=(-I"$here" -I"$here/include")
for d in include runtime backends backends/cpu model backends/cuda kernels; do INC+=(-I"$root/$d"); done
DEF=(-DPF_HAVE_CUDA -D_GNU_SOURCE '-DPF_CUDA_ARCHS="emulated"')
CF=(-O1 -g -ffp-contract=off "${SAN[@]}")
jobs=$(nproc)
pids=()
objs=()
wait_all() { for p in "${pids[@]}"; do wait "$p"; done; pids=(); }
for f in "$root"/kernels/*.cu; do
  b=$(basename "$f" .cu)
  python3 "$here/gen.py" "$f" "$out/gen/$b.cpp"
  g++ -std=c++20 "${CF[@]}" "${INC[@]}" "${DEF[@]}" -Wno-unknown-pragmas -pthread -c "$out/gen/$b.cpp" \
    -o "$out/obj/k_$b.o" &
  pids+=($!)
  objs+=("$out/obj/k_$b.o")
  [ ${#pids[@]} -ge "$jobs" ] && wait_all
done
g++ -std=c++20 "${CF[@]}" "${INC[@]}" -pthread -c "$here/emu_runtime.cpp" -o "$out/obj/emu_runtime.o"
objs+=("$out/obj/emu_runtime.o")
wait_all
for f in "$root"/runtime/*.c "$root"/backends/cpu/*.c "$root"/backends/cuda/*.c "$root"/model/*.c; do
  b=$(basename "$(dirname "$f")")_$(basename "$f" .c)
  gcc -std=c11 "${CF[@]}" "${INC[@]}" "${DEF[@]}" -Wall -Wextra -Wno-unused-parameter -c "$f" -o "$out/obj/$b.o" &
  pids+=($!)
  objs+=("$out/obj/$b.o")
  [ ${#pids[@]} -ge "$jobs" ] && wait_all
done
wait_all
TD=("-DPF_DEFAULT_GOLDEN_DIR=\"$root/../shared/golden\"" "-DPF_TEST_BINARY_DIR=\"$out\""
  "-DPF_TEST_DATA_DIR=\"$root/tests/data\"" -I"$root/tests" -I"$root/tests/conformance")
LIBS=(-lcjson -lutf8proc -lm -lstdc++ -pthread)
link() { gcc -std=c11 "${CF[@]}" "${INC[@]}" "${DEF[@]}" "${TD[@]}" "$@" "${objs[@]}" "${LIBS[@]}" "${SAN[@]}"; }
link "$root"/tests/conformance/{test_conformance,conformance,conformance_cases}.c -o "$out/test_conformance"
link "$root/tests/unit/test_cuda_backend.c" -o "$out/test_cuda_backend"
link "$root/tests/unit/test_cuda_host.c" -o "$out/test_cuda_host"
link "$root"/apps/*.c -o "$out/pflow"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}
rc=0
"$out/test_conformance" --backend cuda >"$out/conformance.log" 2>&1 || rc=1
tail -1 "$out/conformance.log"
# conv3d on each path: the direct kernel everywhere, the im2col + GEMM path everywhere in
# 128-position chunks (partial last chunks), on cuBLASLt and on the reference GEMM kernel,
# and the implicit-GEMM kernel for the bf16 convs
PF_CUDA_CONV=direct "$out/test_conformance" --backend cuda --op conv3d >"$out/conformance_conv_direct.log" 2>&1 || rc=1
echo "conv3d direct: $(tail -1 "$out/conformance_conv_direct.log")"
PF_CUDA_CONV=gemm PF_CUDA_CONV_CHUNK=1 "$out/test_conformance" --backend cuda --op conv3d \
  >"$out/conformance_conv_gemm.log" 2>&1 || rc=1
echo "conv3d GEMM, chunks: $(tail -1 "$out/conformance_conv_gemm.log")"
PF_CUDA_CONV=gemm PF_CUDA_CONV_CHUNK=1 PF_CUDA_GEMM=ref "$out/test_conformance" --backend cuda --op conv3d \
  >"$out/conformance_conv_gemm_ref.log" 2>&1 || rc=1
echo "conv3d GEMM, chunks, reference GEMM kernel: $(tail -1 "$out/conformance_conv_gemm_ref.log")"
PF_CUDA_CONV=implicit "$out/test_conformance" --backend cuda --op conv3d >"$out/conformance_conv_implicit.log" 2>&1 ||
  rc=1
echo "conv3d implicit GEMM: $(tail -1 "$out/conformance_conv_implicit.log")"
# the tensor-core attention kernel's other launch variants (the default ran above)
for v in w8-occ1 w4m2 w8m2; do
  PF_CUDA_ATTN=$v "$out/test_conformance" --backend cuda --op attention >"$out/conformance_attn_$v.log" 2>&1 || rc=1
  echo "attention PF_CUDA_ATTN=$v: $(tail -1 "$out/conformance_attn_$v.log")"
done
"$out/test_cuda_backend" 2>&1 | tail -1 || rc=1
"$out/test_cuda_host" 2>&1 | tail -1 || rc=1
# the no-driver path: every device test skips (77) with the reason
set +e
EMU_NO_DEVICE=1 "$out/test_cuda_backend" >"$out/no_device.log" 2>&1
nd=$?
set -e
[ $nd -eq 77 ] || { echo "no-device run exited $nd, expected 77"; rc=1; }
echo "cuda_emu: $([ $rc -eq 0 ] && echo all passed || echo FAILURES) (emulated, not a GPU result; logs in $out)"
exit $rc
