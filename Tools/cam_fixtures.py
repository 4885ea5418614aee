#!/usr/bin/env python3
"""Reference CAM and attribution fixtures from pytorch-grad-cam and Captum.

Purpose
-------
ConvLens implements class activation maps (Grad-CAM and friends) and input
attributions (saliency, guided backprop, integrated gradients, occlusion, ...)
itself. This script produces the outputs of the reference Python libraries,
pytorch-grad-cam (``pytorch_grad_cam``) and Captum (``captum.attr``), for three
small ONNX models, so the Swift tests can compare one to one.

The ONNX graphs are turned into PyTorch modules by the Tools package's generic
evaluator (``OnnxGraphModule`` in ``convlens_tools/onnx_torch.py``): one child
module per ONNX node (``nodes.<index>``), each computing that node with torch
functional ops, Relu nodes as ``nn.ReLU`` subclasses so Captum's guided
backprop / deconvolution can hook them. A forward hook on a child sees that
node's output (and, through a tensor hook, its gradient), which is how
pytorch-grad-cam's ``target_layers`` are given. The module is checked against
onnxruntime (rel L2 < 1e-5) before anything is used.

Every library result is also recomputed here from the formulas written in
``Tests/VisualizationTests/Fixtures/cam/README.md`` (numpy / torch, independent
of the libraries' code paths) and asserted equal, so the README is checked.

How to run (from the repository root; no network needed)::

    /root/convlens-venv/bin/python Tools/cam_fixtures.py

Outputs
-------
``Tests/VisualizationTests/Fixtures/cam/<model>/`` for model in
``mnist_cnn``, ``residual_bn``, ``concat_grouped``: float32 C-order ``.npy``
files (``input``, ``logits``, ``cam_<method>`` for gradcam, gradcam++,
xgradcam, layercam, hirescam, scorecam, ablationcam, eigencam, ``cam_gradcam_two_layers``,
``activations``, ``layer_gradients``, ``eigencam_projection``,
``saliency_gradient``, ``input_x_gradient``, ``guided_backprop``,
``deconvolution``, ``integrated_gradients``, ``occlusion``) and
``fixture.json`` (layers, classes, parameters, versions, file list with shapes
and descriptions, and ``torchcam_metrics``: torch-cam's deletion/insertion AUC,
average drop and increase in confidence of the Grad-CAM maps, softmax scores).
The shared ``README.md`` is written next to them.

Dependencies (PyPI, in a venv outside the repository): torch, onnx,
onnxruntime, grad-cam, captum, torchcam, opencv-python-headless, numpy.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import warnings
from pathlib import Path

# pytorch-grad-cam's ScoreCAM wraps its loop in tqdm; keep the output quiet.
# (tqdm reads TQDM_* variables when it is imported.)
os.environ.setdefault("TQDM_DISABLE", "1")

import cv2  # noqa: E402  (pytorch-grad-cam's scale_cam_image uses cv2.resize)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from convlens_tools.determinism import make_deterministic  # noqa: E402
from convlens_tools.fixtures import FixtureFolder, write_text  # noqa: E402
from convlens_tools.metrics import rel_l2  # noqa: E402
from convlens_tools.models import mnist_input, read_digits  # noqa: E402
from convlens_tools.onnx_graph import consumers  # noqa: E402
from convlens_tools.onnx_torch import OnnxGraphModule  # noqa: E402
from convlens_tools.onnxruntime_eval import evaluate  # noqa: E402

import captum  # noqa: E402
import pytorch_grad_cam  # noqa: E402
from captum.attr import (  # noqa: E402
    Deconvolution,
    GuidedBackprop,
    InputXGradient,
    IntegratedGradients,
    Occlusion,
    Saliency,
)
from pytorch_grad_cam import (  # noqa: E402
    AblationCAM,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    ScoreCAM,
    XGradCAM,
)
from pytorch_grad_cam.ablation_layer import AblationLayer  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT_ROOT = ROOT / "Tests" / "VisualizationTests" / "Fixtures" / "cam"

SEED = 0
IG_METHOD = "riemann_trapezoid"
IG_STEPS = 32
SCORECAM_BATCH = 16
ABLATIONCAM_BATCH = 32  # AblationCAM's default; its ablation values below zero depend on it
ABLATION_OFFSET = np.float32(1e7)
OCCLUSION_BASELINE = 0.0
MNIST_DIGITS = ["digit_3_0003.png", "digit_7_0013.png"]

# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------


def fixture_models() -> dict[str, tuple[Path, np.ndarray]]:
    """The three fixture models and their inputs, by name: the bundled MNIST model on two digits, and the
    residual_bn and concat_grouped test models on their own input.npy."""
    models = {"mnist_cnn": (ROOT / "Sources" / "BundledModel" / "mnist_cnn.onnx", mnist_input(read_digits(MNIST_DIGITS)))}
    for name in ("residual_bn", "concat_grouped"):
        src = ROOT / "Tests" / "ModelGraphTests" / "Fixtures" / name
        models[name] = (src / "model.onnx", np.load(src / "input.npy").astype(np.float32))
    return models


def write_companion_fixtures(out_root: Path, make_fixture, summary, readme: str) -> None:
    """What every companion fixture script (finercam, fullgrad, feature_saliency, torchcam) does: deterministically,
    `make_fixture(name, path, x)` for each of `fixture_models()` (writing under `out_root`), one line per model with
    `summary(fixture)`, then `readme` as the folder's README.md."""
    make_deterministic(threads=1, seed=0)
    out_root.mkdir(parents=True, exist_ok=True)
    for name, (path, x) in fixture_models().items():
        print(f"{name}: {summary(make_fixture(name, path, x))}")
    write_text(out_root / "README.md", readme)


