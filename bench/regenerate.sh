#!/usr/bin/env bash
# Regenerates the peer section of BENCHMARKS.md: `soma bench` and PyTorch's CPU kernels
# (bench/pytorch_peer.py) on the same machine, with the same ops and sizes, in the same run.
#
# Usage: bench/regenerate.sh [OUT_DIR] [-- extra options for both, e.g. --ops gelu,softmax --sizes 2^16,2^20]
#   OUT_DIR defaults to bench/target/peer. Writes there: soma.csv, pytorch.csv, report/ (soma's charts
#   and index.html) and peer-section.md (the markdown to paste into BENCHMARKS.md).
# Environment:
#   SOMA_BENCH_BACKENDS  backends for soma (default: cpu; e.g. cpu,opencl,cuda)
#   PYTHON               the Python with torch (default: /usr/bin/python3, Debian's python3-torch)
# Needs PyTorch: apt-get install -y python3-torch
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/bench/target/peer}"
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
python="${PYTHON:-/usr/bin/python3}"
backends="${SOMA_BENCH_BACKENDS:-cpu}"
mkdir -p "$out"

if [ -x "$root/bin/soma" ]; then
  soma=("$root/bin/soma")
else
  jar="$root/java/target/soma.jar"
  if [ ! -f "$jar" ]; then
    echo "regenerate.sh: $jar is missing; build it with: mvn -B -q -DskipTests package" >&2
    exit 1
  fi
  java_bin="java"
  for j in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
    if [ -n "$j" ] && [ -x "$j/bin/java" ]; then java_bin="$j/bin/java"; break; fi
  done
  soma=("$java_bin" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar "$jar")
fi
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "regenerate.sh: $python cannot import torch; install it with: apt-get install -y python3-torch" >&2
  exit 1
fi

echo "regenerate.sh: soma bench (--backend $backends) ..." >&2
"${soma[@]}" bench --backend "$backends" --format csv --report "$out/report" "$@" > "$out/soma.csv.tmp"
mv "$out/soma.csv.tmp" "$out/soma.csv"
echo "regenerate.sh: PyTorch CPU peer ..." >&2
"$python" "$root/bench/pytorch_peer.py" "$@" > "$out/pytorch.csv.tmp" 2> "$out/pytorch.log"
mv "$out/pytorch.csv.tmp" "$out/pytorch.csv"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
torch_version="$("$python" -c 'import torch; print(torch.__version__)')"
machine="Machine: ${cpu:-unknown CPU}, $(nproc) cores; PyTorch ${torch_version} ($(basename "$python")), $(date -u +%Y-%m-%d)."
"$python" "$root/bench/side_by_side.py" "$out/soma.csv" "$out/pytorch.csv" --machine "$machine" > "$out/peer-section.md"
echo "regenerate.sh: wrote $out/peer-section.md (and soma.csv, pytorch.csv, report/index.html)" >&2
