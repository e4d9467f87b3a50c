#!/usr/bin/env bash
# The GPU check in one call, for a machine with an NVIDIA GPU and no JDK. Run from the repo root with
# .carry/ present (bench/prepare-gpu-carry.sh makes it):   bash .carry/gpu-check.sh
#   1. soma devices, and soma verify --backend cuda     (every op against the CPU reference), then the
#      Java CUDA test classes through JUnit's launcher  (skipped on machines without a GPU)
#   2. CudaBench: validate every kernel, then time elementwise ops at 2^28 float32 and softmax at rows
#      of 128..32768, in GB/s and as a fraction of a device-to-device copy (CUDA events)
#   3. the same ops in PyTorch on the same GPU, when python3 with torch (CUDA) is present
#   4. compute-sanitizer memcheck and racecheck over every kernel on small inputs
#   5. OffloadBench: pinned H2D/D2H bandwidth, a 2 GiB host tensor streamed with 1-4 streams and
#      4-256 MB chunks (GB/s and fraction of the serial copy time), 1000 x 4096 multi-tensor speed-up
# Everything goes under $OUT (default ./gpu-check-out); a short table is printed last.
# Exit status: 0 all passed, 1 a step failed, 2 .carry is missing or incomplete, 3 no NVIDIA GPU.
set -uo pipefail

carry=${SOMA_CARRY:-$PWD/.carry}
out=${OUT:-$PWD/gpu-check-out}
java=$carry/jdk/bin/java
jar=$carry/soma.jar

# print_table DIR: Soma beside PyTorch (GB/s, and the fraction of each one's own device-to-device
# copy), then the steps. `gpu-check.sh --table DIR` prints it again for an earlier run.
print_table() {
    local dir=$1
    echo "GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
    echo
    if [ -f "$dir/cuda-bench.csv" ]; then
        awk -F, '
            FNR == 1 { next }
            FILENAME ~ /torch-bench/ { t[$1 "," $2 "," $3 "," $4] = sprintf("%8.1f %5.2f", $6, $7); next }
            $1 == "validation" { printf "validation: %s checks, %s\n", $4, $7; next }
            { split($2, base, "["); key = $1 "," base[1] "," $3 "," $4
              rows[++n] = sprintf("%-11s %-24s %-3s %10s %8.1f %5.2f   %s", $1, $2, $3, $4, $6, $7,
                                   (key in t) ? t[key] : "       -     -") }
            END { printf "%-11s %-24s %-3s %10s %8s %5s   %8s %5s\n", "kind", "op", "dir", "size", "GB/s", "copy", "torch", "copy"
                  for (i = 1; i <= n; i++) print rows[i] }
        ' $( [ -f "$dir/torch-bench.csv" ] && echo "$dir/torch-bench.csv" ) "$dir/cuda-bench.csv"
        echo
    fi
    if [ -f "$dir/offload-bench.csv" ]; then
        echo "offload (streamed host tensors; fraction = (bytes/H2D + bytes/D2H) / time, >1 means overlap):"
        awk -F, 'FNR == 1 { next }
            $2 == "streamed" { printf "  %d stream(s) %4d MB chunks: %7.2f GB/s  %5.2f of serial copy\n", $3, $4, $5, $6; next }
            $2 == "multi-tensor-speedup" { printf "  1000 x 4096 silu in one launch: %.2f ms, %.1fx a loop of launches\n", $5, $6; next }
            { printf "  %-10s %7.2f GB/s\n", $2, $5 }' "$dir/offload-bench.csv"
        echo
    fi
    echo "step                 status                               time"
    [ -f "$dir/summary.tsv" ] && awk -F'\t' '{ printf "%-20s %-36s %s\n", $1, $2, $3 }' "$dir/summary.tsv"
    [ -f "$dir/total.txt" ] && cat "$dir/total.txt"
    echo "logs and CSVs in $dir"
}

if [ "${1:-}" = "--table" ]; then
    print_table "${2:?usage: gpu-check.sh --table DIR}"
    exit 0
