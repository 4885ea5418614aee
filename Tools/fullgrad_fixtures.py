#!/usr/bin/env python3
"""Reference fixtures for FullGrad as pytorch-grad-cam computes it, over the graph as ConvLens runs it.

pytorch-grad-cam's ``FullGrad`` sums, per image, the input-gradient term |x · ∂s/∂x| and one term per layer with a
bias, |bias · ∂s/∂(layer output)|, each channel plane min-max scaled and resized to the input, then scales the sum.
Its layers are the model's ``nn.Conv2d`` and ``nn.BatchNorm2d`` modules with a bias. ConvLens runs ONNX graphs in
which a BatchNormalization that follows a convolution is folded into it (as exporters fold it), so here the layers
are the graph's convolutions with a bias — their output taken after such a BatchNormalization, with the folded
bias — and the BatchNormalizations that stand alone, with pytorch-grad-cam's own bias formula
b − mean · γ / √(var + ε). The list and the biases are handed to pytorch-grad-cam's ``FullGrad`` (its layer search
and bias lookup replaced); every other step is its own code. The result is also recomputed from the README's
formula below, independently, and asserted equal.

How to run (from the repository root; no network needed)::

    /root/convlens-venv/bin/python Tools/fullgrad_fixtures.py

Outputs: ``Tests/VisualizationTests/Fixtures/fullgrad/<model>/`` for mnist_cnn, residual_bn and concat_grouped
(``cam_fullgrad.npy`` N x H x W and ``fixture.json``), and a README.md.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path
from unittest import mock

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import pytorch_grad_cam.fullgrad_cam  # noqa: E402
import torch  # noqa: E402
from onnx import numpy_helper  # noqa: E402
from pytorch_grad_cam import FullGrad  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

from cam_fixtures import bilinear_half_pixel, write_companion_fixtures  # noqa: E402  (the same models and inputs)
from convlens_tools.fixtures import FixtureFolder  # noqa: E402
from convlens_tools.onnx_graph import consumers  # noqa: E402
from convlens_tools.onnx_torch import OnnxGraphModule  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT_ROOT = ROOT / "Tests" / "VisualizationTests" / "Fixtures" / "fullgrad"


def bias_layers(model: onnx.ModelProto) -> list[tuple[str, np.ndarray]]:
    """(output value, bias) of every layer FullGrad reads, in node order: a Conv with a bias, or a BatchNormalization
    (the one right after a Conv carrying the Conv's bias folded into it)."""
    arrays = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    readers = consumers(model.graph)
    producers = {out: node for node in model.graph.node for out in node.output}
    layers = []
    for node in model.graph.node:
        if node.op_type == "Conv":
            after = readers.get(node.output[0], [])
            folded = len(after) == 1 and after[0].op_type == "BatchNormalization"
            if not folded and len(node.input) > 2 and node.input[2]:
                layers.append((node.output[0], arrays[node.input[2]]))
        elif node.op_type == "BatchNormalization":
            scale, shift, mean, var = (arrays[name] for name in node.input[1:5])
            eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
            gain = scale / np.sqrt(var + eps)
            bias = shift - mean * gain
            conv = producers.get(node.input[0])
            if conv is not None and conv.op_type == "Conv" and len(conv.input) > 2 and conv.input[2]:
                bias = bias + gain * arrays[conv.input[2]]
            layers.append((node.output[0], bias))
    return [(value, np.float32(bias)) for value, bias in layers]


class GraphFullGrad(FullGrad):
    """pytorch-grad-cam's FullGrad with the layers and biases given instead of searched for by module type."""

    def __init__(self, module: OnnxGraphModule, layers: list[tuple[str, np.ndarray]]) -> None:
        modules = [module.module_for_value(value) for value, _ in layers]
        self._biases = {id(m): torch.from_numpy(bias) for m, (_, bias) in zip(modules, layers)}
        with mock.patch.object(pytorch_grad_cam.fullgrad_cam, "find_layer_predicate_recursive",
                               lambda model, predicate: modules):
            super().__init__(module, [])

    def get_bias_data(self, layer):
        return self._biases[id(layer)]


def scaled(planes: np.ndarray, h: int, w: int) -> np.ndarray:
    """Each plane (m - min) / (max - min + 1e-7), resized to h x w (bilinear, half-pixel centres)."""
    out = []
    for plane in planes:
        plane = plane - plane.min()
        plane = plane / (np.float32(1e-7) + plane.max())
        out.append(bilinear_half_pixel(plane, h, w))
    return np.float32(out)


def ref_fullgrad(module, x: torch.Tensor, layers, classes) -> np.ndarray:
    n, c, h, w = x.shape
    outputs = {}
    hooks = [module.module_for_value(value).register_forward_hook(
        lambda m, i, o, value=value: outputs.__setitem__(value, o)) for value, _ in layers]
    try:
        xi = x.clone().requires_grad_(True)
        out = module(xi)
    finally:
        for hook in hooks:
            hook.remove()
    targets = [xi] + [outputs[value] for value, _ in layers]
    grads = torch.autograd.grad(out[torch.arange(n), torch.tensor(classes)].sum(), targets)
    total = scaled(np.abs(grads[0].numpy() * x.numpy()).reshape(n * c, h, w), h, w).reshape(n, c, h, w).sum(1)
    for (_, bias), g in zip(layers, grads[1:]):
        g = g.numpy()
        terms = np.abs(bias[None, :, None, None] * g).reshape(-1, *g.shape[2:])
        total = total + scaled(terms, h, w).reshape(n, g.shape[1], h, w).sum(1)
    module.zero_grad(set_to_none=True)
    return scaled(total, h, w)


def make_fixture(name: str, onnx_path: Path, x_np: np.ndarray) -> dict:
    folder = FixtureFolder(OUT_ROOT / name, remove_old_arrays=True)
    proto = onnx.load(str(onnx_path))
    module = OnnxGraphModule(proto).eval()
    x = torch.from_numpy(x_np)
    with torch.no_grad():
        classes = [int(c) for c in module(x).argmax(dim=1)]
    layers = bias_layers(proto)
    cam = GraphFullGrad(module, layers)
    try:
        result = np.asarray(cam(input_tensor=x.clone(), targets=[ClassifierOutputTarget(c) for c in classes]))
    finally:
        cam.activations_and_grads.release()
    module.zero_grad(set_to_none=True)
    want = ref_fullgrad(module, x, layers, classes)
    check = float(np.max(np.abs(result - want)))
    assert check <= 2e-5, (name, check)
    folder.save("cam_fullgrad", result, "pytorch-grad-cam FullGrad over the layers in fixture.json, N x H x W")
    fixture = {
        "name": name, "source_onnx": str(onnx_path.relative_to(ROOT)), "generator": "Tools/fullgrad_fixtures.py",
        "input_shape": list(x_np.shape), "target_classes": classes,
        "bias_layers": [value for value, _ in layers],
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "grad-cam": importlib.metadata.version("grad-cam"), "numpy": np.__version__},
        "checks": {"cam_fullgrad_vs_readme_formula_max_abs": check}, "files": folder.files,
    }
    folder.write_json("fixture.json", fixture)
    return fixture


