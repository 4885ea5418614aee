#!/usr/bin/env python3
"""Reference fixtures for Finer-CAM as pytorch-grad-cam computes it.

pytorch-grad-cam's ``FinerCAM`` (Grad-CAM as its base method) runs here on the same three small ONNX models, inputs
and layer as ``Tools/cam_fixtures.py``, through the same ONNX-to-torch evaluator, with its defaults: the target is
each image's top class, compared with the 3 classes whose scores are nearest it, α = 1. The script also writes the
gradient of Finer-CAM's target with respect to the model's outputs (autograd) and recomputes the map with
pytorch-grad-cam's plain ``GradCAM`` and a target written out from the README's formula, asserting agreement.

How to run (from the repository root; no network needed)::

    /root/convlens-venv/bin/python Tools/finercam_fixtures.py

Outputs: ``Tests/VisualizationTests/Fixtures/finercam/<model>/`` for mnist_cnn, residual_bn and concat_grouped
(``cam_finercam.npy`` N x H x W, ``target_gradient.npy`` N x classes, ``fixture.json``), and a README.md.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from pytorch_grad_cam import FinerCAM, GradCAM

from cam_fixtures import conv_layer_values, write_companion_fixtures  # the same models, inputs and layer
from convlens_tools.fixtures import FixtureFolder
from convlens_tools.onnx_torch import OnnxGraphModule

ROOT = Path(__file__).resolve().parent.parent
OUT_ROOT = ROOT / "Tests" / "VisualizationTests" / "Fixtures" / "finercam"
ALPHA = 1.0
COMPARISONS = 3


class FinerTarget:
    """The README's target for one image: sum_j p_j (s_c - alpha s_j) / (sum_j p_j + 1e-9)."""

    def __init__(self, target: int, compared: list[int]) -> None:
        self.target, self.compared = target, compared

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        p = torch.softmax(output, dim=-1)
        numerator = sum(p[j] * (output[self.target] - ALPHA * output[j]) for j in self.compared)
        return numerator / (sum(p[j] for j in self.compared) + 1e-9)


def compared_classes(row: np.ndarray, target: int) -> list[int]:
    """The COMPARISONS classes nearest the target's score, nearest first (ties by class index)."""
    order = sorted(range(len(row)), key=lambda k: (abs(float(row[k]) - float(row[target])), k))
    return [k for k in order if k != target][:min(COMPARISONS, len(row) - 1)]


def make_fixture(name: str, onnx_path: Path, x_np: np.ndarray) -> dict:
    folder = FixtureFolder(OUT_ROOT / name, remove_old_arrays=True)
    proto = onnx.load(str(onnx_path))
    module = OnnxGraphModule(proto).eval()
    layer = module.module_for_value(conv_layer_values(proto)[-1])
    x = torch.from_numpy(x_np)
    with torch.no_grad():
        logits = module(x)
    classes = [int(c) for c in logits.argmax(dim=1)]
    targets = [FinerTarget(c, compared_classes(row, c)) for row, c in zip(logits.numpy(), classes)]

    with FinerCAM(model=module, target_layers=[layer]) as cam:
        result = np.asarray(cam(input_tensor=x.clone(), alpha=ALPHA))
    module.zero_grad(set_to_none=True)
    with GradCAM(model=module, target_layers=[layer]) as plain:
        want = np.asarray(plain(input_tensor=x.clone(), targets=targets))
    module.zero_grad(set_to_none=True)
    check = float(np.max(np.abs(result - want)))
    assert check <= 2e-5, (name, check)

    outputs = logits.clone().requires_grad_(True)
    gradient = torch.stack([torch.autograd.grad(t(outputs[i]), outputs)[0][i] for i, t in enumerate(targets)])
    folder.save("cam_finercam", result, "pytorch-grad-cam FinerCAM (GradCAM base, defaults) on the last conv layer, "
                                        "N x H x W")
    folder.save("target_gradient", gradient.numpy(), "d(Finer-CAM target of image n) / d output[n], N x classes")
    fixture = {
        "name": name, "source_onnx": str(onnx_path.relative_to(ROOT)), "generator": "Tools/finercam_fixtures.py",
        "input_shape": list(x_np.shape), "target_classes": classes, "layer": conv_layer_values(proto)[-1],
        "compared_classes": [t.compared for t in targets], "alpha": ALPHA,
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "grad-cam": importlib.metadata.version("grad-cam"), "numpy": np.__version__},
        "checks": {"cam_finercam_vs_readme_formula_max_abs": check}, "files": folder.files,
    }
    folder.write_json("fixture.json", fixture)
    return fixture


README = r"""# Finer-CAM reference fixtures (pytorch-grad-cam __GRADCAM__)

Made by `Tools/finercam_fixtures.py` (regenerate from the repository root with
`/root/convlens-venv/bin/python Tools/finercam_fixtures.py`). Same models, inputs, classes and layer as `../cam`.

| file | shape | contents |
|---|---|---|
| `cam_finercam.npy` | N x H x W | what `FinerCAM(model, [last conv])(input_tensor=x, alpha=1)` returns (GradCAM base; default comparisons 1, 2, 3) |
| `target_gradient.npy` | N x classes | `dT_n / d out[n]` by autograd: the seed of the backward pass |

Target of image n with class c (its top class), outputs s and p = softmax(s): the comparison classes j are the three
whose scores are nearest s_c (|s_j - s_c| ascending, the class itself first and skipped; `compared_classes` in
`fixture.json`), and `T = sum_j p_j (s_c - alpha s_j) / (sum_j p_j + 1e-9)` with alpha = 1. The map is Grad-CAM's with
`T` in place of the class score (its gradient flows through p as well). The script asserts pytorch-grad-cam's
`GradCAM` with that target written out gives the same map (2e-5).
"""


def main() -> None:
    write_companion_fixtures(
        OUT_ROOT, make_fixture,
        lambda f: f"classes {f['target_classes']}, compared {f['compared_classes']}, checks {f['checks']}",
        README.replace("__GRADCAM__", importlib.metadata.version("grad-cam")))



if __name__ == "__main__":
    main()
