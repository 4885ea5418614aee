#!/usr/bin/env python3
"""Grad-CAM on a small vision transformer, made by pytorch-grad-cam with its ViT reshape_transform.

Purpose
-------
ConvLens lays a transformer layer's tokens out as N x C x h x w by itself (``ActivationLayout``: the class token
dropped, the h*w patch tokens put back on their grid, channels first), where pytorch-grad-cam asks its users for a
``reshape_transform``. This script makes the peer's result for the Swift test to compare with:

1. A torchvision ``VisionTransformer`` (image 32, patch 8 -> a 4 x 4 grid, 2 layers, 2 heads, hidden 16, MLP 32,
   5 classes) with fixed-seed random weights; its head, zero-initialized by torchvision, is drawn N(0, 0.5) so the
   classes differ. Eval mode.
2. Exported with the TorchScript exporter (opset 17, batch axis dynamic, ``convlens_tools.onnx_export``) and, as a
   check, run by onnxruntime against PyTorch (rel L2 <= 1e-5).
3. pytorch-grad-cam's ``GradCAM`` on ``model.encoder.layers[-1].ln_1`` (the ONNX node
   ``/encoder/layers/encoder_layer_1/ln_1/LayerNormalization``) with the reshape transform of its ViT tutorial
   (``tensor[:, 1:, :].reshape(N, 4, 4, C)`` then channels first), targets each image's top class.

Outputs (``Tests/VisualizationTests/Fixtures/cam/vit_tiny/``): ``model.onnx``, ``input.npy`` (2 x 3 x 32 x 32,
seeded standard normal), ``logits.npy`` (onnxruntime), ``cam_gradcam.npy`` (2 x 32 x 32, pytorch-grad-cam's
grayscale maps) and ``fixture.json`` (layer, classes, versions).

Usage (repository root, venv outside the repository with torch, torchvision, onnx, onnxruntime, grad-cam):
    ~/convlens-venv/bin/python Tools/vit_cam_fixture.py
Never run by the build or the tests. Deterministic for given package versions.
"""
import importlib.metadata
import io
import os
import sys
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from pytorch_grad_cam import GradCAM  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

from convlens_tools.determinism import make_deterministic  # noqa: E402
from convlens_tools.fixtures import FixtureFolder  # noqa: E402
from convlens_tools.metrics import rel_l2  # noqa: E402
from convlens_tools.onnx_export import export_onnx  # noqa: E402
from convlens_tools.onnxruntime_eval import evaluate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "Tests" / "VisualizationTests" / "Fixtures" / "cam" / "vit_tiny"
GRID = 4
LAYER = "/encoder/layers/encoder_layer_1/ln_1/LayerNormalization"


def reshape_transform(tensor, height=GRID, width=GRID):
    """pytorch-grad-cam's ViT tutorial transform: drop the class token, restore the grid, channels first."""
    result = tensor[:, 1:, :].reshape(tensor.size(0), height, width, tensor.size(2))
    return result.transpose(2, 3).transpose(1, 2)


def main() -> int:
    make_deterministic(threads=1, seed=0)
    torch.manual_seed(7)
    model = torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=5)
    torch.nn.init.normal_(model.heads.head.weight, std=0.5)
    model.eval()
    x_np = np.random.default_rng(11).standard_normal((2, 3, 32, 32)).astype(np.float32)
    x = torch.from_numpy(x_np.copy())

    buffer = io.BytesIO()
    export_onnx(model, x, buffer, 17)
    model_bytes = buffer.getvalue()
    with torch.no_grad():
        logits = model(x).numpy()
    ort_logits = evaluate(model_bytes, x_np)
    error = rel_l2(ort_logits, logits)
    assert error < 1e-5, error
    classes = [int(c) for c in logits.argmax(axis=1)]

    cam = GradCAM(model=model, target_layers=[model.encoder.layers[-1].ln_1], reshape_transform=reshape_transform)
    maps = cam(input_tensor=x, targets=[ClassifierOutputTarget(c) for c in classes])

    folder = FixtureFolder(FOLDER)
    (folder.path / "model.onnx").write_bytes(model_bytes)
    folder.save("input", x_np, "seeded standard normal input")
    folder.save("logits", ort_logits, "onnxruntime's logits")
    folder.save("cam_gradcam", maps, "pytorch-grad-cam GradCAM with the ViT reshape_transform, grayscale maps")
    folder.write_json("fixture.json", {
        "generator": "Tools/vit_cam_fixture.py",
        "layer": LAYER,
        "grid": [GRID, GRID],
        "target_classes": classes,
        "logits_rel_l2_ort_vs_torch": float(error),
        "versions": {name: importlib.metadata.version(name)
                     for name in ("torch", "torchvision", "onnxruntime", "grad-cam")},
        "files": folder.files,
    })
    print("wrote %s: classes %s, ORT vs torch rel L2 %.2e, maps %s in [%.3f, %.3f]"
          % (FOLDER.relative_to(ROOT), classes, error, maps.shape, maps.min(), maps.max()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