README = r"""# FullGrad reference fixtures (pytorch-grad-cam __GRADCAM__)

Made by `Tools/fullgrad_fixtures.py` (regenerate from the repository root with
`/root/convlens-venv/bin/python Tools/fullgrad_fixtures.py`). Same models, inputs and target classes as `../cam`.
`cam_fullgrad.npy` (N x H x W, float32) is what pytorch-grad-cam's `FullGrad` returns with the layers that
`fixture.json` lists (`bias_layers`, ONNX value names) and their biases; the script asserts the formula below to 2e-5.

Layers: every Conv with a bias and every BatchNormalization, where a BatchNormalization that directly follows a Conv
stands for both (ConvLens folds it into the Conv, as exporters do): its output, with bias
`b - mean * gamma / sqrt(var + eps)` plus `gamma / sqrt(var + eps)` times the Conv's bias if it has one.

Semantics, per image n, with `g_l = d out[n, class_n] / d(layer l output)` and `scale(P)` = each plane
`(P - min) / (max - min + 1e-7)` resized to H x W (bilinear, half-pixel centres; cv2.resize):

    M = sum_c scale(|x * dx|)[c] + sum_l sum_k scale(|bias_l[k] * g_l[k]|)
    FullGrad = (M - min M) / (max M - min M + 1e-7)
"""


def main() -> None:
    write_companion_fixtures(
        OUT_ROOT, make_fixture,
        lambda f: f"classes {f['target_classes']}, {len(f['bias_layers'])} bias layers, checks {f['checks']}",
        README.replace("__GRADCAM__", importlib.metadata.version("grad-cam")))



if __name__ == "__main__":
    main()
