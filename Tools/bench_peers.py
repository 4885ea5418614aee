#!/usr/bin/env python3
"""Run convlens's benchmark workloads in PyTorch, onnxruntime and pytorch-grad-cam in the same sitting as
`convlens bench`, and write BENCHMARKS.md with the figures side by side.

Usage (from the repository root, with torch, torchvision, onnxruntime and grad-cam from PyPI in a venv outside the
repository; random-weight models made by Tools/export_torchvision.py):
    ~/convlens-venv/bin/python Tools/bench_peers.py [--runs 10] [--warmup 2] [--models ~/convlens-models]
        [--convlens .build/release/convlens] [--device cpu|cuda] [--rounds 3] [--startup] [--out BENCHMARKS.md]
        [--suite all|vis]

CPU: PyTorch with 2 threads (oneDNN), onnxruntime's CPU provider with 2 threads. CUDA: cuDNN in float32 with TF32
off, onnxruntime's CUDA provider when present. Each run of the script replaces its own section of the output file
(CPU or GPU), so both can live in one BENCHMARKS.md. Run by hand; never by the build or the tests.

When MODELS_DIR holds lite0.onnx (Tools/export_pretrained.py), one step of Lucent (torch-lucent) on the same
EfficientNet-Lite0 weights is timed too. `--suite vis` runs only the visualization workloads, convlens and the
peers taking turns for --rounds rounds, into a section of its own.
"""
import argparse
import contextlib
import datetime
import io
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# pytorch-grad-cam's ScoreCAM and AblationCAM wrap their loops in tqdm bars; tqdm reads this when it is imported.
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from convlens_tools.models import load_lite0, torchvision_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0",
          "convnext_tiny", "vit_b_16"]
# name, in channels, out channels, input size, kernel, stride, padding, groups (as BenchConvLayers.swift)
CONV_LAYERS = [
    ("vgg16.conv1_2", 64, 64, 224, 3, 1, 1, 1),
    ("vgg16.conv3_1", 128, 256, 56, 3, 1, 1, 1),
    ("vgg16.conv5_1", 512, 512, 14, 3, 1, 1, 1),
    ("resnet.1x1_256to64", 256, 64, 56, 1, 1, 0, 1),
    ("resnet.3x3s2_128", 128, 128, 56, 3, 2, 1, 1),
    ("mobilenetv2.dw3x3_144", 144, 144, 56, 3, 1, 1, 144),
]


def timing(fn, runs, warmup, sync):
    """Median, min and max wall milliseconds of fn() (sync() after each call)."""
    for _ in range(warmup):
        fn()
        sync()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        sync()
        samples.append((time.perf_counter() - start) * 1e3)
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "max_ms": max(samples)}


def pooled(rounds):
    """One timing from the same workload timed in several rounds: the median of the rounds' medians (a round caught
    in one of a shared VM's slow spells then moves it less than it would move a median of all samples), the min of
    the mins and the max of the maxes. Any other field (GFLOP/s) is rescaled to the pooled median."""
    first = rounds[0]
    median = statistics.median(r["median_ms"] for r in rounds)
    result = dict(first, median_ms=median, min_ms=min(r["min_ms"] for r in rounds),
                  max_ms=max(r["max_ms"] for r in rounds))
    if first.get("gflops") is not None:
        result["gflops"] = first["gflops"] * first["median_ms"] / median
    return result


