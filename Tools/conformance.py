#!/usr/bin/env python3
"""CONFORMANCE.md: every torchvision classifier (and a few timm architectures), exported by both PyTorch exporters,
run by ConvLens on both backends, its logits checked against onnxruntime and its input gradient against PyTorch
float64 autograd under ConvLens's own ReLU / Clip / max-pool decisions.

For each model in ZOO + TIMM (``weights=None`` after ``torch.manual_seed(0)``, eval mode; a classifier head that
torchvision initializes to zero is drawn N(0, 0.01) so the logits differ):

1. one input 1 x 3 x S x S (S = 299 for Inception v3, else 224), numpy ``default_rng(0)`` standard normal;
2. exported twice: ``legacy`` = the TorchScript exporter (``dynamo=False``, opset 17, constant folding on, batch
   axis dynamic; it writes the shape computations ConvLens folds at load) and ``dynamo`` = the default exporter
   (torch.export, opset 18+, batch axis dynamic, weights of large models in a side file ``model.onnx.data``);
3. onnxruntime's logits (CPU, graph optimizations off) are the logits' reference; c is its top-1 class;
4. per backend (``opencl``, ``cpu`` = the plain-Swift reference twin): ``convlens forward MODEL --input x.npy
   --backend B --save-npy --save-input-gradient --gradient-class c --save-values DIR --values-for <the piecewise
   ops>``, one call at a time; a model ConvLens refuses is recorded with its one-line error, never skipped;
5. the gradient's reference: d logits[0, c] / d input by PyTorch float64 autograd through the exported graph
   (convlens_tools.onnx_torch), with every piecewise op (ReLU, Clip, HardSwish, HardSigmoid, LeakyReLU, Abs,
   max-pool, ReduceMax) taking the branch ConvLens took, read from ConvLens's float32 input to that op
   (convlens_tools.decisions). ReLU and max-pool gradients jump at their kinks; an input within float32 rounding of
   a kink can fall either way in two correct float32 implementations, so holding ConvLens to float64's own
   decisions would test the rounding, not the arithmetic. How many decisions differ from float64's own is reported
   per row (with the gradient's distance to float64 under its own decisions, for scale), never hidden.

Pass: logits rel L2 (||a - b|| / ||b||) <= 1e-4 against onnxruntime and gradient rel L2 <= 1e-4 against the
reference, every piecewise op on the input's path decided by a ConvLens value.

Usage (repository root; venv outside the repository with torch, torchvision, timm, onnx, onnxscript, onnxruntime):
    ~/convlens-venv/bin/python Tools/conformance.py --convlens .build/release/convlens \\
        [--models a,b] [--backends opencl,cpu] [--work DIR]
Exports are kept under --work (default /tmp/convlens-conformance) and reused. A run of some models or backends
keeps the other rows of the last report (marked *). Rewrites CONFORMANCE.md. Never run by the build or the tests.
"""
import argparse
import csv
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch
import torchvision

from convlens_tools.decisions import DECISION_OPS
from convlens_tools.metrics import rel_l2
from convlens_tools.onnx_export import export_onnx
from convlens_tools.onnx_torch import OnnxGraphModule
from convlens_tools.onnxruntime_eval import evaluate

ROOT = Path(__file__).resolve().parent.parent
ZOO = [
    "alexnet", "vgg16", "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "densenet121", "inception_v3",
    "googlenet", "squeezenet1_1", "shufflenet_v2_x1_0", "mobilenet_v2", "mobilenet_v3_large", "mnasnet1_0",
    "efficientnet_b0", "efficientnet_v2_s", "regnet_y_400mf", "convnext_tiny", "vit_b_16", "swin_t", "maxvit_t",
]
# Other libraries' architectures use the same ops in other patterns: timm's TF-ported EfficientNet pads "same" from
# the input's size at run time, DeiT distils through a second token, MobileViT unfolds patches with reshapes and
# transposes, RegNetY and ResNet-D average-pool in their shortcuts, ConvNeXt-Atto, CoAtNet ... ("timm:" names).
TIMM = ["timm:tf_efficientnet_b0", "timm:deit_tiny_distilled_patch16_224", "timm:mobilevit_xxs", "timm:regnety_002",
        "timm:resnet18d", "timm:convnext_atto", "timm:coatnet_nano_rw_224"]
TOLERANCE = 1e-4
COLUMNS = ["model", "exporter", "backend", "logits rel L2", "gradient rel L2", "decisions differing from float64",
           "gradient vs float64's own decisions", "forward ms", "result"]


