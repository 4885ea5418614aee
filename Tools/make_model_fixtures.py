#!/usr/bin/env python3
"""Generate small ONNX model fixtures for the ConvLens ModelGraph tests.

What it makes
-------------
Two tiny CNNs with fixed-seed random weights are built in PyTorch, exported to
ONNX (opset 17, TorchScript exporter, constant folding on) and written, with
reference numbers, to ``Tests/ModelGraphTests/Fixtures/<name>/`` (relative to
the repository root, found from this file's location):

``model.onnx``
    the exported model; every weight is an initializer stored as raw_data
    inside the file (no external data). Input ``input`` (N x 3 x H x W,
    batch axis symbolic ``batch``), output ``logits``. After export, nodes
    whose inputs are all constants (the exporter's ``Constant`` nodes for
    Clip's min/max and Reshape's shape, and its unfolded subgraph computing
    Pad's ``pads``) are evaluated here and replaced by initializers, so the
    graph holds only ops the ConvLens importer supports.
``input.npy``
    float32 ('<f4', C order) N x C x H x W input with N = 2, seeded standard
    normal (numpy ``default_rng``).
``logits.npy``
    onnxruntime's output (CPU, one thread, graph optimizations off) for
    ``input.npy``; checked against PyTorch's own output (rel L2 < 1e-5).
``input_grad.npy``
    float32, same shape as the input: for each sample i the gradient of
    ``output[i, c_i]`` with respect to the input, where c_i is that sample's
    top-1 class; one autograd backward of ``sum_i output[i, c_i]`` through
    the PyTorch model in eval mode.
``fixture.json``
    ``{"name", "grad_classes", "ops" (sorted ONNX op types), "opset",
    "generator", "torch_version", "onnxruntime_version", "description"}``.

Models
------
``residual_bn`` (input 2 x 3 x 20 x 18)
    conv3x3 + BN + ReLU, a residual block (conv-BN-ReLU-conv-BN + identity
    skip, Add, ReLU), a BatchNormalization that follows a ReLU (so it cannot
    be folded into a conv and stays a BatchNormalization node), LeakyReLU(0.1),
    AveragePool 3x3/2 pad 1 count_include_pad=0 ceil_mode=1, a SiLU-like gate
    ``x * sigmoid(x)`` (Sigmoid + Mul), Dropout (vanishes in eval export),
    GlobalAveragePool, Flatten and a Gemm to 5 classes (its weight scaled x6
    to spread the logits). The convs' own BNs
    are folded into the Conv weights by the exporter.
``concat_grouped`` (input 2 x 3 x 20 x 19)
    conv3x3 + ReLU, MaxPool 3x3/2 ceil_mode=1 (the 20-row map gives 10 rows
    where floor mode would give 9; an odd height such as 21 would make ceil
    mode a no-op), a grouped conv (groups=2) and a dilated conv (dilation 2)
    concatenated on channels, a depthwise conv (weights scaled so that
    ReLU6's clamp at 6 is hit), ReLU6 (Clip 0..6), constant zero Pad
    (1, 2, 0, 1) (left, right, top, bottom), conv1x1, AveragePool 2x2/2
    pad 1 count_include_pad=1, ReLU (without it pad -> conv1x1 -> avgpool
    -> global average is one position-blind linear sum, and a misplaced pad
    would not show), GlobalAveragePool, Reshape to (-1, 12) with a constant
    shape initializer, MatMul with a 12 x 6 weight, Add of a bias and
    Softmax(axis=1); its "logits" are probabilities.

The script asserts that every op is in the set the ConvLens importer supports
and that each feature above is really present in the exported graph
(attributes, shapes), and that breaking it on purpose (flipping ceil_mode or
count_include_pad, reordering Pad's pads, dropping the BatchNormalization, ...)
changes onnxruntime's output clearly. It prints the node list and the
figures of every check. Model and input seeds were chosen so that the two
samples of each fixture have different top-1 classes.

How to run
----------
From anywhere::

    /path/to/venv/bin/python Tools/make_model_fixtures.py

Dependencies from PyPI: ``torch`` (CPU build is enough; it must still offer the
TorchScript exporter, ``torch.onnx.export(..., dynamo=False)``), ``onnx``,
``onnxruntime`` and ``numpy`` (``onnxscript`` is not needed by this script).
It is never run by the build or the tests; rerun it by hand only when the
fixtures need to change, and commit what it writes. The output is
deterministic: running it twice with the same package versions gives
byte-identical files.
"""