def torch_conv_layers(device, runs, warmup, sync, batches, layers=CONV_LAYERS):
    F = torch.nn.functional
    results = {}
    for name, cin, cout, size, k, stride, pad, groups in layers:
        for batch in batches:
            g = torch.Generator().manual_seed(1)
            x = torch.rand(batch, cin, size, size, generator=g).to(device) * 2 - 1
            w = torch.rand(cout, cin // groups, k, k, generator=g).to(device) * 2 - 1
            y = F.conv2d(x, w, stride=stride, padding=pad, groups=groups)
            dy = torch.rand(y.shape, generator=g).to(device) * 2 - 1
            flops = 2 * y.numel() * (cin // groups) * k * k
            calls = {
                "forward": lambda: F.conv2d(x, w, stride=stride, padding=pad, groups=groups),
                "backward_input": lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, stride=stride, padding=pad,
                                                                     groups=groups),
                "backward_weight": lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, stride=stride, padding=pad,
                                                                       groups=groups),
            }
            for direction, fn in calls.items():
                with torch.no_grad():
                    t = timing(fn, runs, warmup, sync)
                t["gflops"] = flops / t["median_ms"] / 1e6
                results[(name, direction, batch)] = t
                print(f"torch {name} {direction} b{batch}: {t['median_ms']:.3f} ms", flush=True)
    return results


MODEL_BATCHES = [1, 8]


def torch_models(device, runs, warmup, sync, models_dir):
    results = {}
    for name in MODELS:
        if not (models_dir / f"{name}.onnx").exists():
            continue
        # Only the input's gradient is wanted, as convlens computes it: no weight gradients.
        model = torchvision_model(name).to(device).requires_grad_(False)
        for batch in MODEL_BATCHES:
            x = torch.rand(batch, 3, 224, 224, generator=torch.Generator().manual_seed(4)).to(device)

            def forward():
                with torch.no_grad():
                    model(x)

            def forward_backward():
                # Class 0 of every image, as convlens bench seeds it.
                xi = x.clone().requires_grad_(True)
                model(xi)[:, 0].sum().backward()

            results[(name, "forward", batch)] = timing(forward, runs, warmup, sync)
            results[(name, "forward_backward", batch)] = timing(forward_backward, runs, warmup, sync)
            print(f"torch {name} b{batch}: {results[(name, 'forward', batch)]['median_ms']:.2f} ms", flush=True)
    return results


def onnxruntime_models(device, runs, warmup, models_dir):
    try:
        import onnxruntime as ort
    except ImportError:
        return {}, None
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2 if device == "cpu" else 0
    providers = ["CPUExecutionProvider"]
    if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers = ["CUDAExecutionProvider"]
    elif device == "cuda":
        return {}, ort.__version__ + " (no CUDA provider)"
    results = {}
    for name in MODELS:
        path = models_dir / f"{name}.onnx"
        if not path.exists():
            continue
        session = ort.InferenceSession(str(path), options, providers=providers)
        for batch in MODEL_BATCHES:
            feed = {session.get_inputs()[0].name: torch.rand(batch, 3, 224, 224).numpy()}
            results[(name, "forward", batch)] = timing(lambda: session.run(None, feed), runs, warmup, lambda: None)
            print(f"onnxruntime {name} b{batch}: {results[(name, 'forward', batch)]['median_ms']:.2f} ms", flush=True)
    return results, ort.__version__


