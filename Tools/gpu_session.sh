#!/usr/bin/env bash
# The GPU figures of BENCHMARKS.md and the GPU-rendered sheets, made on a lent machine that has a GPU driver, CUDA
# and PyTorch but no Swift and no Debian packages. What it runs comes along in .gpu/ (ignored by git):
#   .gpu/convlens.tar.xz   Tools/package.sh's folder:  Tools/package.sh && tar -C dist -cJf .gpu/convlens.tar.xz convlens
#   .gpu/*.whl             pytorch-grad-cam and ttach, which that machine lacks (pip download / pip wheel here)
# Usage, from the repository root on that machine, with $OUT the folder whose files come back:
#   Tools/gpu_session.sh check    devices and verify on the GPU
#   Tools/gpu_session.sh bench    random-weight models, then Tools/bench_peers.py --device cuda (runs convlens bench)
#   Tools/gpu_session.sh ownbench convlens bench alone (JSON), when the peers run in another call
#   Tools/gpu_session.sh sheets   the README's two filter sheets on the GPU
#   Tools/gpu_session.sh drift    --compare-cpu drift of the first steps of those runs (the reference backend needs
#                                 ~90 s per step of the bundled sheet, so full-length replays are out of reach)
set -uo pipefail
: "${OUT:?set OUT to the folder for results}"
work=/tmp/convlens-gpu
models=/tmp/convlens-models

if [[ ! -x $work/convlens/convlens ]]; then
    if ! { mkdir -p "$work" && tar -C "$work" -xJf .gpu/convlens.tar.xz; }; then
        echo "gpu_session: cannot unpack .gpu/convlens.tar.xz" >&2
        exit 1
    fi
fi
convlens=$work/convlens/convlens
# Peer packages missing there: installed into a private folder from the carried wheels.
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/*.whl >/dev/null 2>&1 &&
    export PYTHONPATH=/tmp/site
export HOME=${HOME:-/tmp}

# Random-weight torchvision models, as Tools/export_torchvision.py makes them here.
export_models() {
    mkdir -p "$models"
    local missing=()
    for name in "$@"; do [[ -f $models/$name.onnx ]] || missing+=("$name"); done
    if ((${#missing[@]})); then python3 Tools/export_torchvision.py "$models" "${missing[@]}"; fi
}

case "${1:-check}" in
check)
    "$convlens" devices 2>&1 | tee "$OUT/devices.txt"
    "$convlens" verify 2>&1 | tee "$OUT/verify.txt" | tail -n 3
    ;;
bench)
    export_models alexnet vgg16 resnet18 resnet50 mobilenet_v2
    cp BENCHMARKS.md "$OUT/BENCHMARKS.md" 2>/dev/null
    python3 Tools/bench_peers.py --device cuda --convlens "$convlens" --models "$models" --out "$OUT/BENCHMARKS.md" \
        2>&1 | tee "$OUT/bench_peers.log" | tail -n 40
    ;;
sheets)
    export_models vgg16
    time "$convlens" filters --out "$OUT/filters-mnist-gpu.png" 2>&1 | tail -n 3
    time "$convlens" filters "$models/vgg16.onnx" --layer /features/features.10/Conv --size 64 --steps 96 \
        --out "$OUT/filters-vgg16-conv3_1-gpu.png" 2>&1 | tail -n 3
    ;;
ownbench)
    export_models alexnet vgg16 resnet18 resnet50 mobilenet_v2
    "$convlens" bench --models "$models" --json "$OUT/convlens-bench-gpu.json" 2>&1 | tee "$OUT/convlens-bench-gpu.txt"
    ;;
drift)
    export_models vgg16
    "$convlens" filters --steps 2 --out /tmp/drift-mnist.png --compare-cpu 2>&1 | tail -n 2
    "$convlens" filters "$models/vgg16.onnx" --layer /features/features.10/Conv --size 64 --steps 1 \
        --out /tmp/drift-vgg.png --compare-cpu 2>&1 | tail -n 2
    ;;
*)
    echo "usage: Tools/gpu_session.sh check|bench|ownbench|sheets|drift" >&2
    exit 2
    ;;
esac
