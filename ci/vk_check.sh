#!/usr/bin/env bash
# One-shot validation of the Vulkan backend on a machine with a Vulkan driver, built
# without glslc or system Vulkan headers from what ci/vk_prepare.sh staged (docs/vulkan.md):
#   bash ci/vk_check.sh            carry: [".vkcarry", ".golden", ".deps"]
# Steps, all within PF_GPU_BUDGET seconds (default 540): configure + build with Vulkan
# only (-DPF_VULKAN_SPIRV_DIR=.vkcarry/spv), pflow devices, the Vulkan unit tests, the
# conformance suite (and its fallback paths), check-golden on vulkan at f32 and bf16 (CPU
# figures first), one DiT block's per-op profile and the full miniFLUX forward (bench dit).
# Logs go to $OUT (default out/vk_check), a summary table last. PF_VK_CHECK_BENCH=0 skips
# the benchmarks (for CPU drivers such as lavapipe, where the script was tried).
# Exit status: 0 when every step that ran passed, 2 when the build finds no Vulkan device.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
OUT=${OUT:-$root/out/vk_check}
mkdir -p "$OUT"
budget=${PF_GPU_BUDGET:-540}
t_start=$(date +%s)
. "$root/ci/device_lib.sh"
build=$root/build-vk
tests=$build/tests

[ -d .vkcarry/spv ] || { echo "vk_check: no .vkcarry (run ci/vk_prepare.sh and carry .vkcarry)" | tee -a "$summary"; exit 1; }
generator=Ninja
command -v ninja >/dev/null 2>&1 || generator="Unix Makefiles"
step configure 120 build.log cmake -S . -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
  "-DPF_WERROR=${PF_GPU_WERROR:-OFF}" -DPF_VULKAN=ON -DPF_CUDA=OFF -DPF_FFMPEG=OFF -DPF_PNG=OFF \
  -DPF_OPENBLAS=OFF -DPF_FUZZ=OFF "-DPF_VULKAN_SPIRV_DIR=$root/.vkcarry/spv" \
  "-DPF_VULKAN_INCLUDE=$root/.vkcarry/include" "-DPF_VOLK_INCLUDE=$root/.vkcarry/include" \
  -DPF_GLSLC=PF_GLSLC-NOTFOUND || { cat "$summary"; exit 1; }
step build 300 build.log cmake --build "$build" -j "$(nproc)" || { cat "$summary"; exit 1; }
step "pflow devices" 30 build.log "$build/pflow" devices
if "$build/pflow" devices 2>&1 | grep -qE '^vulkan +unavailable'; then
  printf '%-34s FAIL  (%s)\n' "vulkan device" "$("$build/pflow" devices 2>&1 | grep -E '^vulkan')" | tee -a "$summary"
  cat "$summary"
  exit 2
fi
step "test_vulkan" 60 tests.log "$tests/test_vulkan"
step "conformance vulkan" 120 conformance.log "$tests/test_conformance" --backend vulkan
step "conformance vulkan fallbacks" 120 conformance.log ctest --test-dir "$build" -R test_conformance_vulkan_fallbacks \
  --output-on-failure
if [ -n "${PF_GOLDEN_DIR:-}" ]; then
  step "check-golden cpu f32 (reference)" 90 golden.log "$build/pflow" check-golden "$PF_GOLDEN_DIR" --backend cpu
  step "check-golden vulkan f32" 180 golden.log "$build/pflow" check-golden "$PF_GOLDEN_DIR" --backend vulkan -v
  step "check-golden vulkan bf16" 180 golden.log "$build/pflow" check-golden "$PF_GOLDEN_DIR" --backend vulkan \
    --dtype bf16 -v
else
  printf '%-34s SKIP  (no .golden)\n' check-golden | tee -a "$summary"
fi
if [ "${PF_VK_CHECK_BENCH:-1}" = 0 ]; then # CPU drivers: the released-size forward takes hours
  printf '%-34s SKIP  (PF_VK_CHECK_BENCH=0)\n' bench | tee -a "$summary"
else
step "profile: one miniFLUX double block" 90 bench.log env PF_VK_PROFILE=1 "$build/pflow" bench dit --backend vulkan \
  --variant miniflux --res 384p --unit 0 --stage 2 --blocks 1,0
step "bench dit miniflux 384p" 120 bench.log "$build/pflow" bench dit --backend vulkan --variant miniflux --res 384p \
  --unit 0 --stage 2 --reps 3
fi
{
  echo
  echo "vk_check: $(($(date +%s) - t_start)) s of $budget s; logs in $OUT"
  grep -hE "^backend vulkan:|passed, .* failed|tests, .* failed|per call" "$OUT"/*.log 2>/dev/null | sort | uniq -c
} >>"$summary"
echo "==== summary"
cat "$summary"
exit $failed