def gradcam_and_filters(device, runs, warmup, sync, models_dir):
    results = {}
    try:
        from pytorch_grad_cam import AblationCAM, FullGrad, GradCAM, ScoreCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError:
        GradCAM = None
    for name in ["vgg16", "resnet50"]:
        if GradCAM is None or not (models_dir / f"{name}.onnx").exists():
            continue
        model = torchvision_model(name).to(device)
        # convlens's default layer: the last one with spatial extent (VGG-16's average pool, ResNet-50's layer4).
        layer = model.avgpool if name == "vgg16" else model.layer4[-1]
        x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(5)).to(device)
        with torch.no_grad():
            top = int(model(x).argmax())
        cam = GradCAM(model=model, target_layers=[layer])
        results[(f"gradcam.{name}", "forward_backward", 1)] = timing(
            lambda: cam(input_tensor=x, targets=[ClassifierOutputTarget(top)]), runs, warmup, sync)
        print(f"pytorch-grad-cam {name}: {results[(f'gradcam.{name}', 'forward_backward', 1)]['median_ms']:.1f} ms",
              flush=True)
        if name == "resnet50":
            # Score-CAM over layer4's 2,048 channels, 16 masked images per forward (ScoreCAM's own batch), as
            # convlens bench times it: one run, no warm-up (each takes minutes).
            score = ScoreCAM(model=model, target_layers=[layer])
            results[("scorecam.resnet50", "masked_forwards", 1)] = timing(
                lambda: score(input_tensor=x, targets=[ClassifierOutputTarget(top)]), 1, 0, sync)
            print(f"pytorch-grad-cam scorecam: {results[('scorecam.resnet50', 'masked_forwards', 1)]['median_ms']:.0f} ms",
                  flush=True)
            # Ablation-CAM over the same 2,048 channels, 32 ablated copies per forward of the whole model (AblationCAM's
            # default batch); one run, no warm-up, as it takes minutes here.
            ablation = AblationCAM(model=model, target_layers=[layer], batch_size=32)
            results[("ablationcam.resnet50", "ablated_forwards", 1)] = timing(
                lambda: ablation(input_tensor=x, targets=[ClassifierOutputTarget(top)]), 1, 0, sync)
            print(f"pytorch-grad-cam ablationcam: "
                  f"{results[('ablationcam.resnet50', 'ablated_forwards', 1)]['median_ms']:.0f} ms", flush=True)
            # FullGrad: every Conv2d and BatchNorm2d with a bias (53 + 53 here; convlens folds each BatchNorm into
            # its convolution, 53 layers) and the input, one forward and backward pass.
            with contextlib.redirect_stdout(io.StringIO()):  # its note that target_layers are ignored
                fullgrad = FullGrad(model=model, target_layers=[])
            results[("fullgrad.resnet50", "forward_backward", 1)] = timing(
                lambda: fullgrad(input_tensor=x, targets=[ClassifierOutputTarget(top)]), runs, warmup, sync)
            print(f"pytorch-grad-cam fullgrad: "
                  f"{results[('fullgrad.resnet50', 'forward_backward', 1)]['median_ms']:.0f} ms", flush=True)
    results.update(torchcam_score_family(device, sync, models_dir))
    if (models_dir / "vgg16.onnx").exists():
        # One gradient-ascent step as convlens takes it: 16 images, channel i of conv3_1 for image i, Adam.
        features = torchvision_model("vgg16").features[:11].to(device).requires_grad_(False)
        images = torch.rand(16, 3, 128, 128, generator=torch.Generator().manual_seed(6)).to(device).requires_grad_(True)
        optimizer = torch.optim.Adam([images], lr=0.05)
        index = torch.arange(16, device=device)

        def step():
            optimizer.zero_grad()
            activation = features(images)
            loss = -activation[index, index].mean(dim=(1, 2)).sum()
            loss.backward()
            optimizer.step()

        results[("filters.vgg16.conv3_1", "step_16x128", 16)] = timing(step, runs, warmup, sync)
    results.update(lucent_lite0(device, runs, warmup, sync, models_dir))
    return results


def torchcam_score_family(device, sync, models_dir):
    """torch-cam's SSCAM (4 noisy samples instead of its 35) and ISCAM (its 10 steps) on ResNet-18's layer4, batch 32
    (its default), one 224 px image: one run, no warm-up, as convlens bench times them."""
    results = {}
    try:
        from torchcam.methods import ISCAM, SSCAM
    except ImportError:
        return results
    if not (models_dir / "resnet18.onnx").exists():
        return results
    model = torchvision_model("resnet18").to(device)
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(5)).to(device)
    for name, cls, extra in (("sscam", SSCAM, {"num_samples": 4}), ("iscam", ISCAM, {"num_samples": 10})):
        extractor = cls(model, target_layer="layer4", batch_size=32, **extra)

        def explain():
            with torch.no_grad():
                scores = model(x)
            return extractor(class_idx=int(scores.argmax()), scores=scores)

        key = (f"{name}.resnet18", f"masked_forwards_{extra['num_samples']}x512", 1)
        results[key] = timing(explain, 1, 0, sync)
        extractor.remove_hooks()
        print(f"torch-cam {name}: {results[key]['median_ms']:.0f} ms", flush=True)
    return results


