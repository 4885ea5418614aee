#!/usr/bin/env python3
"""Export torchvision CNNs with fixed-seed random weights to ONNX, for demos and benchmarks.

ConvLens never downloads models: the VGG-16, ResNet and other networks its README sheets and benchmarks use are
made here, with `weights=None` and `torch.manual_seed(0)`, exported by the TorchScript exporter at opset 17
with a dynamic batch and ImageNet preprocessing in the ONNX metadata (so `convlens` needs no flags).

Usage (from the repository root, with torch, torchvision and onnx from PyPI in a venv outside the repository):
    ~/convlens-venv/bin/python Tools/export_torchvision.py OUTPUT_DIR [vgg16 resnet18 ...]
Without model names it exports alexnet, vgg16, resnet18, resnet50, squeezenet1_1 and mobilenet_v2; it also exports
mobilenet_v3_large, efficientnet_b0, convnext_tiny and vit_b_16 when named. Files are
written as OUTPUT_DIR/<name>.onnx (VGG-16 is 528 MB: keep OUTPUT_DIR outside the repository). Run by hand;
never by the build or the tests.
"""
import sys
from pathlib import Path

import onnx
import torch

from convlens_tools.models import torchvision_model
from convlens_tools.onnx_export import add_metadata, convlens_metadata, export_onnx

MODELS = ["alexnet", "vgg16", "resnet18", "resnet50", "squeezenet1_1", "mobilenet_v2"]
# Exported on request (named on the command line): the models of the newer ops, benchmarked by `convlens bench`.
MORE_MODELS = ["mobilenet_v3_large", "efficientnet_b0", "convnext_tiny", "vit_b_16"]


def export(name: str, directory: Path) -> Path:
    model = torchvision_model(name, seed=0)
    path = directory / f"{name}.onnx"
    export_onnx(model, torch.zeros(1, 3, 224, 224), str(path), opset=17)
    proto = onnx.load(str(path))
    add_metadata(proto, convlens_metadata(
        (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 224, 3, [str(i) for i in range(1000)],
        f"torchvision {name}, random weights (torch.manual_seed(0)), opset 17"))
    onnx.save(proto, str(path))
    return path


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    directory = Path(sys.argv[1])
    directory.mkdir(parents=True, exist_ok=True)
    names = sys.argv[2:] or MODELS
    for name in names:
        if name not in MODELS + MORE_MODELS:
            print(f"unknown model {name}; choose from {', '.join(MODELS + MORE_MODELS)}", file=sys.stderr)
            return 2
        path = export(name, directory)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