def conv_layer_values(model: onnx.ModelProto) -> list[str]:
    """Output value of every Conv node, in node order; a BatchNormalization that
    directly consumes a Conv's output (as its X input) stands in for it."""
    readers = consumers(model.graph)
    values = []
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        value = node.output[0]
        after = readers.get(value, [])
        if len(after) == 1 and after[0].op_type == "BatchNormalization" and after[0].input[0] == value:
            value = after[0].output[0]
        values.append(value)
    return values


# ---------------------------------------------------------------------------
# Reference formulas (what the README states), used to check the libraries
# ---------------------------------------------------------------------------


def ref_scale(cams: np.ndarray, size_wh=None) -> np.ndarray:
    out = []
    for img in cams:
        img = img - np.min(img)
        img = img / (np.float32(1e-7) + np.max(img))
        if size_wh is not None:
            img = bilinear_half_pixel(img, size_wh[1], size_wh[0])
        out.append(img)
    return np.float32(out)


def bilinear_half_pixel(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """torch bilinear, align_corners=False, no antialias (== cv2 INTER_LINEAR for these sizes)."""
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))[None, None]
    return F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()


def ref_layer_map(method: str, A: np.ndarray, G: np.ndarray, channel_weights=None) -> np.ndarray:
    """Un-normalized per-layer map, N x h x w, before ReLU."""
    if method == "gradcam":
        w = G.mean(axis=(2, 3))
    elif method == "gradcam++":
        g2 = G * G
        g3 = g2 * G
        s = A.sum(axis=(2, 3), keepdims=True)
        a = g2 / (2 * g2 + s * g3 + np.float32(1e-6))
        a = np.where(G != 0, a, 0)
        w = (np.maximum(G, 0) * a).sum(axis=(2, 3))
    elif method == "xgradcam":
        s = A.sum(axis=(2, 3), keepdims=True)
        w = (G * A / (s + np.float32(1e-7))).sum(axis=(2, 3))
    elif method == "layercam":
        return (np.maximum(G, 0) * A).sum(axis=1)
    elif method == "hirescam":
        return (G * A).sum(axis=1)
    elif method in ("scorecam", "ablationcam"):
        w = channel_weights
    elif method == "eigencam":
        return eigen_projection(A)[0]
    else:
        raise ValueError(method)
    return (w[:, :, None, None] * A).sum(axis=1)


def ref_cam(per_layer_maps: list[np.ndarray], size_wh) -> np.ndarray:
    scaled = [ref_scale(np.maximum(m, 0), size_wh) for m in per_layer_maps]
    stacked = np.maximum(np.stack(scaled, axis=1), 0)
    return ref_scale(stacked.mean(axis=1))


def eigen_projection(A: np.ndarray):
    projections, signs = [], []
    for act in A:
        X = act.reshape(act.shape[0], -1).T  # (h*w) x K
        X = X - X.mean(axis=0)
        _, _, vt = np.linalg.svd(X, full_matrices=True)
        projections.append((X @ vt[0]).reshape(act.shape[1:]))
        signs.append(int(np.sign(vt[0].sum())))
    return np.float32(projections), signs


def ref_scorecam_weights(module, x, A, classes, batch):
    with torch.no_grad():
        up = F.interpolate(torch.from_numpy(A), size=x.shape[-2:], mode="bilinear", align_corners=True)
        flat = up.flatten(2)
        lo, hi = flat.min(-1)[0][:, :, None, None], flat.max(-1)[0][:, :, None, None]
        up = (up - lo) / (hi - lo + 1e-8)
        weights = []
        for n, c in enumerate(classes):
            masked = x[n][None] * up[n][:, None]  # K x C x H x W
            scores = torch.cat([module(masked[i:i + batch])[:, c] for i in range(0, masked.shape[0], batch)])
            weights.append(torch.softmax(scores, dim=-1))
        return torch.stack(weights).numpy()


def ref_ablationcam_weights(module, layer_module, x, A, classes, batch):
    """(score - score with channel k ablated) / score, the layer's output replaced through a forward hook."""
    with torch.no_grad():
        scores = module(x).numpy()
        weights = []
        for n, c in enumerate(classes):
            K = A.shape[1]
            minimum = np.float32(A[n].min())
            ablated = np.repeat(A[n][None], K, axis=0)
            for k in range(K):
                value = np.float32(0)
                if minimum != 0:
                    value = minimum
                    for _ in range(k % batch + 1):
                        value = np.float32(value - ABLATION_OFFSET)
                ablated[k, k] = value
            new_scores = []
            for start in range(0, K, batch):
                chunk = torch.from_numpy(ablated[start:start + batch])
                handle = layer_module.register_forward_hook(lambda m, i, o, chunk=chunk: chunk)
                try:
                    out = module(x[n:n + 1].repeat(chunk.shape[0], 1, 1, 1))
                finally:
                    handle.remove()
                new_scores.append(out[:, c].numpy())
            original = np.float32(scores[n, c])
            weights.append((original - np.concatenate(new_scores)) / original)
        return np.float32(weights)