def lucent_lite0(device, runs, warmup, sync, models_dir):
    """One step of Lucent's `render_vis` on EfficientNet-Lite0, channel k of blocks.10's projection for image k.

    The body of render_vis's loop with Lucent's own objects: `param.image(128, batch=8)` (FFT spectrum scaled by
    1/frequency, decorrelated colour, sigmoid), `transform.standard_transforms` (pad 12 with 0.5, jitter 8, scale
    0.9-1.1, rotate +-10 degrees, jitter 4), then the model's normalization to [-1, 1] (render_vis would apply
    ImageNet's, which this model was not trained with), the whole model run with render_vis's hooks on every module,
    the sum over k of `objectives.channel(layer, k, batch=k)`, Adam (lr 0.05) on the spectrum. The weights keep
    requires_grad as render_vis leaves them. Timed twice: as render_vis runs by default, which upsamples images
    under 224 px to 224 before the model (its `fixed_image_size` unset; the row the issue's target names), and
    without that upsampling, so that the network sees images of the size convlens gives it (152 to 168 px after
    the transforms, against convlens's 128).
    The layer is the module whose output the ONNX value `/_blocks.10/_project_conv/Conv_output_0` holds: the
    exporter folds `_bn2` into that Conv, so it is `_blocks.10._bn2` (Lucent's name `_blocks_10__bn2`), not
    `_project_conv`, whose output is before the normalization.
    """
    if not (models_dir / "lite0.onnx").exists():
        return {}
    try:
        from lucent.optvis import objectives, param, transform
        from lucent.optvis.render import hook_model
        model, _ = load_lite0()  # the weights Tools/export_pretrained.py exports
    except ImportError as error:
        print(f"lucent lite0 skipped: {error}", flush=True)
        return {}
    if transform.device.type != device:  # Lucent places its images and transforms on cuda:0 whenever it exists
        print(f"lucent lite0 skipped: Lucent computes on {transform.device}, not {device}", flush=True)
        return {}
    model = model.to(transform.device)
    batch, layer = 8, "_blocks_10__bn2"
    torch.manual_seed(7)
    np.random.seed(7)
    params, image_f = param.image(128, batch=batch)
    optimizer = torch.optim.Adam(params, lr=0.05)
    hook = hook_model(model, image_f)
    objective = objectives.Objective.sum([objectives.channel(layer, k, batch=k) for k in range(batch)])
    upsample = torch.nn.Upsample(size=224, mode="bilinear", align_corners=True)
    results = {}
    for direction, extra in [("step_8x128", []), ("step_8x128 render_vis 224 px", [upsample])]:
        transform_f = transform.compose(transform.standard_transforms + [lambda x: x * 2 - 1] + extra)

        def step():
            def closure():
                optimizer.zero_grad()
                model(transform_f(image_f()))
                loss = objective(hook)
                loss.backward()
                return loss

            optimizer.step(closure)

        t = timing(step, runs, warmup, sync)
        results[("filters.lite0.blocks10_project", direction, batch)] = t
        print(f"lucent lite0 blocks.10 {direction}: {t['median_ms']:.1f} ms ({1e3 / t['median_ms']:.2f} steps/s)",
              flush=True)
    return results


def startup(convlens):
    """Wall seconds of `convlens forward` on the bundled model: cold (empty caches), then warm (median of 5)."""
    digit = ROOT / "Sources/BundledModel/digits/digit_7_0013.png"
    with tempfile.TemporaryDirectory() as caches:
        env = dict(os.environ, XDG_CACHE_HOME=f"{caches}/xdg", POCL_CACHE_DIR=f"{caches}/pocl")
        env.pop("CONVLENS_PROGRAM_CACHE", None)
        command = [str(convlens), "forward", "--input", str(digit), "--top", "1"]

        def once():
            start = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            return time.perf_counter() - start

        cold = once()
        warm = statistics.median(once() for _ in range(5))
    return cold, warm, " ".join(shlex.quote(c) for c in command)


def fmt(t):
    return f"{t['median_ms']:.3g} [{t['min_ms']:.3g}–{t['max_ms']:.3g}]" if t else "–"


