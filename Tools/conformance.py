#!/usr/bin/env python3
"""ConvLens conformance run on six torchvision ImageNet CNNs; writes CONFORMANCE.md.

Purpose
-------
Checks that ``convlens forward`` computes the same logits as onnxruntime and
the same input gradient as PyTorch autograd, on both backends (``opencl`` and
the plain-Swift ``cpu`` reference), for real-size networks exported by
``torch.onnx.export``:

    AlexNet, VGG-16, ResNet-18, ResNet-50, SqueezeNet 1.1, MobileNetV2
    (all opset 17) and ResNet-18 again at opset 13.

For every model:

1. The torchvision model is built with ``weights=None`` after
   ``torch.manual_seed(0)`` (no download; fixed-seed random init), put in eval
   mode and exported to ONNX in a temporary directory (TorchScript exporter,
   ``dynamo=False``, constant folding on, input ``input``, output ``logits``,
   dynamic batch axis). The .onnx files never touch the repository.
2. The input is chosen per model (and opset) by a fixed rule, so that the
   gradient check is well conditioned. ReLU, Clip and max-pool gradients are
   discontinuous: one unit whose input sits within float32 rounding of a kink
   (or a max-pool tie) flips its mask between float32 and float64 and moves the
   whole input gradient by ~1e-3, which no float32 implementation can be held
   to at 1e-4. So inputs are drawn from seeds 0, 1, 2, ... (1x3x224x224
   standard normal, numpy ``default_rng(seed)``, cast to float32) and the
   first seed is used for which all three hold:
   (a) PyTorch's float32 input gradient d logits[0, c] / d input (c = torch's
       float32 top-1 class) is within rel L2 ``WELL_CONDITIONED`` of the same
       model's float64 gradient (``model.double()`` on a deep copy, float64
       input), and
   (b) the exported ONNX graph, evaluated op by op with torch functions in
       float32 and in float64 (``GraphEvaluator``: the function convlens
       actually computes, e.g. with BatchNorm folded into the convolutions,
       which can put a different unit at a kink than the torch model), gives
       float32 and float64 gradients within the same rel L2, and
   (c) the exported graph's float64 gradient stays within the same rel L2
       when every op that sums (Conv, Gemm, Add, Mul, the average pools)
       gets Gaussian noise added to its output as large as that op's own
       float32 rounding (the rms of the op in float32 minus the op in
       float64, on the same inputs), in each of ``NOISE_DRAWS`` (8)
       independent draws. convlens's kernels round no more than oneDNN
       (two-level sums; its logits sit closer to float64 than torch's), so
       noise of torch's size stands in for them. On VGG-16 most inputs put
       some unit within rounding of a kink: a draw flips it in 15-80 % of
       draws, so the rule looks for an input where none of 8 draws does. (a) and (b) only catch the kinks and max-pool near-ties that
       torch's own float32 resolves wrongly; another float32 implementation
       sums in another order and can resolve a different one. ResNet-50
       showed it: on inputs that passed (a) and (b), convlens's OpenCL
       gradient missed by 4e-3 and 9e-3, each error a single blob in the
       input gradient (one flipped unit). The noise is a stand-in for that
       other implementation: it moves no derivative except by flipping such
       a unit.
   ``WELL_CONDITIONED`` is 1e-5: ten times below the 1e-4 tolerance, and
   about ten times above plain float32 rounding noise (a kink-free input
   still shows 0.3-1.3e-6 on these networks, so 1e-6 would reject every seed
   for AlexNet, VGG-16 and ResNet-50), while a flipped unit typically shows
   1e-5 to 1e-2. At most ``MAX_SEEDS`` (50) seeds are tried. If none passes
   all three but some pass (a) and (b), the one whose gradient moves in the
   fewest of the 8 draws is used and its rows are judged at the tolerance,
   with the count of moving draws shown (torch's float32 gradient is right
   there; another float32 implementation lands on the other side of a kink
   with about that chance). If none passes even (a) and (b), the model's
   rows fail ("no well-conditioned input found") and convlens is still run,
   for the logits, on the least ill-conditioned seed.
   The tolerance itself is never loosened. The chosen input is saved as .npy.
3. References on the chosen input: onnxruntime logits (CPUExecutionProvider,
   graph optimizations off) and the PyTorch float32 autograd gradient
   d logits[0, c] / d input from step 2.
4. ``convlens forward MODEL --input X.npy --backend B --save-npy ...
   --save-input-gradient ... --gradient-class c`` runs for B = opencl, then
   cpu, one call at a time; the wall time of each call and the
   "forward N ms" figure it prints are recorded.
5. Pass when the logits' rel L2 error (||a - b|| / ||b||) against onnxruntime
   and the gradient's rel L2 error against PyTorch are both <= 1e-4. Max abs
   errors and top-1 agreement (convlens vs onnxruntime) are recorded too.

A model that convlens cannot import or run is not skipped silently: its rows
say "error" and the exact one-line message goes into the report's notes. The
script then goes on with the other models and exits 1 if any row failed,
0 if all passed.

The report (machine, OpenCL device, convlens build, library versions, the
command line, one table, notes on every error, and per model the reference
cross-checks and the exported graph's op types) is written to ``CONFORMANCE.md`` at the repository root (found
from this file's location; ``--report`` overrides it) and the table is also
printed to stdout.

How to run
----------
By hand, from the repository root, after a release build::

    swift build -c release
    /root/convlens-venv/bin/python Tools/conformance.py

Options: ``--convlens PATH`` (default ``.build/release/convlens``),
``--models resnet18,alexnet`` (a subset, by key), ``--report PATH``,
``--timeout SECONDS`` per convlens call (default 900), ``--keep DIR`` (keep
the exported models, input and outputs in DIR instead of a temporary
directory).

This is run by hand, not in CI: it needs a few GiB of memory, PyTorch, and
about 10-15 minutes on a 2-core CPU with PoCL (about 5 of them the plain-Swift
reference backend on VGG-16, forward and backward; ResNet-50 takes about 1.5;
the input search adds a few seconds per seed tried, about 1 minute for VGG-16).

Dependencies (PyPI)
-------------------
``torch``, ``torchvision``, ``onnx``, ``onnxruntime``, ``numpy`` (no network
access is needed at run time: no pretrained weights are downloaded).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

# The package modules that need torch or onnxruntime are imported where they are used, so --help answers at once.
from convlens_tools.metrics import max_abs, rel_l2

REPO_ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-4
SEED = 0  # torch.manual_seed for the random weights
INPUT_SHAPE = (1, 3, 224, 224)
ORT_TIMING_RUNS = 5
# Input selection (see the module docstring): the first input seed whose reference gradient moves by at most
# WELL_CONDITIONED (rel L2) between float32 and float64, for the torch model and for the exported graph.
WELL_CONDITIONED = 1e-5
# ... and stays within it when the float64 graph gets, at every op that sums, Gaussian noise as large as that op's
# own float32 rounding, in each of NOISE_DRAWS independent draws: a stand-in for another float32 implementation,
# which sums in another order and can resolve a kink or max-pool near-tie that torch's own float32 happens to get
# right. (convlens's kernels round no more than oneDNN: its logits sit closer to float64 than torch's.)
NOISE_SCALE = 1.0
NOISE_DRAWS = 8
MAX_SEEDS = 50

# key -> (display name, torchvision constructor name)
MODELS = {
    "alexnet": ("AlexNet", "alexnet"),
    "vgg16": ("VGG-16", "vgg16"),
    "resnet18": ("ResNet-18", "resnet18"),
    "resnet50": ("ResNet-50", "resnet50"),
    "squeezenet1_1": ("SqueezeNet 1.1", "squeezenet1_1"),
    "mobilenet_v2": ("MobileNetV2", "mobilenet_v2"),
}
# (model key, opset) in report order
CASES = [
    ("alexnet", 17),
    ("vgg16", 17),
    ("resnet18", 17),
    ("resnet18", 13),
    ("resnet50", 17),
    ("squeezenet1_1", 17),
    ("mobilenet_v2", 17),
]
BACKENDS = ["opencl", "cpu"]


@dataclass
class Row:
    model: str
    opset: int
    backend: str
    seed: int | None = None  # input seed used (see choose_input)
    conditioned: bool = True  # False: no seed up to MAX_SEEDS gave a well-conditioned reference gradient
    flipping_draws: int | None = None  # see Choice
    gap_torch: float | None = None  # reference gradient float32 vs float64, torch model
    gap_graph: float | None = None  # the same for the exported graph (None: not evaluated)
    logits_rel: float | None = None
    logits_max: float | None = None
    grad_rel: float | None = None
    grad_max: float | None = None
    top1_agrees: bool | None = None
    forward_ms: float | None = None
    wall_s: float | None = None
    ort_ms: float | None = None
    passed: bool = False
    error: str | None = None
    note_refs: list[int] = field(default_factory=list)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def one_line(text: str) -> str:
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


# ---------------------------------------------------------------------------
# references


def make_input(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(INPUT_SHAPE).astype(np.float32)


def freeze(model):
    """No parameter gradients: only d logits / d input is wanted (it does not depend on this; it saves time)."""
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def torch_reference(model, model64, x_np: np.ndarray):
    """Float32 logits and d logits[0, c] / d input for torch's top-1 class c, plus the same gradient from the
    float64 copy of the model (how far float32 rounding alone moves the reference gradient)."""
    import torch

    x = torch.from_numpy(x_np.copy()).requires_grad_(True)
    out = model(x)
    c = int(out[0].argmax())
    out[0, c].backward()
    x64 = torch.from_numpy(x_np.astype(np.float64)).requires_grad_(True)
    model64(x64)[0, c].backward()
    return out.detach().numpy(), x.grad.detach().numpy(), c, x64.grad.numpy()


class GraphEvaluator:
    """Evaluates an exported ONNX graph op by op with torch functions (the Tools package's OnnxGraphModule), in
    float32 or float64, and returns d output[0, c] / d input by autograd: the gradient of exactly the function
    convlens computes (BatchNorm folded into the convolutions by the exporter, for instance)."""

    # Ops that sum and so round on their own; the rest pass their inputs' rounding on unchanged (or exactly).
    ROUNDING_OPS = {"Conv", "Gemm", "Add", "Mul", "AveragePool", "GlobalAveragePool"}

    def __init__(self, path: Path):
        import onnx
        import torch
        from convlens_tools.onnx_torch import OnnxGraphModule

        proto = onnx.load(str(path))
        # One module per precision, built once; only the input's gradient is wanted, so the weights need none.
        self.modules = {dtype: OnnxGraphModule(proto).to(dtype).requires_grad_(False)
                        for dtype in (torch.float32, torch.float64)}

    def gradient(self, x_np: np.ndarray, c: int, dtype, local_rounding: list | None = None,
                 noise: list | None = None, rng=None):
        """d output[0, c] / d input (and the output), evaluated in `dtype`.

        local_rounding: when a list (float64 runs), each node's own float32 rounding is appended to it: the rms of
            (the op in float32 on the float32-cast inputs) - (the op in float64), for ops that sum, else 0.
        noise, rng: one standard deviation per node; that much Gaussian noise (from `rng`) is added to the node's
            output as a constant — another float32 implementation's rounding, in effect, which moves no derivative
            except by flipping a kink or a max-pool tie."""
        import torch

        module = self.modules[dtype]
        # Both are forward hooks on the node modules: they run in node order, after each node's own forward.
        hooks = []
        if local_rounding is not None:
            hooks += [node.register_forward_hook(partial(self._record_rounding, local_rounding))
                      for node in module.nodes]
        if noise is not None:
            hooks += [node.register_forward_hook(partial(self._add_noise, sigma, rng))
                      for node, sigma in zip(module.nodes, noise) if sigma]
        try:
            x = torch.from_numpy(x_np).to(dtype).requires_grad_(True)
            out = module(x)
            out[0, c].backward()
        finally:
            for hook in hooks:
                hook.remove()
        return out.detach().double().numpy(), x.grad.double().numpy()

    @classmethod
    def _record_rounding(cls, sigmas: list, node, inputs, output) -> None:
        import torch

        sigma = 0.0
        if node.op_type in cls.ROUNDING_OPS:
            with torch.no_grad():
                to32 = lambda t: t.float() if t is not None and t.is_floating_point() else t  # noqa: E731
                # node.forward, not node(...): calling the module would run its hooks, this one included, again.
                y32 = node.forward(*[to32(t) for t in inputs])
                sigma = float(((y32.double() - output.detach().double()) ** 2).mean().sqrt())
        sigmas.append(sigma)

    @staticmethod
    def _add_noise(sigma: float, rng, node, inputs, output):
        import torch

        return output + torch.from_numpy(rng.standard_normal(tuple(output.shape))).to(output.dtype) * sigma


@dataclass
class Choice:
    seed: int | None  # None: no seed qualified
    used_seed: int  # the seed actually used (the least ill-conditioned one when none qualified)
    x: np.ndarray
    t_logits: np.ndarray
    t_grad: np.ndarray
    c: int
    gap_torch: float
    gap_graph: float | None
    graph_vs_torch: float | None  # exported graph float64 gradient vs torch model float64 gradient
    gap_noise: float | None  # exported graph float64 gradient under simulated float32 rounding vs without
    rejected: list  # (seed, reason)
    # When no seed passes all three checks, the fallback that passes (a) and (b): how many of the NOISE_DRAWS draws
    # move its gradient by more than WELL_CONDITIONED (rule (c)'s failures); None otherwise.
    flipping_draws: int | None = None


def choose_input(model, model_path: Path) -> Choice:
    """The first seed in 0..MAX_SEEDS-1 whose reference gradient is well conditioned (see the module docstring)."""
    import copy

    import torch

    model = freeze(model)
    model64 = freeze(copy.deepcopy(model).double())
    graph = GraphEvaluator(model_path)
    tried = []
    for seed in range(MAX_SEEDS):
        x = make_input(seed)
        t_logits, t_grad, c, t_grad64 = torch_reference(model, model64, x)
        gap_t = rel_l2(t_grad, t_grad64)
        gap_g = graph_vs_torch = gap_n = None
        if gap_t <= WELL_CONDITIONED:
            _, o32 = graph.gradient(x, c, torch.float32)
            rounding = []
            _, o64 = graph.gradient(x, c, torch.float64, local_rounding=rounding)
            gap_g = rel_l2(o32, o64)
            graph_vs_torch = rel_l2(o64, t_grad64)
            if gap_g <= WELL_CONDITIONED:
                noise = [NOISE_SCALE * sigma for sigma in rounding]
                gap_n, clean = 0.0, 0
                for draw in range(NOISE_DRAWS):  # stops at the first draw that moves the gradient
                    _, noisy = graph.gradient(x, c, torch.float64, noise=noise, rng=np.random.default_rng(draw))
                    gap_n = max(gap_n, rel_l2(noisy, o64))
                    if gap_n > WELL_CONDITIONED:
                        break
                    clean += 1
        log(f"   seed {seed}: class {c}, gradient float32 vs float64 rel L2: torch model {gap_t:.2e}, "
            f"exported graph {'-' if gap_g is None else f'{gap_g:.2e}'}, "
            f"under simulated rounding {'-' if gap_n is None else f'{gap_n:.2e}'}")
        choice = Choice(seed, seed, x, t_logits, t_grad, c, gap_t, gap_g, graph_vs_torch, gap_n, [])
        # Ranking for the fallback: inputs that pass (a) and (b) first, then by draws survived, then by the gap.
        if gap_t > WELL_CONDITIONED:
            reason, rank = f"torch {gap_t:.1e}", (2, gap_t)
        elif gap_g > WELL_CONDITIONED:
            reason, rank = f"graph {gap_g:.1e}", (2, gap_g)
        elif gap_n > WELL_CONDITIONED:
            reason, rank = f"simulated rounding {gap_n:.1e} in draw {clean + 1}", (1, -clean, gap_n)
        else:
            choice.rejected = [(s, r) for s, r, _, _ in tried]
            return choice
        tried.append((seed, reason, rank, choice))
    # None qualified: use the least ill-conditioned seed, so that the logits (and, when it passes (a) and (b), the
    # gradient) are still compared; count how many of all NOISE_DRAWS draws move its gradient.
    seed, _, rank, best = min(tried, key=lambda t: t[2])
    best.seed = None
    best.rejected = [(s, r) for s, r, _, _ in tried if s != seed]
    if rank[0] == 1:
        rounding = []
        _, o64 = graph.gradient(best.x, best.c, torch.float64, local_rounding=rounding)
        best.flipping_draws = sum(
            rel_l2(graph.gradient(best.x, best.c, torch.float64, noise=[NOISE_SCALE * r for r in rounding],
                                  rng=np.random.default_rng(draw))[1], o64) > WELL_CONDITIONED
            for draw in range(NOISE_DRAWS))
    return best


def ort_reference(path: Path, x_np: np.ndarray):
    """onnxruntime logits (optimizations off) and median latency of 5 runs."""
    from convlens_tools.onnxruntime_eval import first_output, make_session

    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    logits = first_output(make_session(path, threads=threads), x_np)
    # Latency with the default (all) graph optimizations, one warm-up run first.
    timed = make_session(path, threads=threads, optimize=True)
    first_output(timed, x_np)
    times = []
    for _ in range(ORT_TIMING_RUNS):
        t0 = time.perf_counter()
        first_output(timed, x_np)
        times.append((time.perf_counter() - t0) * 1e3)
    return logits, statistics.median(times)


# ---------------------------------------------------------------------------
# convlens


FORWARD_MS = re.compile(r"forward\s+([0-9]+(?:\.[0-9]+)?)\s*ms")


def run_convlens(convlens: str, model_path: Path, x_path: Path, backend: str,
                 grad_class: int, work: Path, timeout: float):
    """Returns (logits, grad, forward_ms, wall_s, error)."""
    stem = f"{model_path.stem}_{backend}"
    out_path = work / f"{stem}_logits.npy"
    grad_path = work / f"{stem}_grad.npy"
    for p in (out_path, grad_path):
        if p.exists():
            p.unlink()
    cmd = [convlens, "forward", str(model_path), "--input", str(x_path),
           "--backend", backend, "--save-npy", str(out_path),
           "--save-input-gradient", str(grad_path),
           "--gradient-class", str(grad_class)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, None, time.perf_counter() - t0, f"timed out after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        msg = one_line(proc.stderr) or one_line(proc.stdout) or "(no message)"
        return None, None, None, wall, f"exit {proc.returncode}: {msg}"
    m = FORWARD_MS.search(proc.stdout)
    fwd_ms = float(m.group(1)) if m else None
    if not out_path.exists() or not grad_path.exists():
        return None, None, fwd_ms, wall, "exit 0 but --save-npy / --save-input-gradient file missing"
    return np.load(out_path), np.load(grad_path), fwd_ms, wall, None


def convlens_device(convlens: str) -> str:
    try:
        proc = subprocess.run([convlens, "devices"], capture_output=True, text=True, timeout=120)
    except Exception as e:  # noqa: BLE001
        return f"(convlens devices failed: {e})"
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or not lines:
        return f"(convlens devices failed: {one_line(proc.stderr)})"
    first = re.sub(r"^\[\d+\]\s*", "", lines[0].strip())
    extra = {}
    for l in lines[1:]:
        m = re.match(r"\s+(platform|OpenCL C|compute units)\s{2,}(.*)", l)
        if m:
            extra.setdefault(m.group(1), m.group(2).strip())
    detail = ", ".join(f"{k}: {v}" for k, v in extra.items())
    return f"{first} ({detail})" if detail else first


def binary_identity(convlens: str) -> str:
    """Modification time and SHA-256 of the convlens executable, so a report names the exact build."""
    import hashlib

    path = Path(shutil.which(convlens) or convlens)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        mtime = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
        return f"built {mtime:%Y-%m-%d %H:%M:%S} UTC, sha256 {digest[:16]}…"
    except OSError as e:
        return f"(unreadable: {e})"


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for l in out.splitlines():
            if l.startswith("Model name:"):
                return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ---------------------------------------------------------------------------
# exported-graph facts (for the report and for diagnosing convlens errors)


def op_counts(model_path: Path) -> str:
    import onnx

    counts: dict[str, int] = {}
    for n in onnx.load(str(model_path)).graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return ", ".join(f"{op} {k}" for op, k in sorted(counts.items(), key=lambda kv: -kv[1]))


def diagnose(model_path: Path, err: str) -> str:
    """Says where each quoted name in a convlens error comes from in the exported graph."""
    import onnx
    from convlens_tools.onnx_graph import attributes, producers

    try:
        g = onnx.load(str(model_path)).graph
    except Exception:  # noqa: BLE001
        return ""
    inits = {i.name: list(i.dims) for i in g.initializer}
    makers = producers(g)
    by_name = {n.name: n for n in g.node}

    def origin(value: str) -> str:
        if value in inits:
            return f"initializer {inits[value]}"
        if value in makers:
            return f"output of {makers[value].op_type} '{makers[value].name}'"
        return "graph input" if any(i.name == value for i in g.input) else "unknown"

    facts = []
    for name in dict.fromkeys(re.findall(r"'([^']+)'", err)):
        if name in by_name:
            n = by_name[name]
            attrs = ", ".join(f"{key}={value}" for key, value in attributes(n).items())
            ins = "; ".join(f"input {k} '{i}': {origin(i)}" for k, i in enumerate(n.input))
            facts.append(f"node '{name}' is {n.op_type}({attrs}) with {ins}")
        elif name in makers:
            n = makers[name]
            ins = "; ".join(f"'{i}' ({origin(i)})" for i in n.input)
            same = [m for m in g.node if m.op_type == n.op_type and m.input and m.input[0] in inits]
            extra = (f"; the graph has {len(same)} {n.op_type} nodes that just forward an initializer"
                     if n.op_type == "Identity" and same else "")
            facts.append(f"'{name}' is the output of {n.op_type} node '{n.name}' on {ins}{extra}")
    return ". ".join(facts)


# ---------------------------------------------------------------------------
# report


HEADERS = ["model", "opset", "backend", "seed", "logits rel L2", "logits max abs",
           "gradient rel L2", "gradient max abs", "ref gradient f32 vs f64 (torch / graph)", "top-1 agrees",
           "convlens forward ms", "convlens wall s", "onnxruntime ms", "result"]


def short_e(v: float) -> str:
    """1e-05 -> 1e-5."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{v:.0e}").replace("e+", "e")


