#!/usr/bin/env bash
# Prepares this checkout, on the development machine, for ci/gpu_check.sh on a lent GPU
# machine (which has nvcc, CMake, ninja and Python but no Debian -dev libraries and no
# network). Idempotent; run it once per session before the device call:
#   1. copies the golden pack ($PF_GOLDEN_DIR, else ../shared/golden) into .golden/;
#   2. downloads libcjson1 libcjson-dev libutf8proc2 libutf8proc-dev with apt-get and
#      unpacks them (dpkg -x) into .deps/root (symbolic links replaced by the files they
#      name: links travel as links only), found there through CMAKE_PREFIX_PATH;
#   3. lists .golden/ and .deps/ in .git/info/exclude so they stay out of git.
# Then, from the device tool: run `bash ci/gpu_check.sh` with carry [".golden", ".deps"].
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pack=${PF_GOLDEN_DIR:-$root/../shared/golden}

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
for p in /.golden/ /.deps/; do
  grep -qxF "$p" "$exclude" 2>/dev/null || echo "$p" >>"$exclude"
done

if [ -d "$pack" ]; then
  rm -rf .golden
  cp -rL "$pack" .golden
  echo "gpu_prepare: golden pack $pack -> .golden ($(du -sh .golden | cut -f1))"
else
  echo "gpu_prepare: no golden pack at $pack; gpu_check.sh will skip the golden checks" >&2
fi

rm -rf .deps
mkdir -p .deps/debs .deps/root
(cd .deps/debs && apt-get download libcjson1 libcjson-dev libutf8proc2 libutf8proc-dev)
for d in .deps/debs/*.deb; do dpkg -x "$d" .deps/root; done
find .deps/root -type l | while read -r link; do
  target=$(readlink -f "$link")
  rm "$link"
  if [ -f "$target" ]; then cp "$target" "$link"; fi
done
rm -rf .deps/debs
for f in usr/include/cjson/cJSON.h usr/include/utf8proc.h; do
  [ -f ".deps/root/$f" ] || { echo "gpu_prepare: $f missing after unpacking" >&2; exit 1; }
done
ls .deps/root/usr/lib/*/libcjson.so* .deps/root/usr/lib/*/libutf8proc.so* >/dev/null
echo "gpu_prepare: libraries -> .deps/root ($(du -sh .deps | cut -f1))"
echo "gpu_prepare: working tree to send: $(du -sh --exclude=.git --exclude='build*' . | cut -f1) (limit 64 MiB)"
echo "gpu_prepare: now run on the device: bash ci/gpu_check.sh   (carry: .golden .deps)"
