#!/usr/bin/env bash
# The whole GPU validation in one device call: CUDA and Vulkan in one build, then, in order
# of importance (each step under its own limit, all within PF_GPU_BUDGET seconds, default 480):
#   build     CUDA (CMAKE_CUDA_ARCHITECTURES=$PF_GPU_ARCHS, default 90a: the lent cards are
#             Hopper) + Vulkan from the SPIR-V, headers and volk staged in .vkcarry; no
#             FFmpeg, libpng, OpenBLAS (the machine has no Debian -dev libraries)
#   cuda      test_cuda_backend, the CI conformance list on cuda (both attention kernels: the
#             tensor-core one and PF_CUDA_ATTN=simple), pflow check-golden on cuda at f32 and bf16
#   bench     pflow bench dit at bf16: the attention kernel's launch variants on miniFLUX 768p
#             unit 0 (the fastest is used from then on), then the rows of issue 10 (miniFLUX and
#             SD3: 384p unit 0 and 15, 768p unit 0; stage 2), the 8192^3 bf16 GEMM peak first
#   e2e       bench vae (384p, 16 latent frames; again with PF_CUDA_CONV=implicit after its
#             conformance), bench generate (768p temp 2, 384p and 768p
#             temp 16), the memory plan of a 10 s 768p video and the measured peak of its
#             largest DiT call
#   profile   PF_CUDA_PROFILE tables of the VAE decode (2 frames) and of miniFLUX 768p and 384p
#             unit 0 (cuda_profile.log); 384p unit 0 without CUDA graphs, and without graphs or
#             fusion
#   rest      test_cli_backends, the conv3d paths, compute-sanitizer memcheck on attention,
#             test_vulkan, conformance and check-golden on vulkan (the NVIDIA driver), bench dit
#             on vulkan, bench ops and tools/cudnn_reference.py (cuBLAS, SDPA, cuDNN conv3d),
#             nsys's kernel table, the conformance_full sweep over the op list of an SD3
#             stage-2 call
# Steps run in this order, so a short budget keeps the issues' checks and figures.
# Prepare here first: bash ci/device_prepare.sh. Device call (docs/cuda.md):
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; bash ci/device_check.sh
#   carry [".vkcarry", ".golden", ".deps", ".gl"]
# Logs in $OUT (7 files: the device tool returns at most 8), a summary table last (the tool
# returns the end of the output).
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
OUT=${OUT:-$root/out/device_check}
mkdir -p "$OUT"
budget=${PF_GPU_BUDGET:-480}
archs=${PF_GPU_ARCHS:-90a}
t_start=$(date +%s)
. "$root/ci/device_lib.sh"
build=$root/build-dev
bin=$build/pflow
tests=$build/tests

{
  echo "date: $(date -u)"
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv 2>&1
  nvcc --version 2>&1 | tail -2
  cmake --version | head -1
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
  ldconfig -p | grep -E 'libvulkan|libcuda\.' || true
} >>"$OUT/build.log" 2>&1

vk_opts=(-DPF_VULKAN=OFF)
if [ -d .vkcarry/spv ]; then
  vk_opts=(-DPF_VULKAN=ON "-DPF_VULKAN_SPIRV_DIR=$root/.vkcarry/spv" "-DPF_VULKAN_INCLUDE=$root/.vkcarry/include"
    "-DPF_VOLK_INCLUDE=$root/.vkcarry/include" -DPF_GLSLC=PF_GLSLC-NOTFOUND)
fi
generator=Ninja
command -v ninja >/dev/null 2>&1 || generator="Unix Makefiles"
step configure 90 build.log cmake -S . -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DPF_WERROR=OFF \
  -DPF_CUDA=ON "${vk_opts[@]}" -DPF_FFMPEG=OFF -DPF_PNG=OFF -DPF_OPENBLAS=OFF -DPF_FUZZ=OFF \
  "-DCMAKE_CUDA_ARCHITECTURES=$archs"
step build 240 build.log cmake --build "$build" -j "$(nproc)"
if [ ! -x "$bin" ]; then
  echo "==== summary"
  cat "$summary"
  tail -40 "$OUT/build.log"
  exit 1
fi
step "pflow devices" 20 build.log "$bin" devices
cat "$OUT/build.log" | grep -A2 -E '^(cuda|vulkan) ' | head -8

