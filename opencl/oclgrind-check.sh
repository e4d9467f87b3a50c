#!/usr/bin/env bash
# Runs every Soma OpenCL kernel at small sizes under Oclgrind's simulator with its
# --data-races, --uninitialized and --check-api checkers, through the small C host program
# opencl/test/soma_cl_check.c (a JVM under Oclgrind would be slow for no extra coverage: the
# kernels are what is checked). Exits non-zero on any Oclgrind report, on a result that disagrees
# with the host reference, or when a tool is missing.
#
# Needs: gcc, oclgrind, the OpenCL headers and libOpenCL.so (Debian: ocl-icd-opencl-dev, oclgrind).
# Usage: opencl/oclgrind-check.sh          (from anywhere; takes a few seconds)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for tool in gcc oclgrind; do
  command -v "$tool" >/dev/null || { echo "oclgrind-check: $tool not found; install gcc, oclgrind and ocl-icd-opencl-dev" >&2; exit 2; }
done

gcc -std=c99 -O1 -Wall -Wextra -Werror -Wno-unused-parameter -I "$here/include" \
    "$here/test/soma_cl_check.c" -o "$work/soma_cl_check" -lOpenCL -lm

status=0
# Three builds: as the driver optimises the kernels; with -cl-opt-disable (code the optimiser would
# delete is checked too); and without fp64 (-DSOMA_NO_FP64: what a device lacking cl_khr_fp64 runs).
for config in default noopt f32only; do
  opts=""; f32only=""
  case "$config" in
    noopt) opts="-cl-opt-disable" ;;
    f32only) f32only=1 ;;
  esac
  log="$work/oclgrind-$config.log"
  echo "oclgrind-check: kernels, $config build"
  if ! SOMA_CL_BUILD_OPTIONS="$opts" SOMA_CL_F32_ONLY="$f32only" \
      oclgrind --data-races --uninitialized --check-api --log "$log" "$work/soma_cl_check" check "$here"; then
    echo "oclgrind-check: FAILED: kernel results disagree with the host reference ($config build)" >&2
    status=1
  fi
  if [ -s "$log" ]; then
    echo "oclgrind-check: FAILED: Oclgrind reported problems ($config build):" >&2
    head -100 "$log" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "oclgrind-check: OK, no Oclgrind reports"
exit "$status"
