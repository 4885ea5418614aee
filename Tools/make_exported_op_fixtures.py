#!/usr/bin/env python3
"""Small models that use the ops of modern CNNs and ViTs, exported by both PyTorch exporters, with PyTorch's
outputs and input gradients: the fixtures of Tests/ModelGraphTests/ExportedOpsTests.swift.

Each model below (fixed-seed random weights, eval mode, smooth activations so that the input gradient has no kink
for float32 rounding to flip) is exported twice:

- ``legacy.onnx``: the TorchScript exporter (``dynamo=False``, opset 17, constant folding on, batch axis dynamic),
  which writes shape computations (Shape, Gather, Concat ...) that ConvLens folds at load;
- ``dynamo.onnx``: the default exporter (torch.export, its own opset, batch axis dynamic through
  ``torch.export.Dim``), whose graphs use LayerNormalization, Gelu and batched MatMul as single ops.

Both files are run by onnxruntime and must match PyTorch (rel L2 <= 1e-5). Written to
``Tests/ModelGraphTests/Fixtures/exported_ops/<model>/``: ``legacy.onnx``, ``dynamo.onnx``, ``input.npy``
(2 x 3 x H x W, seeded standard normal), ``output.npy`` (PyTorch), ``seed.npy`` (a seeded standard normal
of the output's shape) and ``input_grad.npy`` (d sum(output * seed) / d input, PyTorch autograd), and
``fixture.json`` (ops of each file, versions).

Models:
``conv_transpose``  conv 3x3/2, ConvTranspose 3x3/2 with output_padding 1, grouped ConvTranspose 4x4/2 without
                    bias, dilated ConvTranspose; tanh between (a decoder's upsampling path).
``convnext_block``  ConvNeXt's block: depthwise 7x7 conv, permute to channels-last, LayerNorm, Linear x4, GELU,
                    Linear, layer scale, permute back, residual Add; then GroupNorm (2 groups), tanh, InstanceNorm
                    (affine) and a linear head on the flattened map (input 12 x 10).
``split_slice``     Split into two channel halves (one scaled), Concat, a strided Slice on both spatial axes,
                    x[:, 0] (Gather of one channel) beside the mean of the rest, Unsqueeze, Concat, head.
``upsample``        a decoder's resizing: nearest x2 (F.interpolate), bilinear to 15 x 15 (half-pixel centres) and back to
                    the input's 10 x 12 with aligned corners, concatenated with the input (input 10 x 12).
``vit_tiny``        torchvision's VisionTransformer (image 32, patch 8, 2 layers, 2 heads, hidden 16, MLP 32,
                    5 classes; head drawn N(0, 0.5)): class token Concat, position Add, LayerNorm, multi-head
                    attention (batched MatMul, Softmax), GELU MLP, class-token Gather.

Usage (repository root, venv outside the repository with torch, torchvision, onnx, onnxscript, onnxruntime):
    ~/convlens-venv/bin/python Tools/make_exported_op_fixtures.py
Never run by the build or the tests. Deterministic for given package versions.
"""
import collections
import importlib.metadata
import io
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from convlens_tools.determinism import make_deterministic
from convlens_tools.fixtures import FixtureFolder
from convlens_tools.metrics import rel_l2
from convlens_tools.onnx_export import export_onnx
from convlens_tools.onnxruntime_eval import evaluate

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "ModelGraphTests" / "Fixtures" / "exported_ops"


class ConvTranspose(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.up1 = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1, groups=2, bias=False)
        self.up3 = nn.ConvTranspose2d(4, 2, 3, stride=1, padding=2, dilation=2)

    def forward(self, x):
        return self.up3(torch.tanh(self.up2(torch.tanh(self.up1(torch.tanh(self.down(x)))))))


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 3, padding=1)
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(0.5 + torch.rand(dim))
        self.group_norm = nn.GroupNorm(2, dim)
        self.instance_norm = nn.InstanceNorm2d(dim, affine=True)
        self.head = nn.Linear(dim * 12 * 10, 5)
        for norm in (self.norm, self.group_norm, self.instance_norm):
            nn.init.uniform_(norm.weight, 0.5, 1.5)
            nn.init.uniform_(norm.bias, -0.5, 0.5)

    def forward(self, x):
        x = self.stem(x)
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y))))
        x = x + (self.gamma * y).permute(0, 3, 1, 2)
        x = self.instance_norm(torch.tanh(self.group_norm(x)))
        # Flattened, not averaged: the mean of an instance-normalized plane is its shift, whatever the input.
        return self.head(x.flatten(1))


