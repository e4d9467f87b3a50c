#!/usr/bin/env bash
# Builds and runs the host emulation of Soma's CUDA kernels (no GPU, no nvcc: g++ -std=c++20).
# Usage: cuda/test/host/run.sh   Environment: CXX (default g++), SOMA_MATH_INCLUDE (default opencl/include).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
include_dir=${SOMA_MATH_INCLUDE:-$here/../../../opencl/include}
out=$here/../../target/host-emulation
mkdir -p "$out"
"${CXX:-g++}" -std=c++20 -O1 -pthread -Wall -Werror -Wno-unused-function -Wno-unknown-pragmas \
    -I "$here" -I "$include_dir" -I "$here/../../kernels" \
    -o "$out/kernel_emulation_test" "$here/kernel_emulation_test.cpp"
"$out/kernel_emulation_test"
