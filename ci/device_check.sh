#!/usr/bin/env bash
# The whole GPU validation in one device call: CUDA and Vulkan in one build, then, in order
# of importance (each step under its own limit, all within PF_GPU_BUDGET seconds, default 480):
#   build     CUDA (CMAKE_CUDA_ARCHITECTURES=$PF_GPU_ARCHS, default 90a: the lent cards are
#             Hopper) + Vulkan from the SPIR-V, headers and volk staged in .vkcarry; no
#             FFmpeg, libpng, OpenBLAS (the machine has no Debian -dev libraries)
#   tests     test_cuda_backend, test_vulkan (the backends' own unit tests)
#   conform   the CI conformance list on vulkan (the NVIDIA driver) and cuda (both attention
#             kernels: the tensor-core one and PF_CUDA_ATTN=simple)
#   golden    pflow check-golden on vulkan and cuda at f32 and bf16
#   bench     pflow bench dit at bf16: cuda with the 8192^3 bf16 GEMM peak first, vulkan on the
#             same card, the per-op Vulkan profile of one block, the other rows of the CUDA
#             table (miniFLUX and SD3: 384p unit 0 and 15, 768p unit 0; stage 2), nsys's
#             kernel table of one call
#             and miniFLUX 384p unit 0 again without CUDA graphs, and without graphs or fusion;
#             the CUDA per-node profile (PF_CUDA_PROFILE=1) of miniFLUX 768p and 384p unit 0,
#             its tables in cuda_profile.log
#   ops       pflow bench ops on cuda (DiT linears and attention, the VAE's convolutions) and
#             tools/cudnn_reference.py on the same shapes (cuBLAS, SDPA flash/cuDNN, cuDNN conv3d)
#   e2e       bench vae (384p, 16 latent frames), bench generate (768p temp 2, 384p temp 16), the
#             memory plan of a 10 s 768p video and the measured peak of its largest DiT call
#   full      the conformance_full sweep (every backend of the build) over the op list of an
#             SD3 stage-2 call
# compute-sanitizer memcheck on the attention cases runs after the golden checks.
# Prepare here first: bash ci/device_prepare.sh. Device call (docs/cuda.md):
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; bash ci/device_check.sh
#   carry [".vkcarry", ".golden", ".deps", ".gl"]
# Logs in $OUT, a summary table last (the device tool returns the end of the output).
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

# ---- correctness
step "test_cuda_backend" 60 tests.log "$tests/test_cuda_backend"
step "test_vulkan" 60 tests.log "$tests/test_vulkan"
step "generate on cuda, vulkan vs cpu" 60 tests.log "$tests/test_cli_backends"
step "conformance vulkan" 40 conformance.log "$tests/test_conformance" --backend vulkan
step "conformance cuda" 90 conformance.log "$tests/test_conformance" --backend cuda
step "conformance cuda attention simple" 60 conformance.log env PF_CUDA_ATTN=simple "$tests/test_conformance" \
  --backend cuda --op attention
step "conformance cuda conv3d direct" 40 conformance.log env PF_CUDA_CONV=direct "$tests/test_conformance" \
  --backend cuda --op conv3d
step "conformance cuda conv3d gemm chunks" 40 conformance.log env PF_CUDA_CONV=gemm PF_CUDA_CONV_CHUNK=1 \
  "$tests/test_conformance" --backend cuda --op conv3d
if [ -n "${PF_GOLDEN_DIR:-}" ]; then
  for be in vulkan cuda; do
    step "check-golden $be f32" 40 golden.log "$bin" check-golden "$PF_GOLDEN_DIR" --backend $be --dtype f32 -v
    step "check-golden $be bf16" 40 golden.log "$bin" check-golden "$PF_GOLDEN_DIR" --backend $be --dtype bf16 -v
  done
else
  printf '%-40s SKIP  (no .golden)\n' check-golden | tee -a "$summary"
fi

if command -v compute-sanitizer >/dev/null 2>&1; then
  step "memcheck conformance cuda attention" 45 full.log compute-sanitizer --error-exitcode 3 --print-limit 20 \
    --tool memcheck "$tests/test_conformance" --backend cuda --op attention
