#!/usr/bin/env bash
# Installs every Debian package pflow needs to build, test and run.
# Idempotent and non-interactive; does nothing (in about a second) when all are present.
set -euo pipefail

PACKAGES=(
  # build (python3 drives the CUDA emulation test's source translation)
  cmake ninja-build pkg-config gcc g++ clang libclang-rt-14-dev python3
  # required libraries
  libcjson-dev libutf8proc-dev
  # CPU GEMM
  libopenblas-dev
  # images and video
  libpng-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev ffmpeg
  # Vulkan: headers, loader, lavapipe (CPU driver), glslc, volk, validation layers
  libvulkan-dev mesa-vulkan-drivers vulkan-tools glslc glslang-tools spirv-tools
  vulkan-validationlayers libvulkan-volk-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "ci/setup.sh: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "ci/setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
