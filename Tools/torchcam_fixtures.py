#!/usr/bin/env python3
"""Reference fixtures for torch-cam's SS-CAM, IS-CAM and Smooth Grad-CAM++.

torch-cam's ``SSCAM`` and ``ISCAM`` run here on the same three small ONNX models, inputs, classes and layer as
``Tools/cam_fixtures.py`` (pytorch-grad-cam's fixtures), through the same ONNX-to-torch evaluator. SS-CAM and Smooth
Grad-CAM++ draw Gaussian noise from ``torch.distributions.Normal``; here its ``sample`` is replaced by ConvLens's own seeded
generator (SplitMix64 and Box–Muller, ``Sources/TensorOps/SeededGenerator.swift``, written out below in numpy), so
ConvLens run with the same seed sees the same noise and the fixture compares the methods, not two random streams.
Every other step is torch-cam's own code. Each result is also recomputed from the formulas in the README below
(independently of torch-cam) and asserted equal.

How to run (from the repository root; no network needed)::

    /root/convlens-venv/bin/python Tools/torchcam_fixtures.py

Outputs: ``Tests/VisualizationTests/Fixtures/torchcam/<model>/`` for mnist_cnn, residual_bn and concat_grouped
(float32 .npy: ``<method>_weights`` N x K, ``<method>_map`` torch-cam's normalized map N x h x w, ``cam_<method>``
that map presented as ConvLens presents every map, N x H x W) with ``fixture.json``, and a README.md.

Dependencies (PyPI, in a venv outside the repository): torch, onnx, onnxruntime, torchcam, grad-cam, captum,
opencv-python-headless, numpy (``cam_fixtures`` is imported for the shared models and helpers).
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torchcam.methods import ISCAM, SSCAM, SmoothGradCAMpp

from cam_fixtures import conv_layer_values, ref_scale, write_companion_fixtures  # the same models, layers and presentation
from convlens_tools.fixtures import FixtureFolder
from convlens_tools.onnx_torch import OnnxGraphModule

ROOT = Path(__file__).resolve().parent.parent
OUT_ROOT = ROOT / "Tests" / "VisualizationTests" / "Fixtures" / "torchcam"

BATCH = 32  # torch-cam's default batch_size for both
SSCAM_SAMPLES = 4  # torch-cam's default is 35; 4 keeps the Swift test short and still averages several draws
SSCAM_STD = 2.0  # torch-cam's default
SSCAM_SEED = 7
ISCAM_SAMPLES = 10  # torch-cam's default
SGCPP_SAMPLES = 4  # torch-cam's defaults for SmoothGradCAMpp
SGCPP_STD = 0.3
SGCPP_SEED = 11

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def seeded_normals(seed: int, start: int, count: int) -> np.ndarray:
    """Standard normals number start ..< start + count of ConvLens's SeededGenerator(seed:).nextNormal(): normal j
    takes the generator's draws 2j and 2j + 1 (SplitMix64: draw i mixes seed + (i + 1)·golden), u1 = max(first,
    smallest subnormal), sqrt(-2 ln u1)·cos(2π·second), in float64."""
    def uniform(draw: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            z = np.uint64(seed) + (draw + np.uint64(1)) * GOLDEN
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53

    j = np.arange(start, start + count, dtype=np.uint64)
    u1 = np.maximum(uniform(2 * j), np.finfo(np.float64).smallest_subnormal)
    return np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * uniform(2 * j + np.uint64(1)))


class SeededNormal:
    """Stands in for SSCAM's ``torch.distributions.Normal(0, std)``: each ``sample(size)`` continues one
    SeededGenerator stream, float32(std · normal), as ConvLens draws it."""

    def __init__(self, seed: int, std: float) -> None:
        self.seed, self.std, self.drawn = seed, std, 0

    def sample(self, size) -> torch.Tensor:
        count = int(np.prod(size))
        values = np.float32(self.std * seeded_normals(self.seed, self.drawn, count))
        self.drawn += count
        return torch.from_numpy(values.reshape(tuple(size)))


def normalized(a: torch.Tensor) -> torch.Tensor:
    """torch-cam's _normalize over the last two axes: (a - min) / (max(a - min) + 1e-8)."""
    a = a - a.amin(dim=(-2, -1), keepdim=True)
    return a / (a.amax(dim=(-2, -1), keepdim=True) + 1e-8)


