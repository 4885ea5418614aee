#!/usr/bin/env python3
"""Every torchvision classifier, exported by both PyTorch exporters, loaded and run by ConvLens against onnxruntime:
the "Model zoo" section of CONFORMANCE.md.

For each model in ZOO (torchvision, ``weights=None`` after ``torch.manual_seed(0)``, eval mode; a classifier head
that torchvision initializes to zero is drawn N(0, 0.01) so the logits differ):

1. one input 1 x 3 x S x S (S = 299 for Inception v3, else 224), numpy ``default_rng(0)`` standard normal;
   besides torchvision, a few timm architectures (``TIMM``, PyPI ``timm``, random weights) that use the same ops
   in other patterns;
2. exported twice into a temporary folder: the TorchScript exporter (``dynamo=False``, opset 17, constant folding
   on, batch axis dynamic; it writes shape computations that ConvLens folds at load) and the default exporter
   (torch.export, opset 18+, batch axis dynamic through ``torch.export.Dim``, weights of large models in a side
   file ``model.onnx.data``);
3. onnxruntime's logits (CPU, graph optimizations off) are the reference;
4. ``convlens forward MODEL --input x.npy --backend opencl --save-npy y.npy`` (one call at a time); a model
   ConvLens refuses is recorded with its one-line error, never skipped.

Pass: logits rel L2 (||a - b|| / ||b||) <= 1e-4 against onnxruntime. The table gives the rel L2, whether the top-1
class agrees, and ConvLens's "forward N ms" (one forward, first call: kernel builds included). Input gradients on
the whole zoo are not part of this run (Tools/conformance.py checks them, with its decision criterion, on six CNNs).

Usage (repository root; venv outside the repository with torch, torchvision, timm, onnx, onnxscript, onnxruntime):
    ~/convlens-venv/bin/python Tools/zoo_conformance.py --convlens .build/release/convlens [--models a,b]
Rewrites the part of CONFORMANCE.md between the "zoo" markers (appending it the first time). Never run by the
build or the tests.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torchvision

from convlens_tools.metrics import rel_l2
from convlens_tools.onnx_export import export_onnx
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
START, END = "<!-- zoo:start -->", "<!-- zoo:end -->"


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


def run(convlens: str, model: Path, x_path: Path, out: Path) -> tuple:
    start = time.time()
    proc = subprocess.run([convlens, "forward", str(model), "--input", str(x_path), "--backend", "opencl",
                           "--save-npy", str(out), "--top", "1"], capture_output=True, text=True, timeout=1800)
    wall = time.time() - start
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "exit %d" % proc.returncode, wall
    match = re.search(r"([0-9.]+) ms", proc.stdout)
    return np.load(out), float(match.group(1)) if match else None, wall


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--convlens", required=True)
    parser.add_argument("--models", default=",".join(ZOO + TIMM))
    args = parser.parse_args()
    rows, failures = [], []
    started = time.time()
    for name in args.models.split(","):
        size = 299 if name == "inception_v3" else 224
        x_np = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
        model = build(name)
        for exporter in ("legacy", "dynamo"):
            with tempfile.TemporaryDirectory() as folder:
                folder = Path(folder)
                path, x_path = folder / "model.onnx", folder / "x.npy"
                np.save(x_path, x_np)
                try:
                    export(model, torch.from_numpy(x_np.copy()), path, exporter)
                    reference = evaluate(str(path), x_np)
                except Exception as error:  # the exporter or onnxruntime failed: not ConvLens's row to judge
                    rows.append((name, exporter, "-", "-", "-", "export failed: %s" % str(error).splitlines()[0][:160]))
                    continue
                logits, detail, wall = run(args.convlens, path, x_path, folder / "y.npy")
                if logits is None:
                    message = detail.split("; supported ops:")[0].replace("|", "\\|")
                    rows.append((name, exporter, "-", "-", "-", "refused: `%s`" % message[:300]))
                    failures.append(name)
                    continue
                error = rel_l2(logits, reference)
                ok = error <= 1e-4
                rows.append((name, exporter, "%.2e" % error, "yes" if logits.argmax() == reference.argmax() else "no",
                             "%.0f" % detail if detail else "-", "pass" if ok else "FAIL"))
                if not ok:
                    failures.append(name)
            print(rows[-1], flush=True)
    report = ROOT / "CONFORMANCE.md"
    text = report.read_text()
    # A run of some models keeps the other models' rows of the last run (marked), so the table stays whole.
    ran = {row[0] for row in rows}
    carried = []
    if START in text:
        for line in text[text.index(START):text.index(END)].splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            if len(cells) == 6 and cells[1] in ("legacy", "dynamo") and cells[0].rstrip("*") not in ran:
                carried.append(tuple([cells[0].rstrip("*") + "*"] + cells[1:]))
    rows = carried + rows
    passed = sum(1 for row in rows if row[-1] == "pass")
    device = subprocess.run([args.convlens, "devices"], capture_output=True, text=True).stdout.strip().splitlines()
    lines = [
        START, "", "## Model zoo: both exporters, logits against onnxruntime (torchvision classifiers, some timm models)", "",
        "- Date: %s; OpenCL device: %s" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                          device[0].split("] ", 1)[-1] if device else "?"),
        "- torch %s, torchvision %s; command: `~/convlens-venv/bin/python Tools/zoo_conformance.py --convlens %s` "
        "(%.0f min)" % (torch.__version__, torchvision.__version__, args.convlens, (time.time() - started) / 60),
        "- What it checks: see the script's docstring (random weights, one standard-normal input, rel L2 <= 1e-4 of "
        "the logits against onnxruntime; `legacy` = TorchScript exporter at opset 17, `dynamo` = the default exporter).",
        "", "**%d of %d runs pass.**" % (passed, len(rows))
        + (" Rows marked * are carried over from the previous run of the script." if carried else ""), "",
        "| model | exporter | logits rel L2 | top-1 agrees | forward ms (first call) | result |",
        "| --- | --- | ---: | --- | ---: | --- |",
    ] + ["| %s |" % " | ".join(row) for row in rows] + ["", END]
    section = "\n".join(lines)
    text = text[:text.index(START)] + section + text[text.index(END) + len(END):] if START in text \
        else text.rstrip("\n") + "\n\n" + section + "\n"
    report.write_text(text)
    print("%d of %d runs pass" % (passed, len(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