import hashlib
import io
import json
import math
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import onnx.shape_inference
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

from convlens_tools.determinism import make_deterministic
from convlens_tools.fixtures import FixtureFolder
from convlens_tools.metrics import rel_l2
from convlens_tools.models import randomize_bn
from convlens_tools.onnx_export import SHAPE_OPS, SUPPORTED_OPS, export_onnx, fold_constants
from convlens_tools.onnx_graph import attributes, initializers, producers
from convlens_tools.onnxruntime_eval import evaluate

GENERATOR = "Tools/make_model_fixtures.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "ModelGraphTests", "Fixtures")
OPSET = 17
BATCH = 2

make_deterministic(threads=1)
torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

class ResidualBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.block_conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.block_bn1 = nn.BatchNorm2d(8)
        self.block_conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.block_bn2 = nn.BatchNorm2d(8)
        self.post_bn = nn.BatchNorm2d(8)  # follows a ReLU: not foldable into a conv
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.block_bn1(self.block_conv1(x)))
        y = self.block_bn2(self.block_conv2(y))
        x = F.relu(x + y)
        x = self.post_bn(x)
        x = F.leaky_relu(x, 0.1)
        x = self.pool(x)
        x = x * torch.sigmoid(x)
        x = self.dropout(x)
        x = F.adaptive_avg_pool2d(x, 1)
        x = torch.flatten(x, 1)
        return self.fc(x)