def ref_weights(method: str, module, x, A, classes) -> np.ndarray:
    """The README's formulas: U = bilinear(normalized(A)) at the input size (half-pixel centres); per sample s the
    masked input (U + noise_s)·x (SS-CAM) or c_s·(U·x) with c_s = Σ_{j ≤ s} j/S (IS-CAM); weight = softmax over
    channels of the mean over samples of score(masked) - score(x)."""
    n, k = A.shape[:2]
    with torch.no_grad():
        U = F.interpolate(normalized(torch.from_numpy(A)), size=x.shape[-2:], mode="bilinear", align_corners=False)
        base = module(x)[torch.arange(n), torch.tensor(classes)]
        samples = SSCAM_SAMPLES if method == "sscam" else ISCAM_SAMPLES
        noise = SeededNormal(SSCAM_SEED, SSCAM_STD)
        total = torch.zeros(n, k)
        coeff = 0.0
        for s in range(samples):
            coeff += (s + 1) / samples
            masks = U + noise.sample(U.shape) if method == "sscam" else U
            for i in range(n):
                masked = masks[i][:, None] * x[i][None]
                if method == "iscam":
                    masked = coeff * masked
                total[i] += module(masked)[:, classes[i]] - base[i]
        return torch.softmax(total / samples, dim=-1).numpy()


def ref_smoothgradcampp(module, layer_module, x, classes):
    """The README's Smooth Grad-CAM++: weights and the map, from autograd and the same noise stream."""
    noise = SeededNormal(SGCPP_SEED, SGCPP_STD)
    seen = {}
    handle = layer_module.register_forward_hook(lambda m, i, o: seen.__setitem__("a", o))
    try:
        with torch.no_grad():
            module(x)
        clean = seen["a"].detach()
        g2 = torch.zeros_like(clean)
        g3 = torch.zeros_like(clean)
        for _ in range(SGCPP_SAMPLES):
            out = module(x + noise.sample(x.shape))
            (g,) = torch.autograd.grad(out[torch.arange(x.shape[0]), torch.tensor(classes)].sum(), [seen["a"]])
            g2, g3 = g2 + g * g, g3 + g * g * g
    finally:
        handle.remove()
    g2, g3 = g2 / SGCPP_SAMPLES, g3 / SGCPP_SAMPLES
    alpha = g2 / (2 * g2 + (g3 * clean).sum(dim=(2, 3), keepdim=True) + 1e-8)
    weights = (alpha * torch.relu(g)).sum(dim=(2, 3))
    last = seen["a"].detach()
    return weights.numpy(), normalized(torch.relu((weights[:, :, None, None] * last).sum(1))).numpy()