class SplitSlice(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.head = nn.Linear(5, 4)

    def forward(self, x):
        a, b = torch.split(self.conv(x), 4, dim=1)
        x = torch.cat([torch.tanh(a), 0.5 * b], dim=1)[:, :, 1:, ::2]
        first = x[:, 0]
        rest = x[:, 1:].mean(dim=1)
        x = torch.cat([first.unsqueeze(1), rest.unsqueeze(1)], dim=1)
        return self.head(x.mean(dim=2)[:, :, :5].flatten(1)[:, :5])


class Upsample(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 6, 3, stride=2, padding=1)
        self.mix = nn.Conv2d(6, 4, 3, padding=1)
        self.head = nn.Conv2d(4 + 3, 2, 1)

    def forward(self, x):
        y = torch.tanh(self.down(x))
        y = F.interpolate(y, scale_factor=2, mode="nearest")
        y = torch.tanh(self.mix(y))
        y = F.interpolate(y, size=(x.shape[2] * 3 // 2, x.shape[3] + 3), mode="bilinear", align_corners=False)
        y = nn.functional.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=True)
        return self.head(torch.cat([y, x], dim=1))


def vit_tiny():
    model = torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=5)
    torch.nn.init.normal_(model.heads.head.weight, std=0.5)
    return model


MODELS = [
    ("conv_transpose", ConvTranspose, (16, 15), 1),
    ("convnext_block", ConvNeXtBlock, (12, 10), 2),
    ("split_slice", SplitSlice, (9, 12), 3),
    ("vit_tiny", vit_tiny, (32, 32), 4),
    ("upsample", Upsample, (10, 12), 5),
]


def export_legacy(model, x) -> bytes:
    buffer = io.BytesIO()
    export_onnx(model, x, buffer, 17)
    return buffer.getvalue()


def export_dynamo(model, x, folder: Path) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (x,), dynamo=True, input_names=["input"], output_names=["logits"],
                                    dynamic_shapes=({0: torch.export.Dim("batch", max=64)},), verbose=False)
    path = folder / "dynamo.onnx"
    program.save(str(path))
    return path.read_bytes()


def ops(model_bytes: bytes) -> dict:
    model = onnx.load_from_string(model_bytes)
    return {"opset": model.opset_import[0].version,
            "ops": dict(sorted(collections.Counter(n.op_type for n in model.graph.node).items()))}


def main() -> int:
    make_deterministic(threads=1, seed=0)
    for name, build, (h, w), seed in MODELS:
        torch.manual_seed(seed)
        model = build().eval()
        x_np = np.random.default_rng(seed).standard_normal((2, 3, h, w)).astype(np.float32)
        x = torch.from_numpy(x_np.copy())
        folder = FixtureFolder(FIXTURES / name)
        legacy = export_legacy(model, x)
        (folder.path / "legacy.onnx").write_bytes(legacy)
        dynamo = export_dynamo(model, x, folder.path)
        assert not list(folder.path.glob("*.data")), "small models keep their weights inside the file"

        xg = x.clone().requires_grad_(True)
        output = model(xg)
        seed_np = np.random.default_rng(seed + 100).standard_normal(tuple(output.shape)).astype(np.float32)
        (output * torch.from_numpy(seed_np)).sum().backward()
        torch_output = output.detach().numpy()
        errors = {}
        for label, data in (("legacy", legacy), ("dynamo", dynamo)):
            errors[label] = float(rel_l2(evaluate(data, x_np), torch_output))
            assert errors[label] < 1e-5, (name, label, errors[label])
        folder.save("input", x_np, "seeded standard normal input")
        folder.save("output", torch_output, "PyTorch's output")
        folder.save("seed", seed_np, "the output gradient seed")
        folder.save("input_grad", xg.grad.numpy(), "d sum(output * seed) / d input, PyTorch autograd")
        folder.write_json("fixture.json", {
            "generator": "Tools/make_exported_op_fixtures.py",
            "legacy": ops(legacy), "dynamo": ops(dynamo), "onnxruntime_vs_torch_rel_l2": errors,
            "versions": {p: importlib.metadata.version(p) for p in ("torch", "torchvision", "onnxruntime", "onnxscript")},
            "files": folder.files,
        })
        print("%-15s legacy %s\n%-15s dynamo %s\n%-15s ORT vs torch %s"
              % (name, ops(legacy)["ops"], "", ops(dynamo)["ops"], "", errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