class ConcatGrouped(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=1, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.grouped = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.dilated = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.pointwise = nn.Conv2d(16, 12, 1)
        self.avg = nn.AvgPool2d(2, stride=2, padding=1, count_include_pad=True)
        self.w = nn.Parameter(4.0 * torch.randn(12, 6))  # large: spread the probabilities
        self.b = nn.Parameter(0.1 * torch.randn(6))

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool(x)
        x = torch.cat([self.grouped(x), self.dilated(x)], dim=1)
        x = F.relu6(self.depthwise(x))
        x = F.pad(x, (1, 2, 0, 1))  # left 1, right 2, top 0, bottom 1; zeros
        x = self.pointwise(x)
        x = self.avg(x)
        # Not in the original plan: pad -> conv1x1 -> avgpool(k = s = 2) -> global average
        # is one linear, position-blind sum, so a misplaced Pad (or wrong pads order)
        # would not change the output at all. A ReLU on the 2x2 window means makes
        # the window grouping, and so the pad placement, matter.
        x = F.relu(x)
        x = F.adaptive_avg_pool2d(x, 1)
        x = x.reshape(-1, 12)
        x = x @ self.w + self.b
        return torch.softmax(x, dim=1)


class DynamicSameConv(nn.Conv2d):
    """A convolution with TensorFlow's "SAME" padding computed from the input's size at every call, as the
    EfficientNet ports do: the TorchScript exporter writes it as a Shape/Gather/Div/Cast/Sub/Concat subgraph
    feeding Pad, which ConvLens must fold at load for the input size in use."""

    def forward(self, x):
        ih, iw = x.size()[-2:]
        kh, kw = self.weight.size()[-2:]
        sh, sw = self.stride
        oh, ow = math.ceil(ih / sh), math.ceil(iw / sw)
        pad_h = max((oh - 1) * sh + (kh - 1) * self.dilation[0] + 1 - ih, 0)
        pad_w = max((ow - 1) * sw + (kw - 1) * self.dilation[1] + 1 - iw, 0)
        x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class SamePadding(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = DynamicSameConv(3, 8, 3, stride=2)
        self.conv2 = DynamicSameConv(8, 8, 5, stride=2, groups=8)
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        x = F.relu6(self.conv1(x))
        x = F.relu6(self.conv2(x))
        return self.fc(x.view(x.size(0), -1))  # the batch read from the input's shape


# Seeds were picked (by a one-off search) so that the two samples of each
# fixture have different top-1 classes with a clear margin.
RESIDUAL_BN_SEED, RESIDUAL_BN_INPUT_SEED = 1037, 17
SAME_PADDING_SEED, SAME_PADDING_INPUT_SEED = 3001, 31
CONCAT_GROUPED_SEED, CONCAT_GROUPED_INPUT_SEED = 2010, 22


def build_residual_bn():
    torch.manual_seed(RESIDUAL_BN_SEED)
    m = ResidualBN()
    g = torch.Generator().manual_seed(RESIDUAL_BN_SEED + 1)
    for bn in (m.bn1, m.block_bn1, m.block_bn2, m.post_bn):
        randomize_bn(bn, g)
    with torch.no_grad():
        m.fc.weight.mul_(6.0)  # after global pooling the features vary little; spread the logits
    return m.eval()


def build_concat_grouped():
    torch.manual_seed(CONCAT_GROUPED_SEED)
    m = ConcatGrouped()
    with torch.no_grad():
        m.depthwise.weight.mul_(16.0)  # so that ReLU6's upper clamp at 6 is really hit
    return m.eval()


def build_same_padding():
    torch.manual_seed(SAME_PADDING_SEED)
    m = SamePadding()
    with torch.no_grad():
        m.conv2.weight.mul_(4.0)  # so that ReLU6's clamp at 6 is hit
        m.fc.weight.mul_(8.0)  # spread the logits
    return m.eval()


# ---------------------------------------------------------------------------
# Graph checks
# ---------------------------------------------------------------------------

def nodes_of(model, op):
    return [n for n in model.graph.node if n.op_type == op]


def value_shapes(model):
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]
    return shapes


def check_common(model, allowed=SUPPORTED_OPS):
    onnx.checker.check_model(model, full_check=True)
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [OPSET]
    ops = sorted({n.op_type for n in model.graph.node})
    bad = [op for op in ops if op not in allowed]
    assert not bad, "unsupported ops in export: %s" % bad
    for t in model.graph.initializer:
        assert t.data_location != onnx.TensorProto.EXTERNAL, t.name
        assert t.raw_data, "initializer %s has no raw_data" % t.name
    init_names = {t.name for t in model.graph.initializer}
    assert [i.name for i in model.graph.input if i.name not in init_names] == ["input"]
    assert [o.name for o in model.graph.output] == ["logits"]
    return ops


def check_residual_bn(model, shapes):
    inits, makers = initializers(model.graph), producers(model.graph)
    bns = nodes_of(model, "BatchNormalization")
    assert len(bns) == 1, "expected the conv BNs folded and one unfoldable BN"
    src = makers.get(bns[0].input[0])
    assert src is not None and src.op_type != "Conv", src
    assert len(nodes_of(model, "Conv")) == 3
    (add,) = nodes_of(model, "Add")
    assert {makers[v].op_type for v in add.input} == {"Relu", "Conv"}
    (lrelu,) = nodes_of(model, "LeakyRelu")
    assert abs(attributes(lrelu)["alpha"] - 0.1) < 1e-7
    (pool,) = nodes_of(model, "AveragePool")
    a = attributes(pool)
    assert a["kernel_shape"] == [3, 3] and a["strides"] == [2, 2] and a["pads"] == [1, 1, 1, 1], a
    assert a.get("ceil_mode", 0) == 1 and a.get("count_include_pad", 0) == 0, a
    # 20 x 18 with k3 s2 p1: floor mode gives 10 x 9, ceil mode 11 x 10.
    assert shapes[pool.output[0]][2:] == [11, 10], shapes[pool.output[0]]
    (sig,) = nodes_of(model, "Sigmoid")
    (mul,) = nodes_of(model, "Mul")
    assert sorted(mul.input) == sorted([sig.input[0], sig.output[0]])
    assert nodes_of(model, "GlobalAveragePool") and nodes_of(model, "Flatten")
    (gemm,) = nodes_of(model, "Gemm")
    assert inits[gemm.input[1]].shape == (5, 8)


def check_concat_grouped(model, shapes):
    inits = initializers(model.graph)
    convs = nodes_of(model, "Conv")
    groups = sorted(attributes(c).get("group", 1) for c in convs)
    assert groups == [1, 1, 1, 2, 16], groups
    assert any(attributes(c).get("dilations") == [2, 2] and attributes(c).get("pads") == [2, 2, 2, 2]
               for c in convs)
    (mp,) = nodes_of(model, "MaxPool")
    a = attributes(mp)
    assert a.get("ceil_mode", 0) == 1 and a.get("pads", [0, 0, 0, 0]) == [0, 0, 0, 0], a
    # 20 rows: floor((20-3)/2)+1 = 9, ceil gives 10; 19 columns: 9 either way.
    assert shapes[mp.input[0]][2:] == [20, 19] and shapes[mp.output[0]][2:] == [10, 9]
    (cat,) = nodes_of(model, "Concat")
    assert attributes(cat)["axis"] == 1 and len(cat.input) == 2
    (clip,) = nodes_of(model, "Clip")
    assert len(clip.input) == 3
    assert float(inits[clip.input[1]]) == 0.0
    assert float(inits[clip.input[2]]) == 6.0
    (pad,) = nodes_of(model, "Pad")
    assert attributes(pad).get("mode", b"constant") in (b"constant", "constant")
    # ONNX pads order: [x1_begin (N), x2_begin (C), x3_begin (H), x4_begin (W), ...ends].
    assert inits[pad.input[1]].tolist() == [0, 0, 0, 1, 0, 0, 1, 2]
    if len(pad.input) > 2 and pad.input[2]:
        assert float(inits[pad.input[2]]) == 0.0
    assert shapes[pad.output[0]][2:] == [11, 12], shapes[pad.output[0]]
    (avg,) = nodes_of(model, "AveragePool")
    a = attributes(avg)
    assert a["kernel_shape"] == [2, 2] and a["strides"] == [2, 2], a
    assert a.get("pads") == [1, 1, 1, 1] and a.get("count_include_pad", 0) == 1, a
    assert a.get("ceil_mode", 0) == 0
    assert shapes[avg.output[0]][2:] == [6, 7], shapes[avg.output[0]]
    relu_after = [n for n in nodes_of(model, "Relu") if n.input[0] == avg.output[0]]
    assert len(relu_after) == 1
    (rs,) = nodes_of(model, "Reshape")
    assert inits[rs.input[1]].tolist() == [-1, 12]
    (mm,) = nodes_of(model, "MatMul")
    assert inits[mm.input[1]].shape == (12, 6)
    (add,) = nodes_of(model, "Add")
    assert inits[[v for v in add.input if v != mm.output[0]][0]].shape == (6,)
    (sm,) = nodes_of(model, "Softmax")
    assert attributes(sm).get("axis") == 1


# ---------------------------------------------------------------------------
# Sensitivity: each tested feature must visibly change the logits
# ---------------------------------------------------------------------------

def set_attr(op, name, value, pick=0):
    def mutate(m):
        node = nodes_of(m, op)[pick]
        for a in node.attribute:
            if a.name == name:
                node.attribute.remove(a)
                break
        node.attribute.append(onnx.helper.make_attribute(name, value))
    return mutate


def set_init(name, fn):
    def mutate(m):
        for i, t in enumerate(m.graph.initializer):
            if t.name == name:
                m.graph.initializer[i].CopyFrom(
                    onnx.numpy_helper.from_array(fn(onnx.numpy_helper.to_array(t)), name))
                return
        raise AssertionError(name)
    return mutate


def bypass(op):
    """Remove the (single) node of this type, wiring its first input through."""
    def mutate(m):
        (node,) = nodes_of(m, op)
        src, dst = node.input[0], node.output[0]
        m.graph.node.remove(node)
        for n in m.graph.node:
            for i, v in enumerate(n.input):
                if v == dst:
                    n.input[i] = src
        del m.graph.value_info[:]
    return mutate


def check_same_padding(model, shapes):
    """The padding is computed from the input's shape, not constant: Shape feeds both Pads and the Reshape."""
    makers = producers(model.graph)

    def ancestors(value):
        seen, stack = set(), [value]
        while stack:
            node = makers.get(stack.pop())
            if node is not None and id(node) not in seen:
                seen.add(id(node))
                yield node
                stack.extend(node.input)

    pads = nodes_of(model, "Pad")
    assert len(pads) == 2
    for node in pads + nodes_of(model, "Reshape")[-1:]:
        assert any(n.op_type == "Shape" for n in ancestors(node.input[1])), node.name
    # (16 x 15 with k3 s2 pads rows (0, 1) and columns (1, 1); the 8 x 8 map with k5 s2 pads (1, 2) both ways.
    # onnx's shape inference cannot see computed pads; the mutation below shows they matter.)


def same_padding_mutations(model):
    def constant_pads(m):
        m.graph.initializer.append(onnx.numpy_helper.from_array(
            np.array([0, 0, 1, 1, 0, 0, 0, 0], dtype=np.int64), "constant_pads"))
        nodes_of(m, "Pad")[0].input[1] = "constant_pads"
    return [("first Pad's computed pads (0,1 rows, 1,1 columns) as (1,0), (1,1)", constant_pads)]


def residual_bn_mutations(model):
    bn = nodes_of(model, "BatchNormalization")[0]
    return [
        ("BatchNormalization removed", bypass("BatchNormalization")),
        ("BN running_var := 1", set_init(bn.input[4], lambda a: np.ones_like(a))),
        ("LeakyRelu alpha 0.1 -> 0", set_attr("LeakyRelu", "alpha", 0.0)),
        ("AveragePool count_include_pad 0 -> 1", set_attr("AveragePool", "count_include_pad", 1)),
        ("AveragePool ceil_mode 1 -> 0", set_attr("AveragePool", "ceil_mode", 0)),
        ("Gemm transB 1 -> 0 (weight transposed)", lambda m: (
            set_attr("Gemm", "transB", 0)(m),
            set_init("fc.weight", lambda a: a.reshape(a.shape[1], a.shape[0]))(m))),
    ]


def concat_grouped_mutations(model):
    pad = nodes_of(model, "Pad")[0]
    return [
        ("MaxPool ceil_mode 1 -> 0", set_attr("MaxPool", "ceil_mode", 0)),
        ("Pad pads in torch order [1,2,0,1] (W then H, begin/end pairs)",
         set_init(pad.input[1], lambda a: np.array([0, 0, 1, 2, 0, 0, 0, 1], dtype=np.int64))),
        ("Pad pads H/W swapped", set_init(pad.input[1],
                                          lambda a: np.array([0, 0, 1, 0, 0, 0, 2, 1], dtype=np.int64))),
        ("AveragePool count_include_pad 1 -> 0", set_attr("AveragePool", "count_include_pad", 0)),
        ("Clip max 6 -> 1e9", set_init(nodes_of(model, "Clip")[0].input[2],
                                      lambda a: np.array(1e9, dtype=np.float32))),
        ("Conv dilations 2 -> 1 (pads 1)", lambda m: (
            set_attr("Conv", "dilations", [1, 1], pick=2)(m), set_attr("Conv", "pads", [1, 1, 1, 1], pick=2)(m))),
        ("Concat inputs swapped", lambda m: nodes_of(m, "Concat")[0].input.reverse()),
    ]


def sensitivity(model_bytes, x, ref, mutations):
    """Rel L2 change of the logits under each mutation of the graph (all must be clear)."""
    rows = []
    for label, mutate in mutations:
        m = onnx.load_from_string(model_bytes)
        mutate(m)
        out = evaluate(m.SerializeToString(), x, quiet=True)  # mutated graphs may leave unused initializers
        change = rel_l2(out, ref)
        assert out.shape != ref.shape or change > 1e-3, (label, change)
        rows.append((label, change))
    return rows


# ---------------------------------------------------------------------------
# Fixture generation
# ---------------------------------------------------------------------------

def export(model, x):
    """The model exported at OPSET, as bytes."""
    buf = io.BytesIO()
    export_onnx(model, x, buf, OPSET)
    return buf.getvalue()


def make_fixture(name, build, hw, input_seed, check, mutations, description, fold=True):
    """`fold=False` keeps the exporter's shape computations in the file (ConvLens folds them itself)."""
    model = build()
    h, w = hw
    x_np = np.random.default_rng(input_seed).standard_normal((BATCH, 3, h, w)).astype(np.float32)
    x = torch.from_numpy(x_np.copy())

    model_bytes, folded = fold_constants(export(model, x), OPSET) if fold else (export(model, x), [])
    onnx_model = onnx.load_from_string(model_bytes)
    ops = check_common(onnx_model, SUPPORTED_OPS if fold else SUPPORTED_OPS | SHAPE_OPS)
    check(onnx_model, value_shapes(onnx_model))

    # Forward: torch vs onnxruntime (plain and with ORT's graph optimizations).
    with torch.no_grad():
        torch_out = model(x).numpy()
    ort_out = evaluate(model_bytes, x_np)
    assert ort_out.dtype == np.float32 and ort_out.shape == torch_out.shape
    err = rel_l2(ort_out, torch_out)
    opt_out = evaluate(model_bytes, x_np, optimize=True)
    err_opt = rel_l2(opt_out, torch_out)
    assert err < 1e-5 and err_opt < 1e-5, (err, err_opt)

    sens = sensitivity(model_bytes, x_np, ort_out, mutations(onnx_model))

    # Gradient of each sample's top-1 output w.r.t. the input.
    xg = x.clone().requires_grad_(True)
    out = model(xg)
    classes = out.detach().argmax(dim=1)
    out[torch.arange(BATCH), classes].sum().backward()
    grad = xg.grad.detach().numpy().astype(np.float32)
    grad_classes = [int(c) for c in classes]
    assert grad_classes == [int(c) for c in ort_out.argmax(axis=1)], "torch/ORT top-1 differ"
    srt = np.sort(ort_out, axis=1)
    margin = float((srt[:, -1] - srt[:, -2]).min())
    assert margin > 1e-3, "top-1 margin too small: %g" % margin
    assert len(set(grad_classes)) == BATCH, "samples share a top-1 class: %s" % grad_classes
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0

    # The float32 gradient against the same model in float64.
    m64 = build().double()
    x64 = torch.from_numpy(x_np.astype(np.float64)).requires_grad_(True)
    o64 = m64(x64)
    assert [int(c) for c in o64.detach().argmax(dim=1)] == grad_classes
    o64[torch.arange(BATCH), classes].sum().backward()
    grad_err64 = rel_l2(grad, x64.grad.numpy())
    out_err64 = rel_l2(ort_out, o64.detach().numpy())
    assert grad_err64 < 1e-5, grad_err64

    # Directional finite difference (float64 torch model) as a sanity check.
    rng = np.random.default_rng(input_seed + 7)
    d = torch.from_numpy(rng.standard_normal(x_np.shape))
    eps = 1e-6
    with torch.no_grad():
        def f(z):
            return m64(z)[torch.arange(BATCH), classes].sum().item()
        x0 = x64.detach()
        fd = (f(x0 + eps * d) - f(x0 - eps * d)) / (2 * eps)
    an = float((x64.grad * d).sum())
    fd_err = abs(fd - an) / max(abs(an), 1e-30)

    folder = FixtureFolder(os.path.join(FIXTURES, name))
    (folder.path / "model.onnx").write_bytes(model_bytes)
    folder.save("input", x_np)
    folder.save("logits", ort_out)
    folder.save("input_grad", grad)
    meta = {
        "name": name,
        "grad_classes": grad_classes,
        "ops": ops,
        "opset": OPSET,
        "generator": GENERATOR,
        "torch_version": torch.__version__,
        "onnxruntime_version": ort.__version__,
        "description": description,
    }
    folder.write_json("fixture.json", meta)

    # Report.
    print("== %s ==" % name)
    print("ops:", ", ".join(ops))
    inits = initializers(onnx_model.graph)
    for n in onnx_model.graph.node:
        ins = ", ".join(v + ("*" if v in inits else "") for v in n.input)
        a = attributes(n)
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in a.items()}
        print("  %-18s %-28s in=[%s] out=[%s] %s" % (n.op_type, n.name, ins, ", ".join(n.output),
                                                     json.dumps(a, default=str) if a else ""))
    print("  (* = initializer)")
    print("  folded after export: %s" % (", ".join("%s %s" % f for f in folded) or "nothing"))
    for t in onnx_model.graph.initializer:
        arr = inits[t.name]
        extra = " = %s" % arr.tolist() if arr.size <= 8 and arr.dtype != np.float32 or arr.ndim == 0 else ""
        print("  init %-28s %s %s%s" % (t.name, onnx.TensorProto.DataType.Name(t.data_type),
                                         list(arr.shape), extra))
    print("input %s -> logits %s, grad_classes %s" % (list(x_np.shape), list(ort_out.shape), grad_classes))
    print("rel L2 ORT(no opt) vs torch: %.3e   ORT(opt) vs torch: %.3e   ORT vs torch float64: %.3e"
          % (err, err_opt, out_err64))
    print("top-1 margin (min over batch): %.4g   |logits| max %.4g" % (margin, float(np.abs(ort_out).max())))
    print("grad rel L2 float32 vs float64: %.3e   directional FD rel err: %.3e   |grad| max %.4g"
          % (grad_err64, fd_err, float(np.abs(grad).max())))
    print("logits rel L2 change when the graph is broken on purpose:")
    for label, change in sens:
        print("  %-62s %.3e" % (label, change))
    for fn in ("model.onnx", "input.npy", "logits.npy", "input_grad.npy", "fixture.json"):
        data = (folder.path / fn).read_bytes()
        print("  %-15s %7d bytes  sha256 %s" % (fn, len(data), hashlib.sha256(data).hexdigest()[:16]))
    assert (folder.path / "model.onnx").stat().st_size < 100 * 1024
    print()