# ---- correctness on CUDA first (the issues' "done when"), then speed, then Vulkan and the rest
step "test_cuda_backend" 60 check.log "$tests/test_cuda_backend"
step "conformance cuda" 90 check.log "$tests/test_conformance" --backend cuda
step "conformance cuda attention simple" 60 check.log env PF_CUDA_ATTN=simple "$tests/test_conformance" \
  --backend cuda --op attention
for v in w8 w8-occ1 w4m2 w8m2; do # the tensor-core kernel's launch variants
  step "conformance cuda attention $v" 30 check.log env PF_CUDA_ATTN=$v "$tests/test_conformance" \
    --backend cuda --op attention
done
if [ -n "${PF_GOLDEN_DIR:-}" ]; then
  for dt in f32 bf16; do
    step "check-golden cuda $dt" 60 check.log "$bin" check-golden "$PF_GOLDEN_DIR" --backend cuda --dtype $dt -v
  done
else
  printf '%-40s SKIP  (no .golden)\n' check-golden | tee -a "$summary"
fi

# ---- speed (benchmarks: figures, not verdicts); bf16 weights and activations, the GPU path
bd=("$bin" bench dit --stage 2 --act bf16)
# the tensor-core attention kernel's launch variants on the largest first-frame call; the
# fastest is used for every later step (exported PF_CUDA_ATTN)
best= best_t=
for v in w8 w8-occ1 w4m2 w8m2; do
  name="bench dit cuda 768p u0 PF_CUDA_ATTN=$v"
  step "$name" 30 bench.log env PF_CUDA_ATTN=$v "${bd[@]}" --backend cuda --variant miniflux --res 768p --unit 0 \
    --reps 5 || continue
  t=$(awk -v n="===== $name:" 'index($0, n) == 1 {f = 1; next} /^=====/ {f = 0} f && /^  per call/ {print $3}' \
    "$OUT/bench.log" | tail -1)
  [ -n "$t" ] && { [ -z "$best" ] || awk -v a="$t" -v b="$best_t" 'BEGIN {exit !(a < b)}'; } && best=$v best_t=$t
done
[ -n "$best" ] && export PF_CUDA_ATTN=$best
printf '%-40s %s (%s s per call)\n' "attention variant used below" "${best:-default}" "${best_t:-?}" | tee -a "$summary"
step "bench dit cuda miniflux 384p u0" 60 bench.log "${bd[@]}" --backend cuda --variant miniflux --res 384p --unit 0 \
  --gemm-peak 8192 --reps 10
for row in "miniflux 384p 15" "miniflux 768p 0" "sd3 384p 0" "sd3 384p 15" "sd3 768p 0"; do
  set -- $row
  step "bench dit cuda $1 $2 u$3" 45 bench.log "${bd[@]}" --backend cuda --variant "$1" --res "$2" --unit "$3" \
    --reps 5
done

# ---- end to end (issue 11): VAE decode of a 5 s 384p video, then whole generations
step "bench vae cuda 384p 16 frames" 90 e2e.log "$bin" bench vae --backend cuda --res 384p --frames 16 --dtype bf16
# the implicit-GEMM conv3d (opt-in until measured): correct, then the same decode and the single convs
step "conformance cuda conv3d implicit" 30 check.log env PF_CUDA_CONV=implicit "$tests/test_conformance" \
  --backend cuda --op conv3d &&
  step "bench vae cuda 384p 16 frames implicit" 90 e2e.log env PF_CUDA_CONV=implicit "$bin" bench vae \
    --backend cuda --res 384p --frames 16 --dtype bf16
step "bench generate cuda 768p temp 2" 60 e2e.log "$bin" bench generate --backend cuda --variant miniflux \
  --res 768p --temp 2
step "bench generate cuda 384p temp 16" 120 e2e.log "$bin" bench generate --backend cuda --variant miniflux \
  --res 384p --temp 16
# the README's headline case, 5 s at 768p
step "bench generate cuda 768p temp 16" 150 e2e.log "$bin" bench generate --backend cuda --variant miniflux \
  --res 768p --temp 16
# memory of a 10 s 768p video (31 latent frames): the plan, then the measured peak of its largest DiT call
step "memory plan 768p temp 31" 20 e2e.log "$bin" bench generate --dry --variant miniflux --res 768p --temp 31
step "bench dit cuda miniflux 768p u30 (largest call)" 60 e2e.log "${bd[@]}" --backend cuda --variant miniflux \
  --res 768p --unit 30 --reps 2