fi

if [ ! -x "$java" ] || [ ! -f "$jar" ]; then
    echo "gpu-check: $carry must hold jdk/ and soma.jar; run bench/prepare-gpu-carry.sh on a machine with JDK 25 and Maven, then copy .carry/ here" >&2
    exit 2
fi
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu-check: no NVIDIA GPU here (nvidia-smi is missing or lists no GPU); run this on a machine with an NVIDIA GPU and its driver" >&2
    exit 3
fi

mkdir -p "$out"
summary=$out/summary.tsv
: > "$summary"
jflags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g)
nvidia-smi > "$out/nvidia-smi.txt" 2>&1
start_all=$(date +%s)
failed=0

# step NAME TIMEOUT_S COMMAND...: runs one step, logs to $out/NAME.log, records status and seconds.
step() {
    local name=$1 limit=$2
    shift 2
    local t0 rc status
    t0=$(date +%s)
    echo "== $name: $*" >&2
    timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        status=pass
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        status="TIMEOUT(${limit}s)"
        failed=1
    elif grep -q 'dev.soma.cli.SomaCli' "$out/$name.log" && grep -qE 'ClassNotFound|Could not find or load main class' "$out/$name.log"; then
        status="skipped(no CLI in this jar)"
    else
        status="FAIL(rc=$rc)"
        failed=1
    fi
    printf '%s\t%s\t%ss\n' "$name" "$status" "$(( $(date +%s) - t0 ))" >> "$summary"
    tail -n 3 "$out/$name.log" >&2
}

step devices 30 "$java" "${jflags[@]}" -jar "$jar" devices
step verify 120 "$java" "${jflags[@]}" -jar "$jar" verify --backend cuda
if [ -f "$carry/tests/RunTests.class" ]; then
    # The test classes read files relative to the java module, as under Maven.
    tests_cp="$jar:$carry/tests:$carry/tests/classes:$(find "$carry/tests/lib" -name '*.jar' | paste -sd: -)"
    step cuda-tests 180 bash -c 'cd java && exec "$0" "${@:1}"' "$java" "${jflags[@]}" -cp "$tests_cp" RunTests \
        dev.soma.backend.cuda.CudaOpSuiteTest dev.soma.backend.cuda.CudaStreamingTest dev.soma.backend.cuda.CudaFatbinTest \
        dev.soma.backend.cuda.CudaBackendProviderTest dev.soma.backend.cuda.FaultCudaErrorsTest
else
    printf 'cuda-tests\tskipped(no .carry/tests)\t0s\n' >> "$summary"
fi
step cuda-bench 120 "$java" "${jflags[@]}" -cp "$jar" dev.soma.backend.cuda.CudaBench --out "$out"

step offload-bench 90 "$java" "${jflags[@]}" -cp "$jar" dev.soma.backend.device.OffloadBench --backend cuda --mb 2048 --out "$out"

if command -v python3 >/dev/null 2>&1 && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    step torch-bench 90 python3 "$carry/torch_bench.py" --out "$out"
else
    printf 'torch-bench\tskipped(no python3 with CUDA torch)\t0s\n' >> "$summary"
fi

sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -n 1 || true)
if [ -n "$sanitizer" ]; then
    for tool in memcheck racecheck; do
        extra=()
        [ "$tool" = memcheck ] && extra=(--leak-check full)
        step "sanitizer-$tool" 120 "$sanitizer" --tool "$tool" "${extra[@]}" --error-exitcode 9 --print-limit 20 \
            "$java" "${jflags[@]}" -cp "$jar" dev.soma.backend.cuda.CudaBench --smoke
    done
else
    printf 'sanitizer\tskipped(compute-sanitizer not found)\t0s\n' >> "$summary"
fi

echo "total: $(( $(date +%s) - start_all ))s" > "$out/total.txt"
print_table "$out" > "$out/table.txt"
cat "$out/table.txt"
exit $failed
