#!/usr/bin/env bash
# Renders the README's gallery of EfficientNet-Lite0 (real ImageNet weights) into docs/lite0/, with exactly the
# commands the README shows beside each picture. Needs ~/convlens-models/lite0.onnx, the photos beside it and the
# folder of photo crops:
#   ~/convlens-venv/bin/python Tools/export_pretrained.py ~/convlens-models
#   ~/convlens-venv/bin/python Tools/export_image_folders.py ~/convlens-models
# then, from the repository root:
#   Tools/gallery.sh [MODELS_DIR]
# About 30 minutes on the project's 2-core CPU (PoCL). Run by hand; never by the build or the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
models=${1:-$HOME/convlens-models}
out=docs/lite0
mkdir -p "$out"
swift build -c release --product convlens >/dev/null
convlens=.build/release/convlens
run() { echo "+ convlens ${*}"; "$convlens" "$@" | grep -v '^step ' ; }

# Filters of an early, a middle and a late layer (Lucid's defaults: FFT parameterization, decorrelated colour,
# transforms, Adam 0.05, 512 steps, 128 px).
run filters "$models/lite0.onnx" --layer /_blocks.2/_project_conv/Conv --channels 0-7 --out "$out/filters-block2.png"
run filters "$models/lite0.onnx" --layer /_blocks.10/_project_conv/Conv --channels 0-7 --out "$out/filters-block10.png"
run filters "$models/lite0.onnx" --layer /_blocks.15/_project_conv/Conv --channels 0-7 --out "$out/filters-block15.png"
# MaCo on the same channels of block 10: a 256 px image, crops seen at 128 px.
run filters "$models/lite0.onnx" --layer /_blocks.10/_project_conv/Conv --channels 0-7 --param maco --size 256 \
    --crop-size 128 --out "$out/maco-block10.png" --save-transparency "$out/maco-block10-transparency.png"
# Class visualizations: the logit of Egyptian cat, goldfish, flamingo and espresso.
run filters "$models/lite0.onnx" --layer logits --objective logit --channels 285,1,130,967 --out "$out/classes.png"
# Grad-CAM of the top class on scikit-image's photos.
for photo in chelsea coffee astronaut; do
    run cam "$models/lite0.onnx" --input "$models/$photo.png" --out "$out/gradcam-$photo.png"
done
# Zeiler & Fergus projections of block 4 over the photo crops, and the inversion of chelsea from block 0 to the logits.
run projections "$models/lite0.onnx" --input "$models/photos" --layer /_blocks.4/Add --channels 0-7 \
    --method guided-backprop --out "$out/projections-block4.png"
run invert "$models/lite0.onnx" --input "$models/chelsea.png" \
    --layers /_blocks.0/_swish/Clip,/_blocks.2/Add,/_blocks.4/Add,/_blocks.7/Add,/_blocks.10/Add,/_blocks.14/Add,/_fc/Gemm \
    --out "$out/invert-chelsea.png"
# t-SNE of the pooled features over the photo crops (one class subfolder per photo), drawn as the crops.
run embed "$models/lite0.onnx" --input "$models/photos" --layer /_avg_pooling/GlobalAveragePool --perplexity 10 \
    --thumbnails --thumbnail-size 56 --out "$out/embed-photos.png"