# where the VAE decode's GPU time goes: one table summed over its chunk runs (2 latent frames)
step "cuda profile vae 384p 2 frames" 45 cuda_profile.log env PF_CUDA_PROFILE=total "$bin" bench vae \
  --backend cuda --res 384p --frames 2 --dtype bf16
# where a DiT call's GPU time goes, per node and fused pair (events around each node, no CUDA
# graphs): a table after each call (the first and the timed one) on stderr
for res in 768p 384p; do
  step "cuda profile miniflux $res u0" 45 cuda_profile.log env PF_CUDA_PROFILE=1 "${bd[@]}" --backend cuda \
    --variant miniflux --res $res --unit 0 --reps 1
done
# what each speed feature brings, same card, same call (fusion and CUDA graphs off)
step "bench dit cuda u0 no graphs" 45 bench.log env PF_CUDA_GRAPHS=0 "${bd[@]}" --backend cuda --variant miniflux \
  --res 384p --unit 0 --reps 10
step "bench dit cuda u0 no graphs no fusion" 45 bench.log env PF_CUDA_GRAPHS=0 PF_CUDA_FUSE=0 "${bd[@]}" \
  --backend cuda --variant miniflux --res 384p --unit 0 --reps 10

# ---- the rest of the correctness checks: other CUDA paths, the CLI, Vulkan on the NVIDIA driver
step "generate on cuda, vulkan vs cpu" 60 check.log "$tests/test_cli_backends"
step "conformance cuda conv3d direct" 40 check.log env PF_CUDA_CONV=direct "$tests/test_conformance" \
  --backend cuda --op conv3d
step "conformance cuda conv3d gemm chunks" 40 check.log env PF_CUDA_CONV=gemm PF_CUDA_CONV_CHUNK=1 \
  "$tests/test_conformance" --backend cuda --op conv3d
if command -v compute-sanitizer >/dev/null 2>&1; then
  step "memcheck conformance cuda attention" 45 rest.log compute-sanitizer --error-exitcode 3 --print-limit 20 \
    --tool memcheck "$tests/test_conformance" --backend cuda --op attention
fi
step "test_vulkan" 60 check.log "$tests/test_vulkan"
step "conformance vulkan" 40 check.log "$tests/test_conformance" --backend vulkan
if [ -n "${PF_GOLDEN_DIR:-}" ]; then
  for dt in f32 bf16; do
    step "check-golden vulkan $dt" 40 check.log "$bin" check-golden "$PF_GOLDEN_DIR" --backend vulkan --dtype $dt -v
  done
fi
step "bench dit vulkan miniflux 384p u0" 45 bench.log "${bd[@]}" --backend vulkan --variant miniflux --res 384p \
  --unit 0 --gemm-peak 8192 --reps 3

# ---- single ops against the vendor libraries on the same card (cuBLAS, cuDNN through PyTorch)
step "bench ops cuda" 90 rest.log "$bin" bench ops --backend cuda --reps 5
step "bench ops cuda implicit conv3d" 90 rest.log env PF_CUDA_CONV=implicit "$bin" bench ops --backend cuda --reps 5
if python3 -c "import torch; assert torch.cuda.is_available()" >/dev/null 2>&1; then
  step "cudnn reference (PyTorch)" 90 rest.log python3 tools/cudnn_reference.py 5
fi
if command -v nsys >/dev/null 2>&1; then # where the time goes: the kernel table of one call
  step "nsys: cuda miniflux 384p u15" 60 rest.log nsys profile -o "$build/u15" --force-overwrite true \
    --stats=true --report cuda_gpu_kern_sum "${bd[@]}" --backend cuda --variant miniflux --res 384p --unit 15 --reps 1
fi

# ---- what time is left: the full sweep of one DiT call's ops
step "conformance_full sd3 384p u3s2" 50 rest.log "$tests/test_conformance_full" --origin "sd3 384p u3s2" --budget 2

{
  echo
  echo "device_check: $(($(date +%s) - t_start)) s of $budget s; logs in $OUT"
  # the profiled runs' speed lines are no figures (node by node, events): only their totals and shares
  pat="^backend (cuda|vulkan):|passed, .* failed|layout|per call|GEMM peak|throughput|fusion|CUDA graphs"
  pat+="|ERROR SUMMARY|measured|device peak"
  grep -hE --exclude=cuda_profile.log "$pat" "$OUT"/*.log 2>/dev/null | head -80
  grep -hE "^cuda profile|by op:" "$OUT/cuda_profile.log" 2>/dev/null | tail -4
} >>"$summary"
echo "==== summary"
cat "$summary"
exit $failed