class OnnxAblationLayer(AblationLayer):
    """pytorch-grad-cam's AblationLayer, computing exactly what it does, in place of one node of the ONNX graph
    module: it carries the node's value names so the module routes values through it, and accepts the node's
    inputs (ignoring them, as AblationLayer ignores its input)."""

    def __init__(self, node: nn.Module) -> None:
        super().__init__()
        self.op_type, self.onnx_inputs, self.onnx_outputs = "Ablation", node.onnx_inputs, node.onnx_outputs

    def __call__(self, *inputs):
        return super().__call__(inputs[0])


# ---------------------------------------------------------------------------
# Fixture generation
# ---------------------------------------------------------------------------


def assert_close(name: str, got, want, tol=2e-5) -> float:
    diff = float(np.max(np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))))
    assert diff <= tol, f"{name}: max |diff| {diff:.3g} > {tol}"
    return diff


def run_cam(cls, module, layers, x, targets, **extra):
    cam = cls(model=module, target_layers=layers)
    for k, v in extra.items():
        setattr(cam, k, v)
    try:
        result = cam(input_tensor=x, targets=targets)
        acts = [a.numpy() for a in cam.activations_and_grads.activations]
        grads = [g.numpy() for g in cam.activations_and_grads.gradients]
    finally:
        cam.activations_and_grads.release()
    module.zero_grad(set_to_none=True)
    return np.asarray(result), acts, grads


def torchcam_metrics(module, x, cam_map: np.ndarray, classes: list) -> dict:
    """torch-cam's faithfulness metrics for the Grad-CAM maps in ``cam_gradcam.npy`` (N x H x W), per image, with
    softmax scores: DeletionInsertionMetric (20 steps, zero baseline) and ClassificationMetric (average drop,
    increase in confidence). torch-cam asks an extractor for the map; a stub hands it this one, so the metric's
    own code does the rest."""
    import contextlib
    from functools import partial

    from torchcam.metrics import ClassificationMetric, DeletionInsertionMetric

    result = {"scores": "softmax", "steps": 20, "baseline": 0.0, "per_image": []}
    for n, target in enumerate(classes):
        cam = torch.from_numpy(cam_map[n:n + 1].copy())

        class Stub:
            model = module

            def __call__(self, *args, **kwargs):
                return [cam]

            def fuse_cams(self, cams):
                return cams[0]

            def _hooks_off(self):
                return contextlib.nullcontext()

        image = x[n:n + 1].clone()
        deletion = DeletionInsertionMetric(Stub(), partial(torch.softmax, dim=-1), steps=20)
        deletion.update(image, class_idx=[target])
        drop = ClassificationMetric(Stub(), partial(torch.softmax, dim=-1))
        drop.update(image, class_idx=[target])
        result["per_image"].append({**deletion.summary(), **drop.summary()})
    return result


def road_scores(module, x, cam_map: np.ndarray, classes: list) -> dict:
    """pytorch-grad-cam's ROAD for the Grad-CAM maps, with the imputation's noise switched off (noise=0) so that
    it is deterministic: per percentile 10..90 the score change (logit after imputation - logit before) for
    most-relevant-first and least-relevant-first removal, per image, and ROADCombined = (LeRF - MoRF) / 2 of their
    means over the percentiles."""
    from pytorch_grad_cam.metrics.perturbation_confidence import (PerturbationConfidenceMetric,
                                                                  RemoveLeastRelevantFirst, RemoveMostRelevantFirst)
    from pytorch_grad_cam.metrics.road import NoisyLinearImputer

    percentiles = [10, 20, 30, 40, 50, 60, 70, 80, 90]
    targets = [ClassifierOutputTarget(k) for k in classes]
    morf, lerf = [], []
    for p in percentiles:
        for removal, out in ((RemoveMostRelevantFirst, morf), (RemoveLeastRelevantFirst, lerf)):
            metric = PerturbationConfidenceMetric(removal(p, NoisyLinearImputer(noise=0)))
            out.append([float(v) for v in metric(x, cam_map, targets, module)])
    morf_mean, lerf_mean = np.mean(morf, axis=0), np.mean(lerf, axis=0)
    return {"percentiles": percentiles, "noise": 0.0, "scores": "logits", "morf": morf, "lerf": lerf,
            "combined": [float(v) for v in (lerf_mean - morf_mean) / 2]}