def ratio(peer, ours):
    # > 1: convlens is faster.
    return f"{peer['median_ms'] / ours['median_ms']:.2f}×" if peer and ours else "–"


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def header(title, machines, commands_note, bench_command):
    """A section's title, when and where it was measured, and the commands that made it."""
    return [
        f"## {title}",
        "",
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {cpu_name()}, "
        f"{os.cpu_count()} logical CPUs; {machines}.",
        "",
        commands_note,
        "",
        "```sh",
        " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv),
        bench_command,
        "```",
        "",
    ]


def torch_peer(gpu):
    """PyTorch as the conv-layer tables name it: cuDNN's version and settings on a GPU."""
    return f"PyTorch {torch.__version__} " + (
        f"cuDNN {torch.backends.cudnn.version()} float32, TF32 off, on {torch.cuda.get_device_name()}" if gpu
        else "CPU, 2 threads")


def section(args, records, torch_conv, torch_models_, ort_models, ort_version, vis, start, bench_command):
    ours = {(r["workload"], r["direction"], r["batch"]): r for r in records}
    device = records[0]["device"] if records else "unknown"
    gpu = args.device == "cuda"
    peer = torch_peer(gpu)
    lines = header(
        f"{'GPU' if gpu else 'CPU'}: {device}",
        f"convlens on `{device}`; peers: {peer}; onnxruntime {ort_version or '–'}",
        "Commands (same sitting; without `--convlens-json`, each convlens suite or conv layer runs just before the "
        "peers' same workloads):", bench_command) + [
        f"Wall-clock medians of {args.runs} runs after {args.warmup} warm-up, [min–max], in ms; conv layers: the "
        f"median of {args.rounds} such medians, convlens and PyTorch taking turns, [min–max of all runs]. Ratio = "
        "peer time / convlens time: above 1 convlens is faster.",
        "",
    ]
    fma, copy = ours.get(("peak.fma", "probe", 1)), ours.get(("peak.copy", "probe", 1))
    if fma and copy:
        lines += [f"Device peaks measured by `convlens bench`: FMA {fma['gflops']:.1f} GFLOP/s, copy "
                  f"{copy['gigabytes_per_second']:.1f} GB/s.", ""]
    lines += ["### Convolution layers", ""] + conv_table(ours, torch_conv, fma)
    lines += ["", "### Models (224 px)", ""] + models_table(ours, torch_models_, ort_models)
    lines += ["", "### Visualization", ""] + vis_table(ours, vis)
    if start:
        cold, warm, command = start
        lines += ["", "### Start-up", "",
                  f"`{command}` as a whole process, cold (empty ConvLens and PoCL caches) {cold * 1e3:.0f} ms, warm "
                  f"(median of 5) {warm * 1e3:.0f} ms: warm is {warm / cold * 100:.1f} % of cold."]
    return "\n".join(lines) + "\n"


