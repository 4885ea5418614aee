#!/usr/bin/env python3
"""Reference fixtures for attributions of a feature map (one channel of a layer) instead of a class.

Captum's neuron attributions — ``NeuronGradient``, ``NeuronGuidedBackprop``, ``NeuronDeconvolution``,
``NeuronIntegratedGradients`` — run here on the same three small ONNX models, inputs and layer (the last
convolution) as ``Tools/cam_fixtures.py``, through the same ONNX-to-torch evaluator, for channel 1 of that layer:
summed over its positions, and at one position. The plain gradient is also taken with ``torch.autograd.grad``
directly and asserted equal to Captum's.

How to run (from the repository root; no network needed)::

    /root/convlens-venv/bin/python Tools/feature_saliency_fixtures.py

Outputs: ``Tests/VisualizationTests/Fixtures/feature_saliency/<model>/`` for mnist_cnn, residual_bn and
concat_grouped: ``<method>_<unit>.npy`` (N x C x H x W) for method in gradient, guided_backprop, deconvolution,
integrated_gradients and unit in ``sum`` and ``position``, with ``fixture.json``; and a README.md.
"""

from __future__ import annotations

import importlib.metadata
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from captum.attr import NeuronDeconvolution, NeuronGradient, NeuronGuidedBackprop, NeuronIntegratedGradients

from cam_fixtures import IG_METHOD, IG_STEPS, conv_layer_values, write_companion_fixtures  # the same models, inputs, layer
from convlens_tools.fixtures import FixtureFolder
from convlens_tools.metrics import rel_l2
from convlens_tools.onnx_torch import OnnxGraphModule

ROOT = Path(__file__).resolve().parent.parent
OUT_ROOT = ROOT / "Tests" / "VisualizationTests" / "Fixtures" / "feature_saliency"
CHANNEL = 1
POSITION = (2, 3)


def make_fixture(name: str, onnx_path: Path, x_np: np.ndarray) -> dict:
    folder = FixtureFolder(OUT_ROOT / name, remove_old_arrays=True)
    proto = onnx.load(str(onnx_path))
    module = OnnxGraphModule(proto).eval()
    value = conv_layer_values(proto)[-1]
    layer = module.module_for_value(value)
    x = torch.from_numpy(x_np)
    selectors = {"sum": lambda out: out[:, CHANNEL].sum(dim=(1, 2)), "position": (CHANNEL, *POSITION)}
    checks = {}
    for unit, selector in selectors.items():
        for method, cls, extra in (
                ("gradient", NeuronGradient, {}),
                ("guided_backprop", NeuronGuidedBackprop, {}),
                ("deconvolution", NeuronDeconvolution, {}),
                ("integrated_gradients", NeuronIntegratedGradients,
                 {"n_steps": IG_STEPS, "method": IG_METHOD, "baselines": torch.zeros_like(x)})):
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
                result = cls(module, layer).attribute(x.clone().requires_grad_(True), neuron_selector=selector,
                                                      **extra).detach().numpy()
            module.zero_grad(set_to_none=True)
            folder.save(f"{method}_{unit}", result, f"Captum {cls.__name__}, channel {CHANNEL} "
                        + ("summed over positions" if unit == "sum" else f"at {POSITION}") + ", N x C x H x W")
            if method == "gradient":
                seen = {}
                handle = layer.register_forward_hook(lambda m, i, o: seen.__setitem__("a", o))
                xi = x.clone().requires_grad_(True)
                try:
                    module(xi)
                finally:
                    handle.remove()
                a = seen["a"][:, CHANNEL]
                objective = a.sum() if unit == "sum" else a[:, POSITION[0], POSITION[1]].sum()
                (plain,) = torch.autograd.grad(objective, [xi])
                checks[f"gradient_{unit}_vs_autograd_rel_l2"] = rel_l2(result, plain.numpy())
                assert checks[f"gradient_{unit}_vs_autograd_rel_l2"] < 1e-6, (name, checks)
    fixture = {
        "name": name, "source_onnx": str(onnx_path.relative_to(ROOT)), "generator": "Tools/feature_saliency_fixtures.py",
        "input_shape": list(x_np.shape), "layer": value, "channel": CHANNEL, "position": list(POSITION),
        "integrated_gradients": {"n_steps": IG_STEPS, "method": IG_METHOD, "baseline": 0.0},
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "captum": importlib.metadata.version("captum"), "numpy": np.__version__},
        "checks": checks, "files": folder.files,
    }
    folder.write_json("fixture.json", fixture)
    return fixture


README = r"""# Attributions of a feature map: Captum __CAPTUM__ reference fixtures

Made by `Tools/feature_saliency_fixtures.py` (regenerate from the repository root with
`/root/convlens-venv/bin/python Tools/feature_saliency_fixtures.py`). Same models and inputs as `../cam`; the layer is
the last convolution (`fixture.json`), the unit its channel __CHANNEL__, either summed over every position (`_sum`)
or at row, column __POSITION__ (`_position`). Files are N x C x H x W float32, the attribution of the unit in each
image with respect to that image:

- `gradient_*`: `NeuronGradient`, d(unit)/d(input) (also checked against `torch.autograd.grad`);
- `guided_backprop_*`, `deconvolution_*`: `NeuronGuidedBackprop`, `NeuronDeconvolution` (ReLU backward hooks on
  `nn.ReLU` modules, as in `../cam`);
- `integrated_gradients_*`: `NeuronIntegratedGradients`, zero baseline, `riemann_trapezoid`, __STEPS__ steps.
"""


def main() -> None:
    write_companion_fixtures(
        OUT_ROOT, make_fixture, lambda f: f"layer {f['layer']}, checks {f['checks']}",
        README.replace("__CAPTUM__", importlib.metadata.version("captum")).replace("__CHANNEL__", str(CHANNEL))
        .replace("__POSITION__", f"{POSITION[0]}, {POSITION[1]}").replace("__STEPS__", str(IG_STEPS)))



if __name__ == "__main__":
    main()