def make_fixture(name: str, onnx_path: Path, x_np: np.ndarray) -> dict:
    folder = FixtureFolder(OUT_ROOT / name, remove_old_arrays=True)
    module = OnnxGraphModule(onnx.load(str(onnx_path))).eval()
    x = torch.from_numpy(x_np)
    n, _, h, w = x_np.shape
    layer = conv_layer_values(onnx.load(str(onnx_path)))[-1]
    layer_module = module.module_for_value(layer)
    with torch.no_grad():
        classes = [int(c) for c in module(x).argmax(dim=1)]
    checks = {}
    for method, cls, extra in (("sscam", SSCAM, {"num_samples": SSCAM_SAMPLES, "std": SSCAM_STD}),
                               ("iscam", ISCAM, {"num_samples": ISCAM_SAMPLES})):
        extractor = cls(module, target_layer=layer_module, batch_size=BATCH, input_shape=tuple(x_np.shape[1:]),
                        **extra)
        if method == "sscam":
            extractor._distrib = SeededNormal(SSCAM_SEED, SSCAM_STD)
        weights_seen = {}
        score_weights = extractor._get_score_weights

        def keep_weights(*args, **kwargs):
            result = score_weights(*args, **kwargs)
            weights_seen["w"] = result[0].numpy()
            return result

        extractor._get_score_weights = keep_weights
        try:
            with torch.no_grad():
                scores = module(x)
                A = extractor.hook_a[0].numpy()
                (cam,) = extractor(class_idx=classes, scores=scores)
        finally:
            extractor.remove_hooks()
        cam, weights = cam.numpy(), weights_seen["w"]
        want = ref_weights(method, module, x, A, classes)
        checks[f"{method}_weights_vs_readme_formula_max_abs"] = float(np.max(np.abs(weights - want)))
        assert checks[f"{method}_weights_vs_readme_formula_max_abs"] <= 1e-5, (name, method, checks)
        own_map = normalized(torch.relu((torch.from_numpy(want)[:, :, None, None] * torch.from_numpy(A)).sum(1)))
        checks[f"{method}_map_vs_readme_formula_max_abs"] = float(np.max(np.abs(cam - own_map.numpy())))
        assert checks[f"{method}_map_vs_readme_formula_max_abs"] <= 1e-5, (name, method, checks)
        folder.save(f"{method}_weights", weights, f"torch-cam {cls.__name__} channel weights, N x K")
        folder.save(f"{method}_map", cam, f"torch-cam {cls.__name__} map (normalized, layer resolution), N x h x w")
        folder.save(f"cam_{method}", ref_scale(ref_scale(cam, (w, h))),
                    "that map scaled, resized to the input (bilinear, half-pixel centres) and scaled again "
                    "((m - min) / (max - min + 1e-7)), as ConvLens and pytorch-grad-cam present a map, N x H x W")
    extractor = SmoothGradCAMpp(module, target_layer=layer_module, num_samples=SGCPP_SAMPLES, std=SGCPP_STD,
                                input_shape=tuple(x_np.shape[1:]))
    extractor._distrib = SeededNormal(SGCPP_SEED, SGCPP_STD)
    try:
        module(x)
        (cam,) = extractor(class_idx=classes)
    finally:
        extractor.remove_hooks()
    module.zero_grad(set_to_none=True)
    cam = cam.detach().numpy()
    _, want = ref_smoothgradcampp(module, layer_module, x, classes)
    module.zero_grad(set_to_none=True)
    checks["smoothgradcampp_map_vs_readme_formula_max_abs"] = float(np.max(np.abs(cam - want)))
    assert checks["smoothgradcampp_map_vs_readme_formula_max_abs"] <= 1e-5, (name, checks)
    folder.save("smoothgradcampp_map", cam, "torch-cam SmoothGradCAMpp map (normalized, layer resolution), N x h x w")
    folder.save("cam_smoothgradcampp", ref_scale(ref_scale(cam, (w, h))),
                "that map scaled, resized to the input and scaled again, as ConvLens presents a map, N x H x W")
    fixture = {
        "name": name, "source_onnx": str(onnx_path.relative_to(ROOT)), "generator": "Tools/torchcam_fixtures.py",
        "input_shape": list(x_np.shape), "target_classes": classes, "layer": layer,
        "parameters": {"batch_size": BATCH, "sscam": {"num_samples": SSCAM_SAMPLES, "std": SSCAM_STD, "seed": SSCAM_SEED,
                                                      "noise": "ConvLens SeededGenerator(seed:), float32(std * normal)"},
                       "iscam": {"num_samples": ISCAM_SAMPLES},
                       "smoothgradcampp": {"num_samples": SGCPP_SAMPLES, "std": SGCPP_STD, "seed": SGCPP_SEED}},
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "torchcam": importlib.metadata.version("torchcam"), "numpy": np.__version__},
        "checks": checks, "files": folder.files,
    }
    folder.write_json("fixture.json", fixture)
    return fixture