def fmt_e(v):
    return "-" if v is None else f"{v:.2e}"


def row_cells(r: Row) -> list[str]:
    refs = "".join(f" [{n}]" for n in r.note_refs)
    result = ("pass" if r.passed else ("error" if r.error else "FAIL")) + refs
    if r.seed is None:
        seed = "-"
    else:
        if r.conditioned:
            seed = str(r.seed)
        elif r.flipping_draws is not None:
            seed = f"{r.seed} ({r.flipping_draws}/{NOISE_DRAWS} draws flip)"
        else:
            seed = f"none ({r.seed})"
    gap = "-" if r.gap_torch is None else f"{fmt_e(r.gap_torch)} / {fmt_e(r.gap_graph)}"
    return [
        r.model, str(r.opset), r.backend, seed,
        fmt_e(r.logits_rel), fmt_e(r.logits_max), fmt_e(r.grad_rel), fmt_e(r.grad_max), gap,
        "-" if r.top1_agrees is None else ("yes" if r.top1_agrees else "NO"),
        "-" if r.forward_ms is None else f"{r.forward_ms:.1f}",
        "-" if r.wall_s is None else f"{r.wall_s:.1f}",
        "-" if r.ort_ms is None else f"{r.ort_ms:.1f}",
        result,
    ]


