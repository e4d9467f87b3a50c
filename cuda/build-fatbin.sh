#!/usr/bin/env bash
# Compiles cuda/kernels/soma.cu into ONE fatbin: SASS for sm_75 sm_80 sm_86 sm_89 sm_90 sm_100 sm_120
# plus PTX for compute_120 (newer GPUs JIT it), written with a build.properties marker into the
# output folder (Maven passes target/classes/dev/soma/cuda, so both land in the jar).
#
# Without nvcc the build still succeeds: build.properties then says status=not-built and why, and
# the Java side reports "cuda: kernels not built (...)". With nvcc, any warning is an error.
# ptxas's register/spill report goes to cuda/target/ptxas.log. The compile is skipped when the
# fatbin is newer than every source (7 architectures take a while on 2 cores).
#
# Usage: cuda/build-fatbin.sh [output-folder]
# Environment: NVCC (compiler path; "none" acts as if nvcc were absent), SOMA_MATH_INCLUDE (folder holding soma_math.h; default
# opencl/include), SOMA_CUDA_ARCHS (space-separated SASS archs, e.g. "90" for a quick local build).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out_dir=${1:-$here/target/classes/dev/soma/cuda}
include_dir=${SOMA_MATH_INCLUDE:-$here/../opencl/include}
archs=${SOMA_CUDA_ARCHS:-"75 80 86 89 90 100 120"}
fatbin=$out_dir/soma.fatbin
marker=$out_dir/build.properties
ptxas_log=$here/target/ptxas.log
mkdir -p "$out_dir" "$here/target"

write_marker() { # status reason
    {
        echo "# Written by cuda/build-fatbin.sh"
        echo "status=$1"
        echo "reason=$2"
        echo "archs=$archs"
        echo "ptx=compute_${archs##* }"
    } > "$marker"
}

nvcc_bin=${NVCC:-}
if [ "$nvcc_bin" = none ]; then
    nvcc_bin=""   # NVCC=none: behave as on a machine without the CUDA toolkit (tests use this)
elif [ -z "$nvcc_bin" ]; then
    for c in "$(command -v nvcc || true)" "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
        if [ -n "$c" ] && [ -x "$c" ]; then nvcc_bin=$c; break; fi
    done
fi
if [ -z "$nvcc_bin" ]; then
    rm -f "$fatbin"
    write_marker not-built "nvcc was not found at build time"
    echo "build-fatbin: nvcc not found; CUDA kernels NOT built (the CUDA backend will report this)" >&2
    exit 0
fi

if [ ! -f "$include_dir/soma_math.h" ]; then
    echo "build-fatbin: $include_dir/soma_math.h is missing; it holds the per-element math the kernels" \
         "call (set SOMA_MATH_INCLUDE to a folder holding it)" >&2
    exit 1
fi

sources=("$here"/kernels/* "$include_dir/soma_math.h" "$here/build-fatbin.sh")
if [ -f "$fatbin" ] && [ -f "$marker" ] && grep -q '^status=built' "$marker" \
   && grep -qx "archs=$archs" "$marker"; then
    stale=0
    for s in "${sources[@]}"; do
        if [ "$s" -nt "$fatbin" ]; then stale=1; break; fi
    done
    if [ "$stale" = 0 ]; then
        echo "build-fatbin: $fatbin is up to date"
        exit 0
    fi
fi

gencode=()
for a in $archs; do gencode+=(-gencode "arch=compute_$a,code=sm_$a"); done
newest=${archs##* }
gencode+=(-gencode "arch=compute_$newest,code=compute_$newest")

start=$(date +%s)
tmp=$fatbin.tmp
# --threads 0: one thread per architecture, up to the machine's cores. No --use_fast_math, ever:
# the kernels rely on accurate expf/expm1f/erfcf.
# No -lineinfo: it would more than double the fatbin (13 MB -> 32 MB); compute-sanitizer still names
# the kernel. Add it locally when chasing a report.
if ! "$nvcc_bin" -std=c++17 -O3 --threads 0 -fatbin \
        -I "$include_dir" -I "$here/kernels" \
        -Werror all-warnings -Xcompiler -Wall,-Werror -Xptxas -v,-warn-spills,-warn-lmem-usage \
        "${gencode[@]}" -o "$tmp" "$here/kernels/soma.cu" > "$ptxas_log" 2>&1; then
    cat "$ptxas_log" >&2
    rm -f "$tmp"
    echo "build-fatbin: nvcc failed (full log above and in $ptxas_log)" >&2
    exit 1
fi
mv "$tmp" "$fatbin"
secs=$(( $(date +%s) - start ))
write_marker built "compiled by $("$nvcc_bin" --version | tail -n 2 | head -n 1 | sed 's/^Cuda compilation tools, //') in ${secs}s"
spills=$(grep -c 'bytes spill stores' "$ptxas_log" | tr -d ' ' || true)
nonzero=$( (grep -E '[1-9][0-9]* bytes spill (stores|loads)' "$ptxas_log" || true) | wc -l | tr -d " ")
echo "build-fatbin: $fatbin ($(stat -c %s "$fatbin") bytes, archs $archs + PTX compute_$newest) in ${secs}s;" \
     "$nonzero of $spills kernel builds spill (see $ptxas_log)"