fi

# ---- speed (benchmarks: figures, not verdicts); bf16 weights and activations, the GPU path
bd=("$bin" bench dit --stage 2 --act bf16)
step "bench dit cuda miniflux 384p u0" 60 bench.log "${bd[@]}" --backend cuda --variant miniflux --res 384p --unit 0 \
  --gemm-peak 8192 --reps 10
step "bench dit vulkan miniflux 384p u0" 45 bench.log "${bd[@]}" --backend vulkan --variant miniflux --res 384p \
  --unit 0 --gemm-peak 8192 --reps 3
step "vulkan profile: one double block" 30 bench.log env PF_VK_PROFILE=1 "${bd[@]}" --backend vulkan \
  --variant miniflux --res 384p --unit 0 --blocks 1,0 --reps 1
# what each speed feature brings, same card, same call (fusion and CUDA graphs off)
step "bench dit cuda u0 no graphs" 45 bench.log env PF_CUDA_GRAPHS=0 "${bd[@]}" --backend cuda --variant miniflux \
  --res 384p --unit 0 --reps 10
step "bench dit cuda u0 no graphs no fusion" 45 bench.log env PF_CUDA_GRAPHS=0 PF_CUDA_FUSE=0 "${bd[@]}" \
  --backend cuda --variant miniflux --res 384p --unit 0 --reps 10
for row in "miniflux 384p 15" "miniflux 768p 0" "sd3 384p 0" "sd3 384p 15" "sd3 768p 0"; do
  set -- $row
  step "bench dit cuda $1 $2 u$3" 45 bench.log "${bd[@]}" --backend cuda --variant "$1" --res "$2" --unit "$3" \
    --reps 5
done
# where a DiT call's GPU time goes, per node and fused pair (events around each node, no CUDA
# graphs): a table after each call (the first and the timed one) on stderr
for res in 768p 384p; do
  step "cuda profile miniflux $res u0" 45 cuda_profile.log env PF_CUDA_PROFILE=1 "${bd[@]}" --backend cuda \
    --variant miniflux --res $res --unit 0 --reps 1
done
if command -v nsys >/dev/null 2>&1; then # where the time goes: the kernel table of one call
  step "nsys: cuda miniflux 384p u15" 60 profile.log nsys profile -o "$build/u15" --force-overwrite true \
    --stats=true --report cuda_gpu_kern_sum "${bd[@]}" --backend cuda --variant miniflux --res 384p --unit 15 --reps 1
fi

# ---- single ops against the vendor libraries on the same card (cuBLAS, cuDNN through PyTorch)
step "bench ops cuda" 90 ops.log "$bin" bench ops --backend cuda --reps 5
if python3 -c "import torch; assert torch.cuda.is_available()" >/dev/null 2>&1; then
  step "cudnn reference (PyTorch)" 90 ops.log python3 tools/cudnn_reference.py 5
fi

# ---- end to end (issue 11): VAE decode of a 5 s 384p video, then whole generations
step "bench vae cuda 384p 16 frames" 90 e2e.log "$bin" bench vae --backend cuda --res 384p --frames 16 --dtype bf16
step "bench generate cuda 768p temp 2" 60 e2e.log "$bin" bench generate --backend cuda --variant miniflux \
  --res 768p --temp 2
step "bench generate cuda 384p temp 16" 120 e2e.log "$bin" bench generate --backend cuda --variant miniflux \
  --res 384p --temp 16
# memory of a 10 s 768p video (31 latent frames): the plan, then the measured peak of its largest DiT call
step "memory plan 768p temp 31" 20 e2e.log "$bin" bench generate --dry --variant miniflux --res 768p --temp 31
step "bench dit cuda miniflux 768p u30 (largest call)" 60 e2e.log "${bd[@]}" --backend cuda --variant miniflux \
  --res 768p --unit 30 --reps 2

# ---- what time is left: the full sweep of one DiT call's ops
step "conformance_full sd3 384p u3s2" 50 full.log "$tests/test_conformance_full" --origin "sd3 384p u3s2" --budget 2

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