def markdown_table(rows: list[Row]) -> str:
    right = {1, 3, 4, 5, 6, 7, 8, 10, 11, 12}
    out = ["| " + " | ".join(HEADERS) + " |",
           "| " + " | ".join("---:" if i in right else "---" for i in range(len(HEADERS))) + " |"]
    for r in rows:
        out.append("| " + " | ".join(row_cells(r)) + " |")
    return "\n".join(out)


def text_table(rows: list[Row]) -> str:
    cells = [HEADERS] + [row_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(HEADERS))).rstrip() for c in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def note_text(n: dict, markdown: bool = True) -> str:
    q = "`" if markdown else ""
    backends = " and ".join(f"{q}--backend {b}{q}" for b in n["backends"])
    where = f"{n['model']} opset {n['opset']}" + (f", {backends}" if backends else "")
    if n.get("plain"):
        q = ""
    text = f"{where}: {q}{n['error']}{q}"
    if n.get("diagnosis"):
        text += f". Graph: {n['diagnosis']}."
    return text


def write_report(path: Path, rows, notes, ref_notes, env, command, total_s) -> None:
    n_pass = sum(r.passed for r in rows)
    n_fail = len(rows) - n_pass
    md = [
        "# ConvLens conformance report",
        "",
        f"- Date: {env['date']}",
        f"- Machine: {env['cpu']}, {env['cores']} cores, {env['os']}",
        f"- OpenCL device: {env['device']}",
        f"- convlens: `{env['convlens']}` ({env['convlens_id']})",
        f"- Python {env['python']}; torch {env['torch']}, torchvision {env['torchvision']}, "
        f"onnx {env['onnx']}, onnxruntime {env['onnxruntime']}, numpy {env['numpy']}",
        f"- Command (from the repository root): `{command}`",
        f"- Input: per model, one 1×3×224×224 float32 standard-normal tensor (numpy `default_rng(seed)`), "
        f"seed chosen by the rule under *How to read* (the *seed* column); models built with `weights=None` after "
        f"`torch.manual_seed({SEED})`, eval mode.",
        f"- Total run time: {total_s / 60:.1f} min; 1-minute load average {env['load_start']} at the start, "
        f"{load_average()} at the end (above the core count means something else was competing for the CPU, "
        f"and the timings are inflated)",
        "",
        f"**{n_pass} of {len(rows)} runs passed, {n_fail} failed** (tolerance: rel L2 ≤ {TOLERANCE:.0e} for logits and for the input gradient).",
        "",
        markdown_table(rows),
        "",
        "## How to read",
        "",
        "Each row is one `convlens forward MODEL --input x.npy --backend B --save-npy … "
        "--save-input-gradient … --gradient-class c` call. *logits rel L2* is ‖convlens − onnxruntime‖ / "
        "‖onnxruntime‖ over the 1000 logits (onnxruntime on the CPU execution provider, graph optimizations off); "
        "*gradient rel L2* is the same measure for d logits[0, c] / d input against PyTorch float32 autograd, "
        "where c is PyTorch's top-1 class (passed to convlens so both differentiate the same score). "
        "*max abs* columns are the largest absolute element differences. *top-1 agrees* compares convlens's "
        "arg-max class with onnxruntime's. "
        "Both are measured on one input per model, chosen by a fixed rule: ReLU, Clip and max-pool gradients "
        "jump at their kinks, so for an input that puts one unit within float32 rounding of a kink the reference "
        "gradient itself moves by ~1e-3 between float32 and float64, and no float32 implementation can be held to "
        "1e-4 on it. The script therefore tries seeds 0, 1, 2, … (at most "
        f"{MAX_SEEDS}) and uses the first whose reference gradient moves by at most {short_e(WELL_CONDITIONED)} (rel L2) "
        "between float32 and float64, both for the torch model and for the exported ONNX graph evaluated in torch "
        "(the graph convlens runs, with BatchNorm folded), and for that graph in float64 with Gaussian noise as large "
        "as each summing op's own float32 rounding added to its output (two draws; a stand-in for another float32 "
        "implementation, which sums in another order: the first two checks only catch the kinks and max-pool near "
        "ties that torch's own float32 resolves wrongly). *seed* is that seed and *ref "
        f"gradient f32 vs f64* the two gaps. {short_e(WELL_CONDITIONED)} is ten times below the tolerance, which stays "
        "1e-4, and about ten times above plain float32 rounding noise (0.3–1.3e-6 here without any flipped unit); the "
        "rejected seeds and why are listed under *References*. If no seed passes all three but some pass the first "
        "two, the one whose gradient moves in the fewest draws is used and *seed* reads *s (k/8 draws flip)*: torch's "
        "float32 gradient is right there, so the row is judged at the tolerance, but convlens may land on the other "
        "side of a kink with about that chance. If no seed passes even the first two, *seed* reads *none (s)*: the "
        "rows fail, and convlens was run on the least ill-conditioned seed s. "
        "A row passes when both rel L2 errors are ≤ 1e-4; *FAIL* means convlens ran but "
        "an error exceeded that (or no well-conditioned input was found); *error* means convlens exited non-zero "
        "(message in the notes). *convlens forward ms* is the forward time convlens "
        "itself prints; *convlens wall s* is the wall time of the whole process (model load, kernel build, "
        "forward and backward, writing the .npy files); *onnxruntime ms* is the median of 5 single-sample "
        "runs after a warm-up, with onnxruntime's default graph optimizations and one thread per core. "
        "The weights are random (nothing is downloaded), so the classes mean nothing: these numbers check "
        "arithmetic, not accuracy. Rel L2 is scale-free, but look at the logits and gradient sizes under "
        "*References*: with random init some networks (MobileNetV2 in particular, whose depthwise convolutions "
        "shrink the signal under kaiming fan-out init) produce very small logits.",
        "",
    ]
    if notes:
        md += ["## Notes", "", "Errors in code type are convlens's own one-line message (stderr), verbatim, or "
               "the exception that stopped the export or a reference; the *graph* part is this script's reading of "
               "the exported ONNX file. Plain-text notes are this script's own findings.", ""]
        md += [f"{i}. {note_text(n)}" for i, n in enumerate(notes, 1)]
        md.append("")
    if ref_notes:
        md += ["## References and exported graphs", "",
               "The input seed used and the seeds rejected before it, each with the float32-vs-float64 gap of the "
               "reference gradient that rejected it (*torch*: the torch model; *graph*: the exported graph; the "
               "reference's own rounding noise: ReLU, Clip and max-pool gradients are discontinuous, so a unit whose "
               "input sits within rounding of a kink or tie can flip between float32 and float64 and move the whole "
               "input gradient), the gaps for the chosen seed, how far the exported graph's float64 gradient is from "
               "the torch model's (the graph is the same function up to BatchNorm folding), onnxruntime logits "
               "against PyTorch's (both float32), the class whose gradient is compared, the sizes of the reference "
               "logits and gradient, and the op types in each exported graph.", ""]
        md += [f"- {n}" for n in ref_notes]
        md.append("")
    path.write_text("\n".join(md))


