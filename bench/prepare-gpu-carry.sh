#!/usr/bin/env bash
# Prepares .carry/ for bench/gpu-check.sh: a GPU machine may have CUDA, PyTorch and Python but no JDK
# and no Maven, so this builds Soma here and carries what the check needs:
#   .carry/jdk/         a jlink'ed Java 25 runtime (the modules jdeps finds, plus the ones Soma loads
#                       reflectively), stripped and zip-9 compressed
#   .carry/soma.jar     the shaded jar (kernels fatbin and JCuda's driver binding inside)
#   .carry/tests/       the java module's test classes, JUnit's jars and RunTests (gpu-tests/), for
#                       the CUDA test classes that are skipped where there is no GPU
#   .carry/gpu-check.sh, .carry/torch_bench.py, .carry/MANIFEST.txt
# The folder must stay under 64 MiB (the device tool's carry limit); this script fails if it does not.
#
# Usage (repo root or anywhere): bench/prepare-gpu-carry.sh [--no-build]
# Environment: JAVA25_HOME (a JDK 25; default: the toolchain JDK Maven uses, or /usr/lib/jvm/*25*).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
carry=$root/.carry
limit=$((64 * 1024 * 1024))

find_jdk() {
    if [ -n "${JAVA25_HOME:-}" ]; then echo "$JAVA25_HOME"; return; fi
    for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25* /usr/lib/jvm/jdk-25* "${JAVA_HOME:-}"; do
        if [ -x "$d/bin/jlink" ] && "$d/bin/java" -version 2>&1 | grep -q '"25'; then echo "$d"; return; fi
    done
    return 1
}
jdk=$(find_jdk) || { echo "prepare-gpu-carry: no JDK 25 with jlink found; set JAVA25_HOME" >&2; exit 2; }

classpath=$root/java/target/test-classpath.txt
if [ "${1:-}" != "--no-build" ]; then
    echo "prepare-gpu-carry: building soma.jar and the test classes (mvn -pl java -am package -DskipTests)"
    # build-classpath in the same run, so that the reactor's own modules resolve; each module
    # writes the file in turn, the java module last.
    mvn -B -q -pl java -am package dependency:build-classpath -DskipTests -Dmdep.includeScope=test \
        -Dmdep.outputFile="$classpath"
fi
jar=$root/java/target/soma.jar
[ -f "$jar" ] || { echo "prepare-gpu-carry: $jar is missing; build first (drop --no-build)" >&2; exit 2; }
if ! "$jdk/bin/jar" tf "$jar" | grep -q '^dev/soma/cuda/soma.fatbin$'; then
    echo "prepare-gpu-carry: soma.jar holds no CUDA kernels (nvcc was missing at build time); the GPU check needs them" >&2
    exit 2
fi

# jdeps finds what the classes link against; jdk.incubator.vector, java.management, jdk.unsupported and
# java.logging are added because Soma (and JCuda, JOCL, picocli) reach them reflectively or by flag.
found=$("$jdk/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps "$jar" 2>/dev/null || true)
# java.desktop and java.sql come from JFreeChart, which draws `soma bench`'s PNG charts; the check
# draws none, and java.desktop alone (about 20 MB jlinked) took the folder past 64 MiB.
modules=$(printf '%s\n' ${found//,/ } java.base java.logging java.management jdk.incubator.vector jdk.unsupported \
    | grep -vxE 'java\.desktop|java\.sql' | sort -u | paste -sd, -)

rm -rf "$carry"
mkdir -p "$carry"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --compress=zip-9 --output "$carry/jdk"
cp "$jar" "$carry/soma.jar"
cp "$root/bench/gpu-check.sh" "$root/bench/torch_bench.py" "$carry/"
if [ -f "$classpath" ] && [ -d "$root/java/target/test-classes" ]; then
    mkdir -p "$carry/tests/lib"
    tr ':' '\n' < "$classpath" | grep -E '/(junit-(jupiter|platform)-[a-z]+|opentest4j|apiguardian-api)-[0-9.]+\.jar$' \
        | xargs -I{} cp {} "$carry/tests/lib/"
    cp -r "$root/java/target/test-classes" "$carry/tests/classes"
    "$jdk/bin/javac" -d "$carry/tests" -cp "$(find "$carry/tests/lib" -name '*.jar' | paste -sd: -)" \
        "$root/bench/gpu-tests/RunTests.java"
else
    echo "prepare-gpu-carry: no test classpath ($classpath); the check will skip the CUDA test classes" >&2
fi
chmod +x "$carry/gpu-check.sh"

size=$(du -sb "$carry" | cut -f1)
{
    echo "prepared: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "jdk: $("$jdk/bin/java" -version 2>&1 | head -n 1)"
    echo "modules: $modules"
    echo "jdk bytes: $(du -sb "$carry/jdk" | cut -f1)"
    echo "soma.jar bytes: $(stat -c %s "$carry/soma.jar")"
    echo "total bytes: $size"
} > "$carry/MANIFEST.txt"
cat "$carry/MANIFEST.txt"
if [ "$size" -ge "$limit" ]; then
    echo "prepare-gpu-carry: .carry is $size bytes, over the 64 MiB limit" >&2
    exit 1
fi
echo "prepare-gpu-carry: .carry ready ($((size / 1024 / 1024)) MiB); on the GPU machine run: bash .carry/gpu-check.sh"
