#!/usr/bin/env bash
# One-shot validation of the CUDA backend on a lent GPU machine (see docs/cuda.md).
# Prepare the checkout first on the development machine with ci/gpu_prepare.sh, then
# run from the device tool, in the repository root:
#   bash ci/gpu_check.sh            carry: [".golden", ".deps"]
#
# Steps (each under its own time limit, all within PF_GPU_BUDGET seconds, default 540):
#   env      nvidia-smi, nvcc; configure + build with CUDA only (no Vulkan, FFmpeg, libpng,
#            OpenBLAS), CMAKE_CUDA_ARCHITECTURES=$PF_GPU_ARCHS ("80;90a"), warnings as errors
#            with PF_GPU_WERROR=ON
#   tests    ctest -L 'unit|golden|conformance' (test_cuda_backend, test_conformance_cuda, ...)
#   conf     the conformance suite on cuda: cuBLASLt GEMMs, the reference GEMM kernel
#            (PF_CUDA_GEMM=ref) and synchronised per node (PF_CUDA_SYNC=1)
#   sanit    compute-sanitizer memcheck on the suite, racecheck/synccheck on the
#            shared-memory kernels
#   golden   pflow check-golden .golden --backend cuda --dtype f32 and --dtype bf16 (-v),
#            with the CPU's figures first for comparison
#   bench    pflow bench dit --backend cuda --variant miniflux --res 384p --unit 0 --stage 2
#            (bf16 weights; activations f32, then bf16) when this build has that bench
# Logs go to $OUT (at most 8 files: the device tool's limit), a summary table last.
# Exit status: 0 when every step that ran passed, 2 when the build finds no CUDA device.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
OUT=${OUT:-$root/out/gpu_check}
mkdir -p "$OUT"
budget=${PF_GPU_BUDGET:-540}
archs=${PF_GPU_ARCHS:-80;90a}
jobs=$(nproc)
t_start=$(date +%s)
. "$root/ci/device_lib.sh"
build=$root/build-gpu
bin=$build
tests=$build/tests

# ---- environment and build
{
  echo "date: $(date -u)"
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv 2>&1
  nvcc --version 2>&1 | tail -2
  cmake --version | head -1
  echo "golden: ${PF_GOLDEN_DIR:-none}; deps: $CMAKE_PREFIX_PATH"
} >>"$OUT/build.log" 2>&1
# Warnings are errors here (PF_WERROR) but not there by default: the machine's host compiler
# may warn about things this one does not, and a failed build would waste the lease.
generator=Ninja
command -v ninja >/dev/null 2>&1 || generator="Unix Makefiles"
step configure 120 build.log cmake -S . -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
  "-DPF_WERROR=${PF_GPU_WERROR:-OFF}" -DPF_CUDA=ON \
  -DPF_VULKAN=OFF -DPF_FFMPEG=OFF -DPF_PNG=OFF -DPF_OPENBLAS=OFF -DPF_FUZZ=OFF "-DCMAKE_CUDA_ARCHITECTURES=$archs" ||
  { cat "$summary"; exit 1; }
step build 300 build.log cmake --build "$build" -j "$jobs" || { cat "$summary"; exit 1; }
step "pflow devices" 30 build.log "$bin/pflow" devices

# ---- test suite (unit includes test_cuda_backend; conformance includes test_conformance_cuda)
step "ctest unit|golden|conformance" 180 tests.log ctest --test-dir "$build" -L 'unit|golden|conformance' \
  -LE conformance_full --output-on-failure -j 4

# ---- without a usable CUDA device the GPU steps below have nothing to run on
nodev=$("$bin/pflow" devices 2>&1 | grep -E '^cuda +unavailable' || true)
if [ -n "$nodev" ]; then
  printf '%-34s FAIL  (%s)\n' "cuda device" "$nodev" | tee -a "$summary"
  echo "==== summary"
  cat "$summary"
  exit 2
fi

# ---- conformance on cuda, three ways
step "conformance cuda" 90 conformance.log "$tests/test_conformance" --backend cuda
step "conformance cuda GEMM=ref linear" 60 conformance.log env PF_CUDA_GEMM=ref "$tests/test_conformance" --backend cuda --op linear
step "conformance cuda GEMM=ref matmul" 60 conformance.log env PF_CUDA_GEMM=ref "$tests/test_conformance" --backend cuda --op matmul
step "conformance cuda SYNC=1" 90 conformance.log env PF_CUDA_SYNC=1 "$tests/test_conformance" --backend cuda

# ---- sanitizers: out-of-bounds and uninitialised accesses everywhere, shared-memory races
if command -v compute-sanitizer >/dev/null 2>&1; then
  cs=(compute-sanitizer --error-exitcode 3 --print-limit 20)
  step "memcheck conformance" 150 sanitizer.log "${cs[@]}" --tool memcheck "$tests/test_conformance" --backend cuda
  step "memcheck test_cuda_backend" 120 sanitizer.log "${cs[@]}" --tool memcheck "$tests/test_cuda_backend" ops_by_hand
  for op in attention layer_norm group_norm softmax conv3d linear; do
    step "racecheck $op" 60 sanitizer.log "${cs[@]}" --tool racecheck "$tests/test_conformance" --backend cuda --op "$op"
  done
  step "synccheck attention" 60 sanitizer.log "${cs[@]}" --tool synccheck "$tests/test_conformance" --backend cuda --op attention
else
  echo "compute-sanitizer not found" >>"$OUT/sanitizer.log"
  printf '%-34s SKIP  (no compute-sanitizer)\n' sanitizers | tee -a "$summary"
fi

# ---- golden pack
if [ -n "${PF_GOLDEN_DIR:-}" ]; then
  step "check-golden cpu f32 (reference)" 90 golden_f32.log "$bin/pflow" check-golden "$PF_GOLDEN_DIR" --backend cpu
  step "check-golden cuda f32" 90 golden_f32.log "$bin/pflow" check-golden "$PF_GOLDEN_DIR" --backend cuda --dtype f32 -v
  step "check-golden cuda bf16" 90 golden_bf16.log "$bin/pflow" check-golden "$PF_GOLDEN_DIR" --backend cuda --dtype bf16 -v
else
  printf '%-34s SKIP  (no .golden: run ci/gpu_prepare.sh and carry .golden)\n' check-golden | tee -a "$summary"
fi

# ---- DiT benchmark (written by the DiT work; run when this build has it)
if "$bin/pflow" bench --help 2>&1 | grep -qE '^ +dit '; then
  for act in f32 bf16; do
    step "bench dit miniflux 384p act $act" 120 bench.log "$bin/pflow" bench dit --backend cuda --variant miniflux \
      --res 384p --unit 0 --stage 2 --act $act
  done
else
  "$bin/pflow" bench --help >>"$OUT/bench.log" 2>&1
  printf '%-34s SKIP  (no dit bench in this build)\n' "bench dit" | tee -a "$summary"
fi

# ---- summary (the device tool returns the end of the output)
{
  echo
  echo "gpu_check: $(($(date +%s) - t_start)) s of $budget s; logs in $OUT"
  grep -hE "^backend cuda:|passed, .* failed|tests, .* failed|ERROR SUMMARY|RACECHECK SUMMARY" \
    "$OUT"/conformance.log "$OUT"/tests.log "$OUT"/sanitizer.log "$OUT"/golden_*.log 2>/dev/null | sort | uniq -c
} >>"$summary"
echo "==== summary"
cat "$summary"
exit $failed