def build(name: str):
    torch.manual_seed(0)
    if name.startswith("timm:"):
        import timm
        return timm.create_model(name[5:], pretrained=False).eval()
    options = {"aux_logits": False, "init_weights": True} if name in ("inception_v3", "googlenet") else {}
    model = getattr(torchvision.models, name)(weights=None, **options).eval()
    for module in model.modules():  # zero-initialized heads (ViT) would give all-zero logits
        if isinstance(module, torch.nn.Linear) and module.out_features == 1000 and not module.weight.abs().sum():
            torch.nn.init.normal_(module.weight, std=0.01)
    return model


def export(model, x, path: Path, exporter: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "legacy":
            export_onnx(model, x, str(path), 17)
        else:
            batch = torch.export.Dim("batch", max=64)
            program = torch.onnx.export(model, (torch.cat([x, x]),), dynamo=True, input_names=["input"],
                                        output_names=["logits"], dynamic_shapes=({0: batch},), verbose=False)
            program.save(str(path))


def run_convlens(convlens: str, model: Path, x_path: Path, backend: str, target: int, ops: set, out: Path):
    """ConvLens's logits, input gradient, decisions (node name -> float32 input) and forward ms, or its error."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [convlens, "forward", str(model), "--input", str(x_path), "--backend", backend, "--top", "1",
               "--save-npy", str(out / "y.npy"), "--save-input-gradient", str(out / "g.npy"),
               "--gradient-class", str(target)]
    if ops:
        command += ["--save-values", str(out / "values"), "--values-for", ",".join(sorted(ops))]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error:")]
        return {"error": (errors or lines or ["exit %d" % proc.returncode])[0]}
    decisions = {}
    if ops:
        with open(out / "values" / "values.tsv") as manifest:
            for row in csv.DictReader(manifest, delimiter="\t"):
                if row["role"] == "input0":
                    decisions[row["node"]] = torch.from_numpy(np.load(out / "values" / row["file"]))
        shutil.rmtree(out / "values")  # hundreds of MB for a large model; the decisions are read
    match = re.search(r"forward ([0-9.]+) ms", proc.stdout)
    return {"logits": np.load(out / "y.npy"), "gradient": np.load(out / "g.npy"), "decisions": decisions,
            "ms": float(match.group(1)) if match else None}


def float64_gradient(graph: OnnxGraphModule, x: np.ndarray, target: int, decisions=None) -> np.ndarray:
    x64 = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    graph(x64, decisions)[0, target].backward()
    return x64.grad.numpy()


def check_model(name: str, exporters, backends, args, rows: list, notes: list) -> None:
    size = 299 if name == "inception_v3" else 224
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
    model = None
    for exporter in exporters:
        folder = Path(args.work) / ("%s-%s" % (name.replace(":", "_"), exporter))
        folder.mkdir(parents=True, exist_ok=True)
        path, x_path = folder / "model.onnx", folder / "x.npy"
        np.save(x_path, x)

        def row(backend, *cells):
            rows.append((name, exporter, backend) + cells)
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
        try:
            if not path.exists():
                model = model or build(name)
                export(model, torch.from_numpy(x.copy()), path, exporter)
            reference = evaluate(str(path), x)
            graph = OnnxGraphModule(onnx.load(str(path))).eval().requires_grad_(False).double()
            target = int(reference.argmax())
            own = float64_gradient(graph, x, target)
            piecewise = {op for _, op in graph.piecewise}
        except Exception as error:  # the exporter, onnxruntime or the float64 evaluator failed: no row to judge
            for backend in backends:
                row(backend, "-", "-", "-", "-", "-", "reference failed: %s" % str(error).splitlines()[0][:160])
            continue
        for backend in backends:
            result = run_convlens(args.convlens, path, x_path, backend, target, piecewise & DECISION_OPS,
                                  folder / backend)
            if "error" in result:
                message = result["error"].split("; supported ops:")[0].replace("|", "\\|")
                row(backend, "-", "-", "-", "-", "-", "refused: `%s`" % message[:300])
                continue
            decided = float64_gradient(graph, x, target, result["decisions"])
            differing = sum(d for _, _, d, _ in graph.decision_counts)
            total = sum(t for _, _, _, t in graph.decision_counts)
            logits_error = rel_l2(result["logits"], reference)
            gradient_error = rel_l2(result["gradient"], decided)
            ok = logits_error <= TOLERANCE and gradient_error <= TOLERANCE and not graph.undecided
            if graph.undecided:
                notes.append("%s %s %s: no ConvLens value for the piecewise nodes %s" % (
                    name, exporter, backend, ", ".join(graph.undecided[:5])))
            row(backend, "%.2e" % logits_error, "%.2e" % gradient_error,
                "%d of %d" % (differing, total) if total else "none (no piecewise op)",
                "%.2e" % rel_l2(own, decided), "%.0f" % result["ms"] if result["ms"] else "-",
                "pass" if ok else "FAIL")


def carried_rows(text: str, ran: set) -> list:
    """The previous report's rows for (model, exporter, backend) not run now, marked *."""
    carried = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == len(COLUMNS) and cells[1] in ("legacy", "dynamo"):
            key = (cells[0].rstrip("*"), cells[1], cells[2])
            if key not in ran:
                carried.append(tuple([key[0] + "*"] + cells[1:]))
    return carried


def cpu_name() -> str:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def write_report(report: Path, previous: str, rows: list, notes: list, args, started: float, load_before: str):
    """CONFORMANCE.md from this run's rows and the previous report's other rows; returns (passed, runs)."""
    carried = carried_rows(previous, {row[:3] for row in rows})
    order = {name: i for i, name in enumerate(ZOO + TIMM)}
    rows = sorted(carried + rows, key=lambda r: (order.get(r[0].rstrip("*"), 99), r[1] != "legacy", r[2] != "opencl"))
    passed = sum(1 for row in rows if row[-1] == "pass")
    device = subprocess.run([args.convlens, "devices"], capture_output=True, text=True).stdout.strip().splitlines()
    header = [
        "# ConvLens conformance report", "",
        "- Date: %s; machine: %s, %d cores; OpenCL device: %s" % (
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), cpu_name(), len(os.sched_getaffinity(0)), device[0].split("] ", 1)[-1] if device else "?"),
        "- Python %s; torch %s, torchvision %s, onnx %s, onnxruntime %s" % (
            platform.python_version(), torch.__version__, torchvision.__version__, onnx.__version__,
            onnxruntime.__version__),
        "- Command (repository root): `~/convlens-venv/bin/python Tools/conformance.py --convlens %s%s` "
        "(%.0f min; load average %s before, %s after)" % (
            args.convlens, "" if args.models == ",".join(ZOO + TIMM) else " --models " + args.models,
            (time.time() - started) / 60, load_before, open("/proc/loadavg").read().split()[0]),
        "- What it checks, and why the gradient's reference takes ConvLens's decisions: the script's docstring; in "
        "short, random weights, one standard-normal input, rel L2 <= 1e-4 for the logits against onnxruntime and "
        "for d logit[c] / d input against PyTorch float64 autograd through the exported graph, with every ReLU, "
        "Clip, HardSwish and max-pool taking the branch ConvLens took (decided by ConvLens's own float32 input to "
        "it). `legacy` = TorchScript exporter at opset 17, `dynamo` = the default exporter; `cpu` = the reference "
        "backend.", "",
        "**%d of %d runs pass.**" % (passed, len(rows))
        + (" Rows marked * are carried over from the previous run of the script." if carried else ""), "",
        "*decisions differing from float64*: of all the piecewise decisions on the input's path (ReLU/Clip/HardSwish "
        "elements, max-pool windows), how many ConvLens took otherwise than float64 does on the same input; "
        "*gradient vs float64's own decisions*: how far float64's gradient moves when those decisions are its own, "
        "the size of what the decision criterion sets aside. *forward ms*: ConvLens's first forward, kernel builds "
        "included.", "",
        "| %s |" % " | ".join(COLUMNS), "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    lines = header + ["| %s |" % " | ".join(row) for row in rows]
    if notes:
        lines += ["", "## Notes", ""] + ["- " + note for note in notes]
    report.write_text("\n".join(lines) + "\n")
    return passed, len(rows)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--convlens", required=True)
    parser.add_argument("--models", default=",".join(ZOO + TIMM))
    parser.add_argument("--exporters", default="legacy,dynamo")
    parser.add_argument("--backends", default="opencl,cpu")
    parser.add_argument("--work", default="/tmp/convlens-conformance")
    args = parser.parse_args()
    rows, notes, started = [], [], time.time()
    load_before = open("/proc/loadavg").read().split()[0]
    report = ROOT / "CONFORMANCE.md"
    previous = report.read_text() if report.exists() else ""
    for name in args.models.split(","):
        check_model(name, args.exporters.split(","), args.backends.split(","), args, rows, notes)
        # Written after every model, so an interrupted run keeps what it measured.
        passed, total = write_report(report, previous, rows, notes, args, started, load_before)
    print("%d of %d runs pass" % (passed, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
