#!/usr/bin/env bash
# Fuzzes what ConvLens reads from outside with libFuzzer (swiftc -sanitize=fuzzer,address: AddressSanitizer and
# LeakSanitizer on every module, ConvLens's and its dependencies').
#
#   Tools/fuzz.sh TARGET SECONDS [-- libFuzzer options]
#
# TARGET: onnx-import (model decoding, lowering, folding and planning), npy, png, jpeg, arguments (every command
# line, parsed and validated), or all (each in turn, SECONDS each). Seeds come from the repository's fixtures; the
# growing corpus stays in .build/fuzz/corpus/TARGET between runs, and anything that crashes, traps or leaks is saved
# in .build/fuzz/artifacts/ (the run then fails). Prints each target's executions and exec/s.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: Tools/fuzz.sh onnx-import|npy|png|jpeg|arguments|all SECONDS [-- libFuzzer options]" >&2; exit 2; }
[[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage
target=$1 seconds=$2
shift 2
[[ "${1:-}" == "--" ]] && shift
extra=("$@")

product() {
    case $1 in
        onnx-import) echo FuzzONNXImport ;; npy) echo FuzzNPY ;; png) echo FuzzPNG ;; jpeg) echo FuzzJPEG ;;
        arguments) echo FuzzArguments ;; *) usage ;;
    esac
}

# Seeds: the fixtures of each kind (the small ones for models), and typical command lines, NUL-separated.
seed() {
    local folder=.build/fuzz/seeds/$1
    rm -rf "$folder" && mkdir -p "$folder"
    case $1 in
        onnx-import) find Tests Sources -name '*.onnx' -size -300k -exec cp --backup=numbered {} "$folder/" \; ;;
        npy) find Tests -name '*.npy' -size -64k | head -200 | while read -r f; do cp "$f" "$folder/$(echo "$f" | tr / _)"; done ;;
        png) find Tests Sources -name '*.png' -size -200k | while read -r f; do cp "$f" "$folder/$(echo "$f" | tr / _)"; done ;;
        jpeg) find Tests -name '*.jpg' -o -name '*.jpeg' | while read -r f; do cp "$f" "$folder/$(echo "$f" | tr / _)"; done ;;
        arguments)
            local n=0
            for line in "forward --input x.png --top 3" "forward m.onnx --input x.npy --save-npy y.npy --save-values v" \
                "filters --channels 0-15 --size 128 --steps 64 --out f.png" "filters --octaves 3 --octave-scale 1.4 --out f.png" \
                "filters --param maco --crops 4 --crop-scale 0.2:0.9 --out f.png" "cam --input x.png --out c.png --method gradcampp" \
                "cam --input x.png --out c.png --top 2 --mask-batch 8" "saliency --input x.png --out s.png --method smoothgrad --samples 10" \
                "saliency --input x.png --out s.png --method occlusion --window 4 --stride 2" "info --supported-ops" \
                "features --input x.png --layer a --out f.png" "weights --layer a --out w.png" "bench --suite layers --runs 3" \
                "tune --runs 2" "verify --op conv2d" "devices"; do
                printf '%s' "$line" | tr ' ' '\0' > "$folder/$n" && n=$((n + 1))
            done ;;
    esac
}

run() {
    local name=$1 binary
    binary=.build/fuzz/bin/$(product "$name")
    mkdir -p ".build/fuzz/corpus/$name" .build/fuzz/artifacts
    seed "$name"
    echo "== $name: $seconds s"
    # -rss_limit_mb: the decoders' own limits (256 MiB images) stay far below it, so an allocation past it is
    # a finding, not noise. `set +e` so the fuzzer's own exit status is read below (pipefail with `|| true` hid it).
    set +e
    "$binary" ".build/fuzz/corpus/$name" ".build/fuzz/seeds/$name" -max_total_time="$seconds" -print_final_stats=1 \
        -rss_limit_mb=3072 -artifact_prefix=".build/fuzz/artifacts/$name-" "${extra[@]}" 2>&1 \
        | tee ".build/fuzz/$name.log" \
        | grep -E "^(INFO: Seed|#[0-9]+ +(DONE|INITED))|stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY"
    local status=${PIPESTATUS[0]}
    set -e
    # Stopped by Ctrl-C or SIGINT (libFuzzer's -interrupted_exitcode, 72 by default): no finding, the count so far.
    local interrupted=0
    [[ $status -eq 72 ]] && grep -q "libFuzzer: run interrupted" ".build/fuzz/$name.log" && interrupted=1 status=0
    # One line per run in .build/fuzz/summary.tsv: when, target, executions, exec/s, result (RELIABILITY.md's source).
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u '+%Y-%m-%d %H:%M')" "$name" \
        "$(grep -o 'number_of_executed_units: [0-9]*' ".build/fuzz/$name.log" | grep -o '[0-9]*$')" \
        "$(grep -o 'average_exec_per_sec: *[0-9]*' ".build/fuzz/$name.log" | grep -o '[0-9]*$')" \
        "$([[ $interrupted -eq 1 ]] && echo "interrupted, clean" || { [[ $status -eq 0 ]] && echo clean; } \
            || echo "FOUND: $(grep -m1 -oE 'ERROR: [A-Za-z]+: [a-z-]+' ".build/fuzz/$name.log")")" \
        >> .build/fuzz/summary.tsv
    [[ $status -eq 0 ]] || { echo "fuzz: $name found a failure; see .build/fuzz/$name.log and .build/fuzz/artifacts/" >&2; exit 1; }
}

targets=("$target")
[[ $target == all ]] && targets=(onnx-import npy png jpeg arguments)
for name in "${targets[@]}"; do product "$name" > /dev/null; done
echo "== building the fuzz targets (AddressSanitizer + libFuzzer)"
# The build's own tools (the file embedder) are instrumented too; their exit-time leaks are not findings.
# Every module is compiled with -sanitize=fuzzer,address: libFuzzer's coverage counters need swiftc's fuzzer mode.
# lld links it (gold stops with an internal error on these objects).
ASAN_OPTIONS=detect_leaks=0 swift build --package-path Fuzz --scratch-path .build/fuzz/build -c release \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1 | grep -E "error:|Build complete" || true
mkdir -p .build/fuzz/bin
for name in "${targets[@]}"; do
    binary=$(product "$name")
    cp ".build/fuzz/build/release/$binary" ".build/fuzz/bin/$binary" || { echo "fuzz: building $binary failed" >&2; exit 1; }
done
for name in "${targets[@]}"; do run "$name"; done
