# Shared by the device-machine scripts (ci/device_check.sh, ci/gpu_check.sh, ci/vk_check.sh);
# sourced after they set root, OUT, budget and t_start. Sets up the carried folders and
# defines `step`, which runs one check under a time limit and records it in the summary.

summary=$OUT/summary.txt
: >"$summary"
failed=0
# cJSON and utf8proc unpacked by ci/gpu_prepare.sh (the machine has no Debian -dev packages)
export CMAKE_PREFIX_PATH=$root/.deps/root/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
for d in "$root"/.deps/root/usr/lib/*-linux-gnu; do
  [ -d "$d" ] && export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
done
[ -d "$root/.golden" ] && export PF_GOLDEN_DIR=$root/.golden
# the NVIDIA Vulkan ICD when the loader finds none by itself (the device tool's README)
nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nv_icd" ] && export VK_DRIVER_FILES=$nv_icd

linebuf=
command -v stdbuf >/dev/null 2>&1 && linebuf="stdbuf -oL"
# step NAME LIMIT LOG CMD...: runs CMD with at most min(LIMIT, time left) seconds, appending
# to $OUT/LOG; records ok / FAIL / TIMEOUT / SKIP (exit 77: no device) in the summary and
# returns CMD's status (0 for SKIP).
step() {
  local name=$1 limit=$2 log=$3
  shift 3
  local left=$((budget - ($(date +%s) - t_start)))
  if [ "$left" -lt 10 ]; then
    printf '%-40s SKIP  (time budget spent)\n' "$name" | tee -a "$summary"
    return 0
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local t0 rc verdict=ok
  t0=$(date +%s)
  echo "===== $name: $*" >>"$OUT/$log"
  # line-buffered stdout: what a crashing program printed still reaches the log
  timeout --kill-after=5 "$limit" $linebuf "$@" >>"$OUT/$log" 2>&1
  rc=$?
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then verdict=TIMEOUT
  elif [ $rc -eq 77 ]; then verdict=SKIP
  elif [ $rc -ne 0 ]; then verdict=FAIL; fi
  [ "$verdict" != ok ] && [ "$verdict" != SKIP ] && failed=1
  printf '%-40s %-7s rc=%-3d %4ds  (%s)\n' "$name" "$verdict" "$rc" $(($(date +%s) - t0)) "$log" | tee -a "$summary"
  [ "$verdict" = SKIP ] && return 0
  return $rc
}