def main():
    print("torch %s, onnx %s, onnxruntime %s, numpy %s\n"
          % (torch.__version__, onnx.__version__, ort.__version__, np.__version__))
    make_fixture(
        "residual_bn", build_residual_bn, (20, 18), RESIDUAL_BN_INPUT_SEED,
        check_residual_bn, residual_bn_mutations,
        "conv3x3(3->8)+BN(folded into the Conv)+ReLU; residual block conv-BN-ReLU-conv-BN "
        "(BNs folded) + identity skip, Add, ReLU; unfoldable BatchNormalization after that "
        "ReLU; LeakyReLU(0.1); AveragePool 3x3/2 pad 1 ceil_mode=1 count_include_pad=0 "
        "(20x18 -> 11x10); x*sigmoid(x) (Sigmoid+Mul); Dropout (absent in the eval export); "
        "GlobalAveragePool; Flatten; Gemm (transB=1) to 5 classes (weights x6). "
        "Input 2x3x20x18.")
    make_fixture(
        "concat_grouped", build_concat_grouped, (20, 19), CONCAT_GROUPED_INPUT_SEED,
        check_concat_grouped, concat_grouped_mutations,
        "conv3x3(3->8, pad 1)+ReLU; MaxPool 3x3/2 ceil_mode=1 (20x19 -> 10x9, floor mode "
        "would give 9x9); grouped conv (groups=2) and dilated conv (dilation 2, pad 2) "
        "concatenated on channels (16); depthwise conv (groups=16, weights x16); ReLU6 as "
        "Clip(0, 6); constant zero Pad left 1 right 2 top 0 bottom 1 (-> 11x12); "
        "conv1x1 (16->12); AveragePool 2x2/2 pad 1 count_include_pad=1 (-> 6x7); ReLU; "
        "GlobalAveragePool; Reshape to (-1, 12) with a constant shape; MatMul with a 12x6 "
        "weight; Add bias; Softmax(axis=1), so logits.npy holds probabilities. "
        "Input 2x3x20x19.")
    make_fixture(
        "same_padding", build_same_padding, (16, 15), SAME_PADDING_INPUT_SEED,
        check_same_padding, same_padding_mutations,
        "TensorFlow 'SAME' padding computed from the input's size in forward (EfficientNet's dynamic same "
        "padding): conv3x3/2 (3->8) after a Pad of (0, 1) rows and (1, 1) columns for 16x15, ReLU6 (Clip); "
        "depthwise conv5x5/2 (groups 8, weights x4) after a Pad of (1, 2) both ways, ReLU6; "
        "x.view(x.size(0), -1) (the batch read from the shape) and a linear layer to 5 classes (weights x8). "
        "The exporter's shape subgraph (Shape, Gather, Div, Cast, Sub, Unsqueeze, Concat, ConstantOfShape, "
        "Slice, Transpose, Reshape) is kept, not folded. Input 2x3x16x15.", fold=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