README = r"""# torch-cam reference fixtures: SS-CAM and IS-CAM

Made by `Tools/torchcam_fixtures.py` with torch-cam __TORCHCAM__ (regenerate from the repository root with
`/root/convlens-venv/bin/python Tools/torchcam_fixtures.py`). Same models, inputs, target classes and layer (the last
convolution) as `../cam` (`fixture.json` names them). Float32, C order, N = 2.

| file | shape | contents |
|---|---|---|
| `sscam_weights.npy`, `iscam_weights.npy` | N x K | the channel weights torch-cam's `SSCAM` and `ISCAM` compute |
| `sscam_map.npy`, `iscam_map.npy` | N x h x w | what their `__call__` returns: the normalized map at the layer's resolution |
| `cam_sscam.npy`, `cam_iscam.npy` | N x H x W | that map scaled `(m - min) / (max - min + 1e-7)`, resized to the input (bilinear, half-pixel centres) and scaled again, as ConvLens and pytorch-grad-cam present every map |

Semantics (torch-cam's code; the script recomputes them independently and asserts agreement to 1e-5):

- `normalize(a)` per channel plane: `a - min`, then divided by `max(a - min) + 1e-8`.
- `U = interpolate(normalize(A), (H, W), bilinear, align_corners=False)`: each channel's mask at the input size.
- Baseline `b[n] = out(x)[n, class_n]`; scores are raw model outputs (probabilities for `concat_grouped`).
- **SS-CAM** (`num_samples` S = __SSS__, `std` σ = __STD__): for each sample s, noise `δ_s` of U's shape
  (N x K x H x W, drawn in C order, one stream over the samples); `t[n,k] += out((U[n,k] + δ_s[n,k]) · x[n])[class_n] - b[n]`.
  The noise is ConvLens's `SeededGenerator(seed: __SEED__)`, `float32(σ · nextNormal())` per element, in place of
  torch's Normal sampler.
- **IS-CAM** (S = __ISS__): `c_s = Σ_{j=1..s+1} j / S` (cumulative, as torch-cam writes it: it reaches (S + 1)/2);
  `t[n,k] += out(c_s · (U[n,k] · x[n]))[class_n] - b[n]`.
- `w[n] = softmax_k(t[n] / S)`; map `normalize(relu(Σ_k w[n,k] A[n,k]))` (raw A).
- **Smooth Grad-CAM++** (`SmoothGradCAMpp`, S = __SGS__, σ = __SGSTD__, seed __SGSEED__): per sample s the input plus
  noise (`float32(σ · nextNormal())` per element, input-sized, one stream) runs forward and back to the layer,
  `g_s = d out[class] / dA`; `ḡ2 = Σ_s g_s² / S`, `ḡ3 = Σ_s g_s³ / S`;
  `α = ḡ2 / (2 ḡ2 + Σ_positions(ḡ3 · A_clean) + 1e-8)`; `w[n,k] = Σ_positions α · relu(g_S)` (the last sample's
  gradient); map `normalize(relu(Σ_k w A_S))` with `A_S` the last noisy pass's activation (torch-cam's hooks keep it).
  Files `smoothgradcampp_map.npy`, `cam_smoothgradcampp.npy`.
"""


def main() -> None:
    write_companion_fixtures(
        OUT_ROOT, make_fixture,
        lambda f: f"classes {f['target_classes']}, layer {f['layer']}, checks {f['checks']}",
        README.replace("__TORCHCAM__", importlib.metadata.version("torchcam"))
        .replace("__SSS__", str(SSCAM_SAMPLES)).replace("__STD__", str(SSCAM_STD))
        .replace("__SEED__", str(SSCAM_SEED)).replace("__ISS__", str(ISCAM_SAMPLES))
        .replace("__SGS__", str(SGCPP_SAMPLES)).replace("__SGSTD__", str(SGCPP_STD))
        .replace("__SGSEED__", str(SGCPP_SEED)))



if __name__ == "__main__":
    main()
