#!/usr/bin/env bash
# Prepares this checkout, on the development machine, for ci/vk_check.sh on a machine that
# has a Vulkan driver but neither glslc nor the Vulkan headers (the lent GPU machines).
# Idempotent; run it once per session before the device call:
#   1. compiles the shaders here (glslc, build/vk-prepare) and copies the SPIR-V into
#      .vkcarry/spv (the build there embeds them: -DPF_VULKAN_SPIRV_DIR);
#   2. copies the Vulkan headers and volk.h/volk.c into .vkcarry/include;
#   3. runs ci/gpu_prepare.sh (golden pack into .golden, cjson/utf8proc into .deps) unless
#      PF_VK_PREPARE_DEPS=0;
#   4. lists .vkcarry/ in .git/info/exclude so it stays out of git.
# Then, from the device tool: `bash ci/vk_check.sh` with carry [".vkcarry", ".golden", ".deps"].
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF /.vkcarry/ "$exclude" 2>/dev/null || echo /.vkcarry/ >>"$exclude"

cmake -S . -B build/vk-prepare -G Ninja -DPF_VULKAN=ON -DPF_CUDA=OFF -DPF_BUILD_TESTS=OFF >/dev/null
cmake --build build/vk-prepare --target pf_vk_shaders >/dev/null
rm -rf .vkcarry
mkdir -p .vkcarry/spv .vkcarry/include
cp build/vk-prepare/backends/vulkan/spv/*.spv .vkcarry/spv/
inc=$(sed -n 's/^PF_VULKAN_INCLUDE:PATH=//p' build/vk-prepare/CMakeCache.txt)
volk=$(sed -n 's/^PF_VOLK_INCLUDE:PATH=//p' build/vk-prepare/CMakeCache.txt)
# the C headers only (vulkan.h pulls vulkan_core.h, vk_platform.h and vk_video/); no .hpp
mkdir -p .vkcarry/include/vulkan
cp "$inc"/vulkan/*.h .vkcarry/include/vulkan/
[ -d "$inc/vk_video" ] && cp -r "$inc/vk_video" .vkcarry/include/
cp "$volk/volk.h" "$volk/volk.c" .vkcarry/include/
echo "vk_prepare: $(ls .vkcarry/spv | wc -l) SPIR-V modules, headers and volk -> .vkcarry ($(du -sh .vkcarry | cut -f1))"

if [ "${PF_VK_PREPARE_DEPS:-1}" != 0 ]; then
  bash ci/gpu_prepare.sh
fi
echo "vk_prepare: now run on the device: bash ci/vk_check.sh   (carry: .vkcarry .golden .deps)"
