#!/usr/bin/env bash
# Sets up, builds and runs pflow's test suite (what CI runs).
#   ci/test.sh            release build (warnings are errors) + the CI test labels,
#                         then an ASan/UBSan build running the unit and golden tests
#   PF_CI_SANITIZE=0      skip the sanitizer pass
#   PF_CI_JOBS=N          parallel build/test jobs (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

./ci/setup.sh
JOBS="${PF_CI_JOBS:-$(nproc)}"
start=$(date +%s)

cmake -S . -B build/ci -G Ninja -DCMAKE_BUILD_TYPE=Release -DPF_WERROR=ON
cmake --build build/ci -j "$JOBS"
(cd build/ci && ctest --output-on-failure -j "$JOBS" -L 'unit|golden|conformance|fuzz' -LE conformance_full)

# The CUDA backend's host code and kernels, run on the CPU through the emulated CUDA
# runtime (logic only, not a GPU result; CI has no GPU): catches indexing, tiling and
# barrier mistakes on every commit.
if [ "${PF_CI_CUDA_EMU:-1}" != "0" ]; then
  tests/cuda_emu/run.sh build/ci-cuda-emu
fi

if [ "${PF_CI_SANITIZE:-1}" != "0" ]; then
  # CUDA code is compiled by the release pass; the sanitizer pass checks host code.
  cmake -S . -B build/ci-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPF_WERROR=ON -DPF_SANITIZE=ON -DPF_CUDA=OFF
  cmake --build build/ci-asan -j "$JOBS"
  (cd build/ci-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$JOBS" -L 'unit|golden')
fi
echo "ci/test.sh: all tests passed in $(( $(date +%s) - start )) s"
