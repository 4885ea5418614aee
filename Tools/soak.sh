#!/usr/bin/env bash
# Soak runs: long workloads with the resident memory sampled, to show it stays flat (a leak grows in a line).
#
#   Tools/soak.sh [BINARY]        (default .build/release/convlens; build it first)
#
# Runs `filters` for 10,000 steps (2 channels, 64 px) and `cam` over a folder of 10,000 images (copies of a bundled digit) at batch 1 on
# the bundled model, samples VmRSS every half second, and writes the "Soak" section of RELIABILITY.md: RSS at the
# start (after the first tenth), the middle and the end of each run, and the growth between middle and end.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/release/convlens}
work=.build/soak
rm -rf "$work" && mkdir -p "$work/images"
for i in $(seq 1 10000); do cp Sources/BundledModel/digits/digit_7_0013.png "$work/images/$i.png"; done

# sample NAME COMMAND...: runs the command, writes "seconds kB" lines to $work/NAME.rss.
sample() {
    local name=$1; shift
    "$@" > "$work/$name.log" 2>&1 &
    local pid=$! start
    start=$(date +%s%N)
    while kill -0 "$pid" 2>/dev/null; do
        awk -v t="$(( ($(date +%s%N) - start) / 1000000 ))" '/VmRSS/ { print t / 1000, $2 }' "/proc/$pid/status" \
            >> "$work/$name.rss" 2>/dev/null || true
        sleep 0.5
    done
    wait "$pid"
}

# row NAME COMMAND-TEXT: a table row from the samples at 10 %, 50 % and 100 % of the run.
row() {
    awk -v name="$1" -v command="$2" '{ t[NR] = $1; r[NR] = $2 } END {
        a = int(NR / 10) + 1; m = int(NR / 2) + 1
        printf "| %s | `%s` | %.0f s | %.1f | %.1f | %.1f | %+.1f |\n", name, command, t[NR], r[a] / 1024, r[m] / 1024,
            r[NR] / 1024, (r[NR] - r[m]) / 1024 }' "$work/$1.rss"
}

filters_command="convlens filters --steps 10000 --channels 0-1 --size 64 --out $work/filters.png"
cam_command="convlens cam --input $work/images --out $work/maps --batch 1"
echo "== filters, 10,000 steps"
sample filters "$binary" filters --steps 10000 --channels 0-1 --size 64 --out "$work/filters.png"
echo "== cam, 10,000 images"
sample cam "$binary" cam --input "$work/images" --out "$work/maps" --batch 1

section=$(cat <<MARKDOWN
<!-- soak:start -->
## Soak: resident memory over long runs

- $(date -u '+%Y-%m-%d %H:%M UTC'); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; \`Tools/soak.sh\`
  ($binary, the bundled model on the OpenCL device); VmRSS sampled every 0.5 s.

| run | command | duration | RSS at 10 % (MB) | at 50 % | at the end | end − middle (MB) |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
$(row filters "$filters_command")
$(row cam "$cam_command")
<!-- soak:end -->
MARKDOWN
)
report=RELIABILITY.md
[[ -f $report ]] || printf '# ConvLens reliability\n\n<!-- soak:start -->\n<!-- soak:end -->\n' > "$report"
awk -v section="$section" '
    /<!-- soak:start -->/ { print section; skip = 1; next }
    /<!-- soak:end -->/ { skip = 0; next }
    !skip { print }' "$report" > "$report.partial" && mv "$report.partial" "$report"
echo "wrote the Soak section of $report"