def conv_table(ours, torch_conv, fma):
    """Each conv layer, direction and batch: convlens (with the algorithm its planner ran), its share of the FMA
    peak, PyTorch, and the ratio."""
    lines = ["| layer | direction | batch | convlens ms | algorithm | GFLOP/s | of FMA peak | PyTorch ms | GFLOP/s | ratio |",
             "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for (name, direction, batch), t in torch_conv.items():
        o = ours.get((name, direction, batch))
        share = f"{o['gflops'] / fma['gflops'] * 100:.0f} %" if o and fma and o.get("gflops") else "–"
        lines.append(f"| {name} | {direction} | {batch} | {fmt(o)} | {o.get('algorithm') or '–'} | {o['gflops']:.1f} | "
                     f"{share} | {fmt(t)} | {t['gflops']:.1f} | {ratio(t, o)} |" if o else
                     f"| {name} | {direction} | {batch} | – | – | – | – | {fmt(t)} | {t['gflops']:.1f} | – |")
    return lines


def layers_section(args, records, torch_conv, bench_command):
    """`--suite layers`: the convolution layers alone, convlens and PyTorch taking turns, one sitting."""
    ours = {(r["workload"], r["direction"], r["batch"]): r for r in records}
    device = records[0]["device"] if records else "unknown"
    gpu = args.device == "cuda"
    peer = torch_peer(gpu)
    lines = header(f"Convolution layers ({'GPU' if gpu else 'CPU'}): {device}", f"convlens on `{device}`; peer: {peer}",
                   "Commands (same sitting; each conv layer's convlens run just before PyTorch's):", bench_command) + [
        f"Wall-clock medians of {args.runs} runs after {args.warmup} warm-up; the median of {args.rounds} such "
        "medians, convlens and PyTorch taking turns, [min–max of all runs], in ms. Ratio = PyTorch time / convlens "
        "time: above 1 convlens is faster (on a GPU, the share of cuDNN's speed).",
        "",
    ]
    fma = ours.get(("peak.fma", "probe", 1))
    return "\n".join(lines + conv_table(ours, torch_conv, fma)) + "\n"


def models_table(ours, torch_models_, ort_models):
    lines = ["| model | direction | batch | convlens ms | PyTorch ms | ratio | onnxruntime ms | ratio |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for (name, direction, batch), t in torch_models_.items():
        o = ours.get((name, direction, batch))
        r = ort_models.get((name, direction, batch))
        lines.append(f"| {name} | {direction} | {batch} | {fmt(o)} | {fmt(t)} | {ratio(t, o)} | {fmt(r)} | "
                     f"{ratio(r, o)} |")
    return lines


def models_section(args, records, torch_models_, ort_models, ort_version, bench_command):
    """`--suite models`: every model's forward and forward + backward, convlens then the peers, one sitting."""
    ours = {(r["workload"], r["direction"], r["batch"]): r for r in records}
    device = records[0]["device"] if records else "unknown"
    peer = f"PyTorch {torch.__version__} " + ("CUDA" if args.device == "cuda" else "CPU, 2 threads")
    lines = header(
        f"Models ({'GPU' if args.device == 'cuda' else 'CPU'}): {device}",
        f"convlens on `{device}`; peers: {peer}; onnxruntime {ort_version or '–'} (forward only)",
        "Commands (same sitting: convlens's models, then the peers'):", bench_command) + [
        f"Wall-clock medians of {args.runs} runs after {args.warmup} warm-up, [min–max], in ms, 224 px, batches "
        f"{' and '.join(map(str, MODEL_BATCHES))} (forward_backward: the gradient of every image's class-0 logit "
        "with respect to the input). Ratio = peer time / convlens time: above 1 convlens is faster. Models from Tools/export_torchvision.py "
        "(TorchScript exporter, opset 17, random weights).",
        "",
    ]
    return "\n".join(lines + models_table(ours, torch_models_, ort_models)) + "\n"


def vis_table(ours, vis):
    """The visualization rows: each peer's time beside convlens's record of the same workload."""
    lines = ["| workload | convlens ms | steps/s | peer | peer ms | ratio |", "| --- | ---: | ---: | --- | ---: | ---: |"]
    for (name, direction, batch), t in vis.items():
        # A peer's variant ("step_8x128 render_vis 224 px") is set against the convlens record of its first word.
        o = ours.get((name, direction.split(" ")[0], batch))
        who = ("pytorch-grad-cam" if name.startswith(("gradcam", "scorecam", "ablationcam", "fullgrad"))
               else "torch-cam" if name.startswith(("sscam", "iscam")) else "Lucent (render_vis step)"
               if name == "filters.lite0.blocks10_project" else "PyTorch (Adam step)")
        rate = f"{1e3 / o['median_ms']:.2f} vs {1e3 / t['median_ms']:.2f}" if o and name.startswith("filters") else "–"
        lines.append(f"| {name} {direction} | {fmt(o)} | {rate} | {who} | {fmt(t)} | {ratio(t, o)} |")
    return lines


def vis_section(args, records, vis, bench_command):
    """The section `--suite vis` writes: the visualization workloads alone, in a sitting of their own."""
    device = records[0]["device"] if records else "unknown"
    gpu = args.device == "cuda"
    peer = f"PyTorch {torch.__version__} " + ("on " + torch.cuda.get_device_name() if gpu else "CPU, 2 threads")
    lines = header(f"{'GPU' if gpu else 'CPU'} visualization sitting: {device}",
                   f"convlens on `{device}`; peers: {peer}",
                   "Commands (same sitting; convlens's suite and the peers take turns):", bench_command) + [
        f"Wall-clock medians of {args.runs} runs after {args.warmup} warm-up, the median of {args.rounds} rounds "
        "[min–max of all runs], in ms (Score-CAM, and pytorch-grad-cam's Ablation-CAM, minutes a call: one run after "
        "none in each round). Ratio = peer time / convlens time: above 1 convlens is faster. steps/s: convlens vs the "
        "peer.",
        "",
    ] + vis_table({(r["workload"], r["direction"], r["batch"]): r for r in records}, vis)
    return "\n".join(lines) + "\n"


def write(out, kind, body):
    start, end = f"<!-- bench:{kind}:start -->", f"<!-- bench:{kind}:end -->"
    text = out.read_text() if out.exists() else (
        "# Benchmarks\n\nMade by `Tools/bench_peers.py`, which runs `convlens bench` and the same workloads in "
        "PyTorch, onnxruntime and pytorch-grad-cam in one sitting. Each section is replaced by the next run on its "
        "kind of device.\n\n<!-- bench:cpu:start -->\n<!-- bench:cpu:end -->\n\n<!-- bench:gpu:start -->\n"
        "<!-- bench:gpu:end -->\n")
    if start not in text:
        text += f"\n{start}\n{end}\n"
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: f"{start}\n{body}{end}", text, flags=re.S)
    out.write_text(text)


def conv_sitting(args, convlens, device, sync):
    """The conv layers, convlens (`bench --suite ops --layer NAME`) and PyTorch taking turns for --rounds rounds:
    convlens's records (with the median peak probes) and PyTorch's, by (layer, direction, batch)."""
    # Each workload group runs in convlens and then in the peers straight after, so both see the machine in the
    # same state: a shared VM's speed drifts by tens of percent over minutes.
    # Conv layers, short enough to be swayed by one slow spell, alternate for --rounds rounds.
    records, torch_conv = [], {}
    for layer in CONV_LAYERS:
        ours_rounds, peer_rounds = [], []
        for _ in range(args.rounds):
            ours_rounds.append(convlens("--suite", "ops", "--layer", layer[0]))
            peer_rounds.append(torch_conv_layers(device, args.runs, args.warmup, sync, [1, 8], [layer]))
        by_key = {}
        for round_records in ours_rounds:
            for record in round_records:
                by_key.setdefault((record["workload"], record["direction"], record["batch"]), []).append(record)
        for key, group in by_key.items():
            # Every probe is kept; the median one of each kind is chosen below.
            records += group if key[0].startswith("peak.") else [pooled(group)]
        torch_conv.update({key: pooled([r[key] for r in peer_rounds]) for key in peer_rounds[0]})
    # Every ops run probes the peaks again; keep the median probe of each kind.
    for kind in ("peak.fma", "peak.copy"):
        probes = sorted((r for r in records if r["workload"] == kind), key=lambda r: r["median_ms"])
        records = [r for r in records if r["workload"] != kind] + probes[len(probes) // 2:len(probes) // 2 + 1]
    return records, torch_conv


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--convlens", default=str(ROOT / ".build/release/convlens"))
    parser.add_argument("--models", default=str(Path.home() / "convlens-models"))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate convlens and the peers this many times on each conv layer")
    parser.add_argument("--startup", action="store_true", help="also time cold and warm start-up")
    parser.add_argument("--convlens-json", help="use this convlens bench --json output instead of running it")
    parser.add_argument("--suite", choices=["all", "layers", "vis", "models"], default="all",
                        help="vis: only the visualization workloads, convlens and the peers taking turns for --rounds "
                             "rounds, into a section of their own; models: only the models, convlens then the peers, "
                             "into a section of their own; layers: only the conv layers, into a section of their own")
    args = parser.parse_args()
    models_dir = Path(args.models).expanduser()

    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
        sync = torch.cuda.synchronize
    else:
        torch.set_num_threads(2)
        sync = lambda: None  # noqa: E731
    device = args.device
    common = ["--runs", str(args.runs), "--warmup", str(args.warmup), "--models", str(models_dir)]

    def convlens(*options):
        """Records of one `convlens bench` run."""
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run([args.convlens, "bench", *common, *options, "--json", f"{scratch}/bench.json"], check=True)
            return json.loads(Path(f"{scratch}/bench.json").read_text())

    if args.suite == "vis":
        # convlens and the peers take turns, as the conv layers do, and each side keeps the median of its rounds.
        ours_rounds, peer_rounds = [], []
        for _ in range(args.rounds):
            ours_rounds.append({(r["workload"], r["direction"], r["batch"]): r for r in convlens("--suite", "vis")})
            peer_rounds.append(gradcam_and_filters(device, args.runs, args.warmup, sync, models_dir))
        records = [pooled([r[key] for r in ours_rounds]) for key in ours_rounds[0]]
        vis = {key: pooled([r[key] for r in peer_rounds]) for key in peer_rounds[0]}
        command = " ".join(shlex.quote(a) for a in [args.convlens, "bench", *common, "--suite", "vis", "--json", "FILE.json"])
        body = vis_section(args, records, vis, command)
        write(Path(args.out), ("gpu" if device == "cuda" else "cpu") + "-vis", body)
        print(body)
        return

    if args.suite == "layers":
        records, torch_conv = conv_sitting(args, convlens, device, sync)
        command = " ".join(shlex.quote(a) for a in [args.convlens, "bench", *common, "--suite", "ops", "--layer", "NAME",
                                                     "--json", "FILE.json"]) + "  # for each conv layer"
        body = layers_section(args, records, torch_conv, command)
        write(Path(args.out), ("gpu" if device == "cuda" else "cpu") + "-layers", body)
        print(body)
        return

    if args.suite == "models":
        records = convlens("--suite", "models")
        torch_models_ = torch_models(device, args.runs, args.warmup, sync, models_dir)
        ort_models, ort_version = onnxruntime_models(device, args.runs, args.warmup, models_dir)
        command = " ".join(shlex.quote(a) for a in [args.convlens, "bench", *common, "--suite", "models", "--json", "FILE.json"])
        body = models_section(args, records, torch_models_, ort_models, ort_version, command)
        write(Path(args.out), ("gpu" if device == "cuda" else "cpu") + "-models", body)
        print(body)
        return

    if args.convlens_json:
        records = json.loads(Path(args.convlens_json).read_text())
        bench_command = " ".join(shlex.quote(a) for a in [args.convlens, "bench", *common, "--json", "FILE.json"])
        torch_conv = torch_conv_layers(device, args.runs, args.warmup, sync, [1, 8])
    else:
        records, torch_conv = conv_sitting(args, convlens, device, sync)
        records += convlens("--suite", "models")
        bench_command = (" ".join(shlex.quote(a) for a in [args.convlens, "bench", *common, "--json", "FILE.json"])
                         + "  # with --suite ops --layer NAME for each conv layer, then --suite models, then --suite vis")
    torch_models_ = torch_models(device, args.runs, args.warmup, sync, models_dir)
    ort_models, ort_version = onnxruntime_models(device, args.runs, args.warmup, models_dir)
    if not args.convlens_json:
        records += convlens("--suite", "vis")
    vis = gradcam_and_filters(device, args.runs, args.warmup, sync, models_dir)
    start = startup(args.convlens) if args.startup else None
    body = section(args, records, torch_conv, torch_models_, ort_models, ort_version, vis, start, bench_command)
    write(Path(args.out), "gpu" if device == "cuda" else "cpu", body)
    print(body)


if __name__ == "__main__":
    main()