# ---------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convlens", default=".build/release/convlens",
                    help="convlens executable (default: .build/release/convlens)")
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated model keys (default: all): " + ", ".join(MODELS))
    ap.add_argument("--report", default=str(REPO_ROOT / "CONFORMANCE.md"),
                    help="where to write the Markdown report (default: CONFORMANCE.md at the repo root)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per convlens call (default 900)")
    ap.add_argument("--keep", metavar="DIR", help="keep models, input and outputs in DIR")
    args = ap.parse_args()

    convlens = args.convlens
    if os.sep in convlens:
        convlens = str(Path(convlens).resolve())
    if not (shutil.which(convlens) or Path(convlens).is_file()):
        log(f"error: convlens executable not found: {args.convlens} (build it with `swift build -c release` "
            f"or pass --convlens PATH)")
        return 2
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        log(f"error: unknown model key(s): {', '.join(unknown)}; known: {', '.join(MODELS)}")
        return 2

    import onnx
    import onnxruntime
    import torch
    import torchvision
    from convlens_tools.models import torchvision_model
    from convlens_tools.onnx_export import export_onnx

    torch.set_num_threads(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    t_start = time.perf_counter()
    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "device": convlens_device(convlens),
        "convlens": args.convlens,
        "convlens_id": binary_identity(convlens),
        "load_start": load_average(),
        "python": platform.python_version(),
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__,
    }
    command = shlex.join([sys.executable, *sys.argv])

    if args.keep:
        work = Path(args.keep).resolve()
        work.mkdir(parents=True, exist_ok=True)
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="convlens-conformance-")
        work = Path(tmp.name)

    rows: list[Row] = []
    notes: list[dict] = []
    ref_notes: list[str] = []

    def add_note(row: Row, error: str, model_path: Path | None = None, backend: str | None = None,
                 plain: bool = False) -> None:
        for i, n in enumerate(notes, 1):
            if (n["model"], n["opset"], n["error"]) == (row.model, row.opset, error):
                if backend:
                    n["backends"].append(backend)
                row.note_refs.append(i)
                return
        diagnosis = diagnose(model_path, error) if model_path is not None and model_path.exists() else ""
        notes.append({"model": row.model, "opset": row.opset, "error": error,
                      "backends": [backend] if backend else [], "diagnosis": diagnosis, "plain": plain})
        row.note_refs.append(len(notes))

    try:
        for key, opset in [c for c in CASES if c[0] in keys]:
            name = MODELS[key][0]
            log(f"== {name} (opset {opset})")
            model = torchvision_model(MODELS[key][1], SEED)
            model_path = work / f"{key}_opset{opset}.onnx"
            try:
                # The exported graph does not depend on the example input's values.
                export_onnx(model, torch.from_numpy(make_input(0)), str(model_path), opset)
                ch = choose_input(model, model_path)
                x_np, t_logits, t_grad, c = ch.x, ch.t_logits, ch.t_grad, ch.c
                x_path = work / f"{key}_opset{opset}_input_seed{ch.used_seed}.npy"
                np.save(x_path, x_np)
                o_logits, ort_ms = ort_reference(model_path, x_np)
            except Exception as e:  # noqa: BLE001
                msg = one_line(f"{type(e).__name__}: {e}")
                log(f"   reference failed: {msg}")
                for b in BACKENDS:
                    r = Row(name, opset, b, error=f"reference failed: {msg}")
                    add_note(r, f"export/reference failed: {msg}")
                    rows.append(r)
                continue
            del model
            ref_rel = rel_l2(o_logits, t_logits)
            ort_top1 = int(o_logits[0].argmax())
            gap_g = "-" if ch.gap_graph is None else f"{ch.gap_graph:.2e}"
            if ch.seed is None and ch.flipping_draws is not None:
                chosen = (f"no input among seeds 0–{MAX_SEEDS - 1} passes all three checks; compared on seed "
                          f"{ch.used_seed}, which passes (a) and (b) and whose gradient moves under simulated rounding "
                          f"in {ch.flipping_draws} of {NOISE_DRAWS} draws, the fewest")
            elif ch.seed is None:
                chosen = (f"no well-conditioned input among seeds 0–{MAX_SEEDS - 1}; compared on seed {ch.used_seed}, "
                          f"the least ill-conditioned")
            else:
                chosen = f"input seed {ch.seed}"
            rejected = ", ".join(f"{s} ({reason})" for s, reason in ch.rejected)
            chosen += f" (rejected: {rejected})" if rejected else ""
            ref_notes.append(
                f"{name} opset {opset}: {chosen}; gradient float32 vs float64 rel L2: torch model {ch.gap_torch:.2e}, "
                f"exported graph {gap_g}"
                + ("" if ch.graph_vs_torch is None else
                   f"; exported graph vs torch model gradient (float64) rel L2 {ch.graph_vs_torch:.2e}")
                + ("" if ch.gap_noise is None else
                   f"; exported graph float64 gradient under simulated float32 rounding rel L2 {ch.gap_noise:.2e}")
                + f"; onnxruntime vs torch logits rel L2 {ref_rel:.2e}, max abs {max_abs(o_logits, t_logits):.2e}; "
                f"top-1 torch {c}, onnxruntime {ort_top1}; gradient class {c}; "
                f"‖logits‖ {np.linalg.norm(o_logits):.3g}, ‖gradient‖ {np.linalg.norm(t_grad):.3g}; "
                f"graph: {op_counts(model_path)}")
            log(f"   references ready: {chosen}; torch top-1 {c}, ort top-1 {ort_top1}, ort vs torch rel L2 "
                f"{ref_rel:.2e}, ort {ort_ms:.1f} ms")

            for b in BACKENDS:
                r = Row(name, opset, b, ort_ms=ort_ms, seed=ch.used_seed, conditioned=ch.seed is not None,
                        gap_torch=ch.gap_torch, gap_graph=ch.gap_graph, flipping_draws=ch.flipping_draws)
                if ch.flipping_draws is not None:
                    add_note(r, f"no input among seeds 0–{MAX_SEEDS - 1} passes rule (c): on every one that passes "
                                f"(a) and (b), some draw of simulated float32 rounding flips a ReLU or max-pool unit "
                                f"and moves the float64 gradient by more than {short_e(WELL_CONDITIONED)}. Seed "
                                f"{ch.used_seed} is the best found ({ch.flipping_draws} of {NOISE_DRAWS} draws move "
                                f"it): torch's own float32 gradient is within {short_e(WELL_CONDITIONED)} of float64 "
                                f"there, so the comparison is made and judged at the tolerance, but another float32 "
                                f"implementation (convlens) lands on the other side of such a kink with about that "
                                f"chance", plain=True)
                elif ch.seed is None:
                    add_note(r, f"no well-conditioned input found: for each of seeds 0–{MAX_SEEDS - 1} the reference "
                                f"gradient moves by more than {short_e(WELL_CONDITIONED)} (rel L2) between float32 and "
                                f"float64; convlens was run on seed {ch.used_seed}, the least ill-conditioned, so the "
                                f"logits are still compared, but the row counts as failed", plain=True)
                logits, grad, fwd_ms, wall, err = run_convlens(
                    convlens, model_path, x_path, b, c, work, args.timeout)
                r.forward_ms, r.wall_s = fwd_ms, wall
                if err is None and logits.shape != o_logits.shape:
                    err = f"logits shape {logits.shape}, expected {o_logits.shape}"
                if err is None and grad.shape != t_grad.shape:
                    err = f"gradient shape {grad.shape}, expected {t_grad.shape}"
                if err is not None:
                    r.error = err
                    add_note(r, err, model_path, b)
                    log(f"   {b}: ERROR {err} ({wall:.1f} s)")
                else:
                    r.logits_rel = rel_l2(logits, o_logits)
                    r.logits_max = max_abs(logits, o_logits)
                    r.grad_rel = rel_l2(grad, t_grad)
                    r.grad_max = max_abs(grad, t_grad)
                    r.top1_agrees = int(logits[0].argmax()) == ort_top1
                    judged = r.conditioned or r.flipping_draws is not None
                    r.passed = judged and r.logits_rel <= TOLERANCE and r.grad_rel <= TOLERANCE
                    log(f"   {b}: logits rel L2 {r.logits_rel:.2e}, gradient rel L2 {r.grad_rel:.2e}, "
                        f"forward {fwd_ms} ms, wall {wall:.1f} s -> {'pass' if r.passed else 'FAIL'}")
                rows.append(r)
    finally:
        if tmp is not None:
            tmp.cleanup()

    total_s = time.perf_counter() - t_start
    report = Path(args.report)
    write_report(report, rows, notes, ref_notes, env, command, total_s)

    print(text_table(rows))
    if notes:
        print()
        for i, n in enumerate(notes, 1):
            print(f"[{i}] {note_text(n, markdown=False)}")
    n_pass = sum(r.passed for r in rows)
    print()
    print(f"{n_pass} of {len(rows)} runs passed, {len(rows) - n_pass} failed; total {total_s / 60:.1f} min; report: {report}")
    return 0 if n_pass == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