def make_fixture(name: str, onnx_path: Path, x_np: np.ndarray, input_note: str, output_note: str) -> dict:
    folder = FixtureFolder(OUT_ROOT / name, remove_old_arrays=True)
    proto = onnx.load(str(onnx_path))
    module = OnnxGraphModule(proto).eval()
    x = torch.from_numpy(x_np)
    n, c, h, w = x_np.shape
    checks: dict = {}

    # --- module vs onnxruntime ---------------------------------------------
    with torch.no_grad():
        logits = module(x).numpy()
    ort_logits = evaluate(onnx_path, x_np)
    err = rel_l2(logits, ort_logits)
    assert err < 1e-5, f"{name}: torch module vs onnxruntime rel L2 {err:.3g}"
    checks["module_vs_onnxruntime_rel_l2"] = err
    classes = [int(k) for k in logits.argmax(axis=1)]
    targets = [ClassifierOutputTarget(k) for k in classes]

    # --- layers ------------------------------------------------------------
    conv_values = conv_layer_values(proto)
    last_value, prev_value = conv_values[-1], conv_values[-2]
    last_mod, prev_mod = module.module_for_value(last_value), module.module_for_value(prev_value)

    # --- activations and gradients of the last conv ----------------------------
    seen = {}
    handle = last_mod.register_forward_hook(lambda m, i, o: seen.__setitem__("a", o))
    try:
        out = module(x)
    finally:
        handle.remove()
    loss = out[torch.arange(n), torch.tensor(classes)].sum()
    (grad,) = torch.autograd.grad(loss, [seen["a"]])
    A, G = seen["a"].detach().numpy(), grad.numpy()
    module.zero_grad(set_to_none=True)

    folder.save("input", x_np, f"model input N x C x H x W ({input_note})")
    folder.save("logits", logits, f"module output for input.npy ({output_note}); matches onnxruntime")
    folder.save("activations", A, f"output of ONNX value {last_value!r} (last conv layer), N x K x h x w")
    folder.save("layer_gradients", G,
         "d(sum_n output[n, class_n]) / d activations, same shape as activations.npy")

    # --- pytorch-grad-cam ----------------------------------------------------
    size_wh = (w, h)
    cam_classes = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "xgradcam": XGradCAM, "layercam": LayerCAM,
                   "hirescam": HiResCAM, "scorecam": ScoreCAM, "ablationcam": AblationCAM, "eigencam": EigenCAM}
    for method, cls in cam_classes.items():
        extra = {"batch_size": SCORECAM_BATCH} if method == "scorecam" else {}
        if method == "ablationcam":
            extra = {"batch_size": ABLATIONCAM_BATCH, "ablation_layer": OnnxAblationLayer(last_mod)}
        result, acts, grads = run_cam(cls, module, [last_mod], x, targets, **extra)
        assert result.shape == (n, h, w) and result.dtype == np.float32
        assert_close(f"{name} {method} activations", acts[0], A, 0)
        if grads:
            assert_close(f"{name} {method} gradients", grads[0], G, 1e-7)
        sw = ref_scorecam_weights(module, x, A, classes, SCORECAM_BATCH) if method == "scorecam" else None
        if method == "ablationcam":
            sw = ref_ablationcam_weights(module, last_mod, x, A, classes, ABLATIONCAM_BATCH)
        checks[f"cam_{method}_vs_readme_formula_max_abs"] = assert_close(
            f"{name} {method} formula", result, ref_cam([ref_layer_map(method, A, G, sw)], size_wh))
        folder.save(f"cam_{method}", result,
             f"pytorch-grad-cam {cls.__name__} on the last conv layer, N x H x W in [0, 1]")

    projection, signs = eigen_projection(A)
    folder.save("eigencam_projection", projection,
         "EigenCAM's signed projection on the first right-singular vector (numpy SVD sign), N x h x w, "
         "before ReLU / min-max / resize")

    result, acts, grads = run_cam(GradCAM, module, [prev_mod, last_mod], x, targets)
    checks["cam_gradcam_two_layers_vs_readme_formula_max_abs"] = assert_close(
        f"{name} gradcam two layers", result,
        ref_cam([ref_layer_map("gradcam", a, g) for a, g in zip(acts, grads)], size_wh))
    folder.save("cam_gradcam_two_layers", result,
         "pytorch-grad-cam GradCAM with target_layers = [second-to-last conv, last conv], N x H x W")

    # Test-time augmentation (ttach: horizontal flip x multiply by 0.9, 1, 1.1), maps averaged.
    smoother = GradCAM(model=module, target_layers=[last_mod])
    try:
        result = np.asarray(smoother(input_tensor=x, targets=targets, aug_smooth=True))
    finally:
        smoother.activations_and_grads.release()
    module.zero_grad(set_to_none=True)
    folder.save("cam_gradcam_aug_smooth", result,
         "pytorch-grad-cam GradCAM with aug_smooth=True on the last conv layer: the mean of the maps of the six "
         "variants (horizontal flip or not, input x 0.9, 1, 1.1), each flipped back, N x H x W")

    # cv2.resize (used by the library) vs torch bilinear align_corners=False
    resize_diff = 0.0
    for a in (A, acts[0]):  # min-max normalized maps, as scale_cam_image resizes them
        for probe in ref_scale(np.maximum(a.sum(axis=1), 0)):
            resize_diff = max(resize_diff, float(np.max(np.abs(cv2.resize(probe, size_wh)
                                                             - bilinear_half_pixel(probe, h, w)))))
    checks["cv2_resize_vs_torch_bilinear_half_pixel_max_abs"] = resize_diff

    # --- Captum ----------------------------------------------------------------
    def attribute(algorithm, **kwargs):
        xi = x.clone().requires_grad_(True)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
            result = algorithm.attribute(xi, target=classes, **kwargs).detach().numpy()
        module.zero_grad(set_to_none=True)
        return result

    saliency = attribute(Saliency(module), abs=False)
    xi = x.clone().requires_grad_(True)
    (plain_grad,) = torch.autograd.grad(module(xi)[torch.arange(n), torch.tensor(classes)].sum(), [xi])
    assert_close(f"{name} saliency vs autograd", saliency, plain_grad.numpy(), 1e-7)
    folder.save("saliency_gradient", saliency,
         "Captum Saliency(abs=False): d output[n, class_n] / d input, N x C x H x W")
    ixg = attribute(InputXGradient(module))
    assert_close(f"{name} input x gradient", ixg, x_np * saliency, 1e-7)
    folder.save("input_x_gradient", ixg, "Captum InputXGradient: input * gradient, N x C x H x W")
    relu_values = [m.onnx_outputs[0] for m in module.nodes if isinstance(m, nn.ReLU)]
    guided = attribute(GuidedBackprop(module))
    deconv = attribute(Deconvolution(module))
    assert relu_values, f"{name}: no Relu modules for Captum to hook"
    assert rel_l2(guided, saliency) > 1e-3, f"{name}: guided backprop equals the plain gradient"
    assert rel_l2(deconv, saliency) > 1e-3, f"{name}: deconvolution equals the plain gradient"
    checks["guided_backprop_vs_gradient_rel_l2"] = rel_l2(guided, saliency)
    checks["deconvolution_vs_gradient_rel_l2"] = rel_l2(deconv, saliency)
    folder.save("guided_backprop", guided,
         "Captum GuidedBackprop (nn.ReLU backward: relu(grad_out * [x > 0])), N x C x H x W")
    folder.save("deconvolution", deconv,
         "Captum Deconvolution (nn.ReLU backward: relu(grad_out)), N x C x H x W")
    ig = attribute(IntegratedGradients(module), baselines=torch.zeros_like(x), n_steps=IG_STEPS, method=IG_METHOD)
    folder.save("integrated_gradients", ig,
         f"Captum IntegratedGradients, baseline 0, n_steps {IG_STEPS}, method {IG_METHOD}, N x C x H x W")
    # IG check: (x - 0) * sum_i step_i * grad(alpha_i x), alphas linspace(0, 1, n), trapezoid steps
    alphas = torch.linspace(0, 1, IG_STEPS).tolist()
    steps = [1 / IG_STEPS] * IG_STEPS
    steps[0] /= 2
    steps[-1] /= 2
    total = np.zeros_like(x_np)
    for alpha, step in zip(alphas, steps):
        xs = (alpha * x).requires_grad_(True)
        (g,) = torch.autograd.grad(module(xs)[torch.arange(n), torch.tensor(classes)].sum(), [xs])
        total += step * g.numpy()
    checks["integrated_gradients_vs_readme_formula_max_abs"] = assert_close(
        f"{name} IG formula", ig, x_np * total, 1e-5 * max(1.0, float(np.abs(ig).max())))
    module.zero_grad(set_to_none=True)

    window, stride = (c, 4, 4), (c, 2, 2)
    occ = attribute(Occlusion(module), sliding_window_shapes=window, strides=stride, baselines=OCCLUSION_BASELINE)
    folder.save("occlusion", occ,
         f"Captum Occlusion, window {window}, strides {stride}, baseline {OCCLUSION_BASELINE}, N x C x H x W")
    # Occlusion check: mean over covering windows of (out - out_occluded)[class]
    with torch.no_grad():
        base = module(x)[torch.arange(n), torch.tensor(classes)]
        acc, cnt = torch.zeros_like(x), torch.zeros_like(x)
        for y0 in range(0, -(-(h - 4) // 2) * 2 + 1, 2):
            for x0 in range(0, -(-(w - 4) // 2) * 2 + 1, 2):
                mask = torch.zeros_like(x)
                mask[:, :, y0:y0 + 4, x0:x0 + 4] = 1
                occluded = x * (1 - mask) + OCCLUSION_BASELINE * mask
                diff = base - module(occluded)[torch.arange(n), torch.tensor(classes)]
                acc += diff[:, None, None, None] * mask
                cnt += mask
        checks["occlusion_vs_readme_formula_max_abs"] = assert_close(
            f"{name} occlusion formula", occ, (acc / cnt).numpy(), 1e-5 * max(1.0, float(np.abs(occ).max())))

    # --- metadata ----------------------------------------------------------------
    metrics = torchcam_metrics(module, x, np.load(folder.path / "cam_gradcam.npy"), classes)
    metrics["road"] = road_scores(module, x, np.load(folder.path / "cam_gradcam.npy"), classes)
    fixture = {
        "name": name,
        "source_onnx": str(onnx_path.relative_to(ROOT)),
        "generator": "Tools/cam_fixtures.py",
        "regenerate": "/root/convlens-venv/bin/python Tools/cam_fixtures.py",
        "N": n,
        "input_shape": [n, c, h, w],
        "input": input_note,
        "model_output": output_note,
        "target_classes": classes,
        "target": "ClassifierOutputTarget(class_n) / Captum target=class_n: output[n, class_n] of the model output "
                  "(summed over the batch for one backward pass)",
        "layers": {
            "last": {"value": last_value, "node_index": last_mod.index, "op": last_mod.op_type,
                     "activation_shape": list(A.shape)},
            "second_to_last": {"value": prev_value, "node_index": prev_mod.index, "op": prev_mod.op_type},
            "rule": "output of the last (second-to-last) ONNX Conv node in node order, or of the "
                    "BatchNormalization that directly consumes it",
        },
        "captum_hooked_relu_values": relu_values,
        "eigencam_vt0_sum_sign": signs,
        "parameters": {
            "pytorch_grad_cam": {"aug_smooth": False, "eigen_smooth": False, "device": "cpu",
                                 "targets": "explicit ClassifierOutputTarget per sample",
                                 "scorecam_batch_size": SCORECAM_BATCH,
                                 "ablationcam_batch_size": ABLATIONCAM_BATCH},
            "integrated_gradients": {"method": IG_METHOD, "n_steps": IG_STEPS, "baseline": 0.0,
                                     "internal_batch_size": None},
            "occlusion": {"sliding_window_shapes": list(window), "strides": list(stride),
                          "baselines": OCCLUSION_BASELINE, "perturbations_per_eval": 1},
            "saliency": {"abs": False},
        },
        "torchcam_metrics": metrics,
        "versions": versions(),
        "checks": checks,
        "files": folder.files,
        "dtype": "float32 ('<f4'), C order",
    }
    folder.write_json("fixture.json", fixture)
    return fixture


def versions() -> dict:
    gradcam = getattr(pytorch_grad_cam, "__version__", None) or importlib.metadata.version("grad-cam")
    return {"python": sys.version.split()[0], "torch": torch.__version__, "grad-cam": gradcam,
            "captum": captum.__version__, "numpy": np.__version__, "opencv": cv2.__version__,
            "onnx": onnx.__version__, "onnxruntime": ort.__version__}


README = r"""# CAM and attribution reference fixtures

Reference outputs of **pytorch-grad-cam** (`pytorch_grad_cam`, PyPI `grad-cam`) and **Captum**
(`captum.attr`) for three small ONNX models, so the ConvLens CAM / attribution implementations can
be compared one to one. Generated by `Tools/cam_fixtures.py`; regenerate from the repository root with

    /root/convlens-venv/bin/python Tools/cam_fixtures.py

(no network needed; library versions are recorded in each `fixture.json`).

## Layout

One folder per model: `mnist_cnn/` (`Sources/BundledModel/mnist_cnn.onnx`, the digits
`digit_3_0003.png`, `digit_7_0013.png` as `(x/255 - 0.1307)/0.3081`, 2x1x28x28),
`residual_bn/` and `concat_grouped/` (`Tests/ModelGraphTests/Fixtures/<name>/model.onnx` with that
folder's `input.npy`, 2x3x20x18 and 2x3x20x19). `concat_grouped` ends in Softmax, so its "logits"
(and every target below) are probabilities.

All arrays are float32 (`<f4`), C order. N = 2. Target for sample n: `class_n` = argmax of
its output (listed in `fixture.json` as `target_classes`).

| file | shape | contents |
|---|---|---|
| `input.npy` | N x C x H x W | model input |
| `logits.npy` | N x classes | model output (torch evaluation of the ONNX graph, equal to onnxruntime to rel L2 < 1e-5) |
| `activations.npy` | N x K x h x w | `A`: output of the last conv layer (`layers.last.value` in `fixture.json`) |
| `layer_gradients.npy` | N x K x h x w | `G = d(sum_n out[n, class_n]) / dA` |
| `cam_gradcam.npy`, `cam_gradcam++.npy`, `cam_xgradcam.npy`, `cam_layercam.npy`, `cam_hirescam.npy`, `cam_scorecam.npy`, `cam_ablationcam.npy`, `cam_eigencam.npy` | N x H x W | what `GradCAM`, `GradCAMPlusPlus`, `XGradCAM`, `LayerCAM`, `HiResCAM`, `ScoreCAM` (batch_size 16), `AblationCAM` (batch_size 32), `EigenCAM` return for `target_layers=[last conv]`, explicit `ClassifierOutputTarget(class_n)` targets, no aug/eigen smoothing, CPU |
| `cam_gradcam_two_layers.npy` | N x H x W | `GradCAM` with `target_layers=[second-to-last conv, last conv]` |
| `cam_gradcam_aug_smooth.npy` | N x H x W | `GradCAM` on the last conv with `aug_smooth=True`: mean over ttach's HorizontalFlip x Multiply(0.9, 1, 1.1) of each variant's map, flipped back |
| `eigencam_projection.npy` | N x h x w | EigenCAM's signed projection `P` (below) before ReLU/normalize/resize, to handle the SVD sign |
| `saliency_gradient.npy` | N x C x H x W | Captum `Saliency(abs=False)`: `d out[n, class_n] / dx` |
| `input_x_gradient.npy` | N x C x H x W | Captum `InputXGradient`: `x * dout/dx` |
| `guided_backprop.npy` | N x C x H x W | Captum `GuidedBackprop` |
| `deconvolution.npy` | N x C x H x W | Captum `Deconvolution` |
| `integrated_gradients.npy` | N x C x H x W | Captum `IntegratedGradients`, baseline 0, `n_steps=32`, `method="riemann_trapezoid"` |
| `occlusion.npy` | N x C x H x W | Captum `Occlusion`, window (C, 4, 4), strides (C, 2, 2), baseline 0 |
| `fixture.json` | | model, ONNX path, layer value names, classes, parameters, versions, per-file shapes and descriptions, self-checks |

Layer rule: the "last conv layer" is the output value of the last ONNX `Conv` node in node order
or, when a `BatchNormalization` directly consumes that Conv output, the BN's output (ConvLens folds
such a BN into the conv, so that is ConvLens's conv output). Same rule for the second-to-last.
For `mnist_cnn` that value is *before* the ReLU, so `A` has negative entries.

The script also recomputes every library result from the formulas below (independently of the
library code) and asserts agreement (max |diff| <= 2e-5 for CAMs; recorded under `checks` in
`fixture.json`).

## Semantics (pytorch-grad-cam __GRADCAM_VERSION__, Captum __CAPTUM_VERSION__)

Notation: `A[n,k,i,j]` layer activations (K channels, h x w), `G = dL/dA` with
`L = sum_n out[n, class_n]` (one backward for the whole batch; sample n's gradient only comes from
its own class because samples are independent), `S[n,k] = sum_ij A[n,k,i,j]`. All in float32 numpy.

**Pipeline** (`base_cam.py` `forward` -> `compute_cam_per_layer` -> `aggregate_multi_layers`),
per target layer:
1. `M = get_cam_image(...)` (N x h x w); channel-weight methods use `M = sum_k w[n,k] * A[n,k]`.
2. `M = max(M, 0)` (ReLU, always, every method).
3. `scale_cam_image(M, (W, H))`, per sample: `M = M - min(M)`; `M = M / (1e-7 + max(M))`;
   then `cv2.resize(M, (W, H))` (INTER_LINEAR: bilinear, half-pixel centres, edge clamp, no
   antialias = torch `interpolate(bilinear, align_corners=False)`; on these [0, 1] maps the two
   agree to __RESIZE_DIFF__ max abs, `checks` in `fixture.json`). `cv2.resize` is also called when
   h x w == H x W (residual_bn), where it is the identity.
4. Aggregate layers: stack the per-layer results (N x L x H x W), `max(., 0)`, **mean over layers**,
   then `scale_cam_image` again without resize (`M - min`, `/ (1e-7 + max)`).
   So a single-layer CAM is `minmax(resize(minmax(relu(M))))`: the second min-max matters because
   the bilinear upsample need not reach the exact 0 and 1. Layers are paired with their
   activations in forward-execution order (irrelevant for GradCAM's mean).
   If `M` is constant (e.g. all zero after the ReLU) the result is all zeros.

**Per-method maps** (`get_cam_weights` / `get_cam_image`):
- GradCAM: `w[n,k] = mean_ij G[n,k,i,j]`.
- GradCAM++: `a = G^2 / (2 G^2 + S[n,k] * G^3 + 1e-6)`, `a = 0` where `G == 0`;
  `w[n,k] = sum_ij max(G, 0) * a`. (`S` is the spatial sum of the activations, not of exp.)
- XGradCAM: `w[n,k] = sum_ij G * A / (S[n,k] + 1e-7)` (no abs; S may be negative/small).
- LayerCAM: `M = sum_k max(G, 0) * A` (elementwise, no channel weights).
- HiResCAM: `M = sum_k G * A` (elementwise).
- ScoreCAM (no gradients): `U = UpsamplingBilinear2d(size=(H, W))(A)` — **align_corners=True**
  bilinear; per sample and channel `U = (U - min U) / (max U - min U + 1e-8)`; masked inputs
  `x[n] * U[n,k]` (broadcast over input channels), run through the model (in batches of 16; the
  batching does not change the result);
  `score[n,k] = out(masked)[class_n]` (raw model output, i.e. logit, or probability for
  `concat_grouped`); `w[n,:] = softmax_k(score[n,:])`; `M = sum_k w * A` (raw A, not U).
- AblationCAM (no gradients): per sample, `s = out(x)[class_n]`; for each channel k the layer's
  output is replaced by `A[n]` with channel k's whole plane set to `v_k`, and `s_k` is the class
  score of the rest of the model on it; `w[n,k] = (s - s_k) / s` (float32); `M = sum_k w * A`.
  `v_k = 0` when `min A[n] == 0`; otherwise the library's ablation layer sets copy i of each batch
  of 32 to the batch's running minimum - 1e7, so `v_k = min A[n] - (k mod 32 + 1) * 1e7`, subtracted
  step by step in float32. (The library runs the whole model on repeated images, the layer's
  output swapped in.)
- EigenCAM (no gradients, ignores the target): per sample `X = A[n]` reshaped to (h*w) x K
  (rows = positions), centred per channel `X -= mean over positions`; `U S Vt = svd(X)`
  (`np.linalg.svd`, float32); `P = X @ Vt[0]` reshaped to h x w. **No sign correction**: the sign
  is whatever LAPACK returns (`fixture.json` `eigencam_vt0_sum_sign` gives `sign(sum(Vt[0]))` per
  sample). `P` is then ReLU'd and scaled like every map, so flipping the sign changes the map
  (not only inverts it); compare against `eigencam_projection.npy` up to sign, or pick the sign
  that matches. NaNs in A are set to 0 first.

**Captum** (attribution w.r.t. the input, target `out[n, class_n]`, signed, N x C x H x W):
- Saliency(abs=False): `dout/dx`. InputXGradient: `x * dout/dx`.
- GuidedBackprop / Deconvolution: backward hooks on **`nn.ReLU` modules only** (here: the ONNX
  `Relu` nodes, listed in `captum_hooked_relu_values`). GuidedBackprop replaces a ReLU's input
  gradient by `relu(grad_out * [x > 0])`; Deconvolution by `relu(grad_out)` (forward mask ignored).
  LeakyRelu, Clip (ReLU6), Sigmoid, MaxPool etc. keep their ordinary gradients.
- IntegratedGradients, `riemann_trapezoid`, n = 32: `alpha_i = linspace(0, 1, n)`,
  `step_i = 1/n` with the first and last halved; `IG = (x - b) * sum_i step_i * grad(b + alpha_i (x - b))`,
  baseline `b = 0` (0 in normalized input space).
- Occlusion: window positions `p = 0, s, 2s, ...` with `ceil((D - w)/s) + 1` positions per axis
  (a last window that would run past the edge is clipped: 20x19 input -> x windows start at
  0..16, the last covers 16..18); the window spans all C channels. Occluded input
  `x * (1 - m) + baseline * m`; `attr = sum_windows (out[class] - out_occluded[class]) * m / sum_windows m`
  (mean over the windows covering each element; every element is covered).

Autograd conventions that matter for matching gradients (PyTorch): ReLU'(0) = 0; Clip (`torch.clamp`
with float bounds) passes the gradient only where `min < x < max` (0 exactly at the bounds, checked
with torch __TORCH_VERSION__); MaxPool routes the gradient to the first maximum
in the window; AveragePool(count_include_pad=0) divides by the number of non-pad elements.
"""


def main() -> None:
    make_deterministic(threads=1, seed=SEED)
    OUT_ROOT.mkdir(parents=True, exist_ok=True)

    fixtures = [
        make_fixture("mnist_cnn", ROOT / "Sources" / "BundledModel" / "mnist_cnn.onnx",
                     mnist_input(read_digits(MNIST_DIGITS)),
                     "Sources/BundledModel/digits/" + " and ".join(MNIST_DIGITS)
                     + " as gray float32 (x/255 - 0.1307)/0.3081", "raw logits"),
    ]
    for name in ("residual_bn", "concat_grouped"):
        src = ROOT / "Tests" / "ModelGraphTests" / "Fixtures" / name
        fixtures.append(make_fixture(name, src / "model.onnx", np.load(src / "input.npy").astype(np.float32),
                                     f"Tests/ModelGraphTests/Fixtures/{name}/input.npy",
                                     "softmax probabilities (graph ends in Softmax)" if name == "concat_grouped"
                                     else "raw logits"))

    v = versions()
    resize_diff = max(f["checks"]["cv2_resize_vs_torch_bilinear_half_pixel_max_abs"] for f in fixtures)
    write_text(OUT_ROOT / "README.md",
               README.replace("__GRADCAM_VERSION__", v["grad-cam"]).replace("__CAPTUM_VERSION__", v["captum"])
               .replace("__RESIZE_DIFF__", f"{resize_diff:.1e}").replace("__TORCH_VERSION__", v["torch"]))

    total = sum(p.stat().st_size for p in OUT_ROOT.rglob("*") if p.is_file())
    print(f"wrote {OUT_ROOT.relative_to(ROOT)} ({total / 1024:.1f} KiB); versions {v}")
    for f in fixtures:
        layers = f["layers"]
        print(f"{f['name']}: input {f['input_shape']}, classes {f['target_classes']}, "
              f"last {layers['last']['value']} {layers['last']['activation_shape']}, "
              f"second-to-last {layers['second_to_last']['value']}, "
              f"vs onnxruntime rel L2 {f['checks']['module_vs_onnxruntime_rel_l2']:.2e}")
        for file, meta in f["files"].items():
            print(f"    {file:32s} {meta['shape']}")


if __name__ == "__main__":
    main()
