#!/usr/bin/env bash
# Prepares this checkout, on the development machine, for ci/device_check.sh on a lent GPU
# machine (no Debian -dev libraries, no glslc, no Vulkan loader, no network there):
#   ci/vk_prepare.sh   SPIR-V, Vulkan headers and volk -> .vkcarry; the golden pack -> .golden;
#                      cJSON and utf8proc -> .deps
#   .gl                the Vulkan loader and GL dispatch packages (the NVIDIA Vulkan driver is
#                      libGLX_nvidia, which needs libglvnd), unpacked there with dpkg -x
# All four folders are listed in .git/info/exclude. Then, from the device tool:
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; bash ci/device_check.sh
#   carry [".vkcarry", ".golden", ".deps", ".gl"]
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/vk_prepare.sh
exclude=$(git rev-parse --git-path info/exclude)
grep -qxF /.gl/ "$exclude" 2>/dev/null || echo /.gl/ >>"$exclude"
rm -rf .gl
mkdir -p .gl /tmp/pf-apt-amd64/partial
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/pf-apt-amd64)
apt-get "${o[@]}" update >/dev/null
(cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
echo "device_prepare: $(ls .gl | wc -l) packages in .gl; working tree to send: $(du -sh --exclude=.git --exclude='build*' . | cut -f1) (limit 64 MiB)"
