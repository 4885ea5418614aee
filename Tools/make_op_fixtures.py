#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for the ConvLens reference backend tests.

What it makes
-------------
Writes ``Tests/ReferenceBackendTests/Fixtures/torch_ops.json`` (relative to the
repository root, found from this file's location). For each case it records the
forward inputs of one CNN op (NCHW layout, float32), a seeded random
``grad_output`` of the output's shape, PyTorch's forward ``output`` and the
gradients autograd computes for ``output.backward(grad_output)``, i.e. the
gradients of ``sum(output * grad_output)``. The Swift tests compare the plain
Swift reference implementation against these numbers.

Ops covered: conv2d (stride, asymmetric padding, dilation, groups, depthwise,
no bias), max_pool2d (with argmax from ``return_indices=True`` and ceil_mode),
avg_pool2d (count_include_pad, ceil_mode), global_avg_pool2d, relu,
leaky_relu, clip (hardtanh), linear (also over the last axis of 3-D tokens), add,
concat along channels, matmul (batched, operands broadcast), permute,
slice (strided), standardize (F.layer_norm without affine: LayerNorm and
InstanceNorm rows) and reduce (sum, mean, amax with a tie).

File format::

    {"generator":"Tools/make_op_fixtures.py","torch_version":"...","cases":[
    {"name":...,"op":...,"params":{...},"tensors":{"<role>":{"shape":[...],"data":[...]},...}},
    ...
    ]}

One case per line. ``data`` is row-major (C order). Every number is a float32
value written as the shortest decimal that reads back to the identical float32,
whether the reader parses it straight to Float or to Double and then narrows to
Float (checked for every value; the full double repr is used otherwise).
Conv2d padding is recorded as [top, left, bottom, right]; pooling padding too
(symmetric there, as torch requires). max_pool2d ``argmax`` holds the flat index
h * W + w within the unpadded input plane, written as floats.

How to run
----------
From the repository root::

    /path/to/venv/bin/python Tools/make_op_fixtures.py

It needs ``torch`` and ``numpy`` from PyPI (CPU build is enough). It is never
run by the build or the tests; rerun it by hand only when the fixtures need to
change, and commit the JSON it writes. The output is deterministic: running it
twice gives byte-identical files on the same torch version.
"""

import json
import math
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from convlens_tools.determinism import make_deterministic
from convlens_tools.fixtures import write_text

GENERATOR = "Tools/make_op_fixtures.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_PATH = os.path.join(ROOT, "Tests", "ReferenceBackendTests", "Fixtures", "torch_ops.json")

make_deterministic(threads=1, seed=0)
torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def gen_for(name):
    """A per-case generator, so adding or reordering cases leaves others unchanged."""
    g = torch.Generator(device="cpu")
    g.manual_seed(zlib.crc32(name.encode("utf-8")))
    return g


def randn(g, *shape, scale=1.0):
    return (torch.randn(*shape, generator=g, dtype=torch.float32) * scale).to(torch.float32)


def nudge_from(x, kinks, eps=1e-3, step=1e-2):
    """Move values lying within eps of any kink to kink +/- step (keeping the side)."""
    x = x.clone()
    for k in kinks:
        d = x - k
        near = d.abs() < eps
        side = torch.where(d >= 0, torch.ones_like(d), -torch.ones_like(d))
        x = torch.where(near, torch.tensor(k, dtype=torch.float32) + side * step, x)
    for k in kinks:
        assert bool(((x - k).abs() >= eps).all()), "nudge failed"
    return x.to(torch.float32)


def fmt_float(v):
    """Shortest decimal for a float32 value that round-trips via Float and via Double."""
    f = np.float32(v)
    if not np.isfinite(f):
        raise ValueError("non-finite value in fixture: %r" % (f,))
    s = str(f)  # numpy: shortest repr that round-trips to the same float32
    if "e" in s and "." not in s.split("e")[0]:
        m, e = s.split("e")
        s = m + ".0e" + e
    bits = f.view(np.uint32)
    ok_direct = np.float32(s).view(np.uint32) == bits
    ok_double = np.float32(float(s)).view(np.uint32) == bits
    if not (ok_direct and ok_double):
        s = repr(float(f))  # exact double of the float32 value; always safe
        assert np.float32(float(s)).view(np.uint32) == bits
    json.loads(s)  # must be valid JSON
    return s


def tensor_json(t):
    a = t.detach().cpu()
    if a.dtype != torch.float32:
        a = a.to(torch.float64)  # indices: exact as float32 for these sizes
        assert bool((a.abs() < 2 ** 24).all())
    a = np.ascontiguousarray(a.numpy().astype(np.float32))
    shape = ",".join(str(int(d)) for d in a.shape)
    data = ",".join(fmt_float(v) for v in a.reshape(-1))
    return '{"shape":[%s],"data":[%s]}' % (shape, data)


def case_json(name, op, params, tensors):
    parts = [
        '"name":' + json.dumps(name),
        '"op":' + json.dumps(op),
        '"params":' + json.dumps(params, separators=(",", ":")),
    ]
    tparts = [json.dumps(role) + ":" + tensor_json(t) for role, t in tensors]
    parts.append('"tensors":{' + ",".join(tparts) + "}")
    return "{" + ",".join(parts) + "}"


CASES = []  # list of (name, op, params, [(role, tensor)])


def add_case(name, op, params, tensors):
    assert all(c[0] != name for c in CASES), "duplicate case name " + name
    for role, t in tensors:
        assert isinstance(t, torch.Tensor), (name, role)
        if t.dtype == torch.float32:
            assert bool(torch.isfinite(t).all()), (name, role)
    CASES.append((name, op, params, tensors))


def leaf(t):
    return t.detach().clone().to(torch.float32).requires_grad_(True)


def backward(out, g):
    grad_output = randn(g, *out.shape)
    out.backward(grad_output)
    return grad_output


# ---------------------------------------------------------------------------
# conv2d
# ---------------------------------------------------------------------------

def conv_case(name, n, cin, h, w, cout, kh, kw, stride=(1, 1), padding=(0, 0, 0, 0),
              dilation=(1, 1), groups=1, bias=True):
    g = gen_for(name)
    assert n * cin * h * w <= 1500, name
    fan_in = (cin // groups) * kh * kw
    x = leaf(randn(g, n, cin, h, w))
    wt = leaf(randn(g, cout, cin // groups, kh, kw, scale=1.0 / math.sqrt(fan_in)))
    b = leaf(randn(g, cout, scale=1.0 / math.sqrt(fan_in))) if bias else None
    top, left, bottom, right = padding
    if top == bottom and left == right:
        out = F.conv2d(x, wt, b, stride=tuple(stride), padding=(top, left),
                       dilation=tuple(dilation), groups=groups)
    else:
        xp = F.pad(x, (left, right, top, bottom))
        out = F.conv2d(xp, wt, b, stride=tuple(stride), padding=0,
                       dilation=tuple(dilation), groups=groups)
    grad_output = backward(out, g)
    params = {"stride": list(stride), "padding": list(padding),
              "dilation": list(dilation), "groups": groups}
    tensors = [("input", x), ("weight", wt)]
    if bias:
        tensors.append(("bias", b))
    tensors += [("grad_output", grad_output), ("output", out),
                ("grad_input", x.grad), ("grad_weight", wt.grad)]
    if bias:
        tensors.append(("grad_bias", b.grad))
    add_case(name, "conv2d", params, tensors)


conv_case("conv2d_k3_pad1_bias_batch2", 2, 3, 8, 8, 4, 3, 3, padding=(1, 1, 1, 1))
conv_case("conv2d_stride2_pad1", 1, 3, 13, 10, 4, 3, 3, stride=(2, 2), padding=(1, 1, 1, 1))
conv_case("conv2d_dilation2", 1, 2, 11, 9, 3, 3, 3, padding=(2, 2, 2, 2), dilation=(2, 2))
conv_case("conv2d_dilation2_stride2_nopad", 1, 2, 12, 11, 3, 3, 3, stride=(2, 2), dilation=(2, 2))
conv_case("conv2d_groups2", 1, 4, 7, 7, 6, 3, 3, padding=(1, 1, 1, 1), groups=2)
conv_case("conv2d_depthwise", 2, 4, 6, 7, 4, 3, 3, padding=(1, 1, 1, 1), groups=4)
conv_case("conv2d_depthwise_mult2", 1, 3, 7, 6, 6, 3, 3, padding=(1, 1, 1, 1), groups=3)
conv_case("conv2d_depthwise_stride2_pad1", 1, 4, 9, 8, 4, 3, 3, stride=(2, 2),
          padding=(1, 1, 1, 1), groups=4)
conv_case("conv2d_1x1_batch3", 3, 5, 5, 6, 4, 1, 1)
conv_case("conv2d_k7_stride2_pad3", 1, 3, 17, 15, 4, 7, 7, stride=(2, 2), padding=(3, 3, 3, 3))
conv_case("conv2d_asym_pad_k3x2_stride2x1", 1, 2, 9, 7, 3, 3, 2, stride=(2, 1),
          padding=(1, 0, 2, 1))
conv_case("conv2d_k1x5_nobias_pad0_2", 2, 3, 5, 8, 2, 1, 5, padding=(0, 2, 0, 2), bias=False)


# ---------------------------------------------------------------------------
# max_pool2d
# ---------------------------------------------------------------------------

def max_pool_case(name, n, c, h, w, kernel, stride, pad=(0, 0), dilation=(1, 1), ceil_mode=False):
    g = gen_for(name)
    x = leaf(randn(g, n, c, h, w))
    out, idx = F.max_pool2d(x, kernel_size=tuple(kernel), stride=tuple(stride),
                            padding=tuple(pad), dilation=tuple(dilation),
                            ceil_mode=ceil_mode, return_indices=True)
    grad_output = backward(out, g)
    params = {"kernel": list(kernel), "stride": list(stride),
              "padding": [pad[0], pad[1], pad[0], pad[1]],
              "dilation": list(dilation), "ceil_mode": ceil_mode}
    add_case(name, "max_pool2d", params,
             [("input", x), ("grad_output", grad_output), ("output", out),
              ("argmax", idx), ("grad_input", x.grad)])


max_pool_case("max_pool2d_k2_s2", 2, 3, 8, 6, (2, 2), (2, 2))
# W=8: ceil adds a last column window starting at padded col 7 (input col 6),
# covering input col 6, 7 and the right pad; H=11 has no ceil effect.
max_pool_case("max_pool2d_k3_s2_pad1_ceil_11x8", 1, 3, 11, 8, (3, 3), (2, 2), pad=(1, 1),
              ceil_mode=True)
# SqueezeNet style: (13-3)/2 is exact, so ceil_mode changes nothing here.
max_pool_case("max_pool2d_k3_s2_ceil_13x13", 1, 2, 13, 13, (3, 3), (2, 2), ceil_mode=True)
# ceil_mode matters: 14 -> 7 rows (floor would give 6), 12 -> 6 cols (floor 5);
# the last windows run past the input edge and are clipped.
max_pool_case("max_pool2d_k3_s2_ceil_14x12", 1, 2, 14, 12, (3, 3), (2, 2), ceil_mode=True)
# ceil_mode with the "last window must start inside input or left pad" rule:
# H=W=5, k=2, s=2, p=1: ceil formula gives 4, but window 3 would start at
# padded index 6 >= H + p = 6, so torch drops it: output 3x3.
max_pool_case("max_pool2d_k2_s2_pad1_ceil_dropped_window", 1, 2, 5, 5, (2, 2), (2, 2),
              pad=(1, 1), ceil_mode=True)
max_pool_case("max_pool2d_k3_s1_pad1_dil2", 1, 3, 7, 8, (3, 3), (1, 1), pad=(1, 1),
              dilation=(2, 2))


# ---------------------------------------------------------------------------
# avg_pool2d
# ---------------------------------------------------------------------------

def avg_pool_case(name, n, c, h, w, kernel, stride, pad=(0, 0), ceil_mode=False,
                  count_include_pad=True):
    g = gen_for(name)
    x = leaf(randn(g, n, c, h, w))
    out = F.avg_pool2d(x, kernel_size=tuple(kernel), stride=tuple(stride), padding=tuple(pad),
                       ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    grad_output = backward(out, g)
    params = {"kernel": list(kernel), "stride": list(stride),
              "padding": [pad[0], pad[1], pad[0], pad[1]],
              "ceil_mode": ceil_mode, "count_include_pad": count_include_pad}
    add_case(name, "avg_pool2d", params,
             [("input", x), ("grad_output", grad_output), ("output", out),
              ("grad_input", x.grad)])


avg_pool_case("avg_pool2d_k2_s2", 2, 3, 8, 6, (2, 2), (2, 2))
avg_pool_case("avg_pool2d_k3_s1_pad1_include_pad", 1, 3, 7, 6, (3, 3), (1, 1), pad=(1, 1),
              count_include_pad=True)
# H=9: no ceil effect; W=8: ceil adds a last column window covering input
# cols 6, 7 and the right pad column (padded index 9), plus one column past it.
avg_pool_case("avg_pool2d_k3_s2_pad1_exclude_pad_ceil_9x8", 1, 3, 9, 8, (3, 3), (2, 2),
              pad=(1, 1), ceil_mode=True, count_include_pad=False)
# Same geometry with count_include_pad=True: the divisor counts the padding
# but not the part of the last window lying past the padded edge (divisor 6
# in the last column, not 9).
avg_pool_case("avg_pool2d_k3_s2_pad1_include_pad_ceil_9x8", 1, 3, 9, 8, (3, 3), (2, 2),
              pad=(1, 1), ceil_mode=True, count_include_pad=True)
# ceil_mode without padding: last row/col windows run past the input edge.
avg_pool_case("avg_pool2d_k3_s2_ceil_nopad_8x10", 1, 2, 8, 10, (3, 3), (2, 2), ceil_mode=True,
              count_include_pad=True)


# ---------------------------------------------------------------------------
# global_avg_pool2d
# ---------------------------------------------------------------------------

def global_avg_case(name, n, c, h, w):
    g = gen_for(name)
    x = leaf(randn(g, n, c, h, w))
    out = F.adaptive_avg_pool2d(x, 1)
    grad_output = backward(out, g)
    add_case(name, "global_avg_pool2d", {},
             [("input", x), ("grad_output", grad_output), ("output", out),
              ("grad_input", x.grad)])


global_avg_case("global_avg_pool2d_5x7", 2, 3, 5, 7)
global_avg_case("global_avg_pool2d_13x13", 1, 4, 13, 13)


# ---------------------------------------------------------------------------
# Element-wise activations
# ---------------------------------------------------------------------------

def act_case(name, op, params, fn, kinks, scale=1.0, shape=(2, 3, 4, 5)):
    g = gen_for(name)
    x = leaf(nudge_from(randn(g, *shape, scale=scale), kinks))
    out = fn(x)
    grad_output = backward(out, g)
    add_case(name, op, params,
             [("input", x), ("grad_output", grad_output), ("output", out),
              ("grad_input", x.grad)])


act_case("relu", "relu", {}, F.relu, [0.0])
act_case("leaky_relu_alpha0_1", "leaky_relu", {"alpha": 0.1},
         lambda t: F.leaky_relu(t, negative_slope=0.1), [0.0])
act_case("clip_0_6", "clip", {"min": 0.0, "max": 6.0},
         lambda t: F.hardtanh(t, 0.0, 6.0), [0.0, 6.0], scale=4.0)


# ---------------------------------------------------------------------------
# linear
# ---------------------------------------------------------------------------

def linear_case(name, shape, fout):
    """A linear layer over the last axis of `shape` (every leading axis a row: a batch, tokens, channels-last)."""
    g = gen_for(name)
    x = leaf(randn(g, *shape))
    wt = leaf(randn(g, fout, shape[-1], scale=1.0 / math.sqrt(shape[-1])))
    b = leaf(randn(g, fout, scale=1.0 / math.sqrt(shape[-1])))
    out = F.linear(x, wt, b)
    grad_output = backward(out, g)
    add_case(name, "linear", {},
             [("input", x), ("weight", wt), ("bias", b), ("grad_output", grad_output),
              ("output", out), ("grad_input", x.grad), ("grad_weight", wt.grad),
              ("grad_bias", b.grad)])


linear_case("linear_3x17_to_5", (3, 17), 5)
linear_case("linear_1x64_to_10", (1, 64), 10)
linear_case("linear_2x5x7_to_4", (2, 5, 7), 4)


def matmul_case(name, a_shape, b_shape):
    """torch.matmul of two computed tensors, batch axes broadcast where one side has none."""
    g = gen_for(name)
    a = leaf(randn(g, *a_shape))
    b = leaf(randn(g, *b_shape))
    out = torch.matmul(a, b)
    grad_output = backward(out, g)
    add_case(name, "matmul", {},
             [("a", a), ("b", b), ("grad_output", grad_output), ("output", out),
              ("grad_a", a.grad), ("grad_b", b.grad)])


matmul_case("matmul_heads_2x3x7x5_2x3x5x6", (2, 3, 7, 5), (2, 3, 5, 6))
matmul_case("matmul_shared_b_2x4x3x6_6x5", (2, 4, 3, 6), (6, 5))
matmul_case("matmul_shared_a_3x4_2x3x4x5", (3, 4), (2, 3, 4, 5))
matmul_case("matmul_partial_broadcast_2x1x3x4_1x3x4x5", (2, 1, 3, 4), (1, 3, 4, 5))


# ---------------------------------------------------------------------------
# permute, slice, layer_norm / instance_norm
# ---------------------------------------------------------------------------

def permute_case(name, shape, perm):
    g = gen_for(name)
    x = leaf(randn(g, *shape))
    out = x.permute(*perm).contiguous()
    grad_output = backward(out, g)
    add_case(name, "permute", {"perm": list(perm)},
             [("input", x), ("grad_output", grad_output), ("output", out), ("grad_input", x.grad)])


permute_case("permute_nchw_to_nhwc", (2, 5, 4, 3), (0, 2, 3, 1))
permute_case("permute_heads", (2, 7, 3, 4), (0, 2, 1, 3))


def slice_case(name, shape, ranges):
    """ranges: (start, step, count) per axis, positive steps (torch's slicing has no negative ones)."""
    g = gen_for(name)
    x = leaf(randn(g, *shape))
    index = tuple(slice(s, s + st * c, st) for s, st, c in ranges)
    out = x[index].contiguous()
    grad_output = backward(out, g)
    add_case(name, "slice", {"ranges": [list(r) for r in ranges]},
             [("input", x), ("grad_output", grad_output), ("output", out), ("grad_input", x.grad)])


slice_case("slice_class_token", (2, 5, 8), ((0, 1, 2), (0, 1, 1), (0, 1, 8)))
slice_case("slice_strided", (3, 4, 9), ((1, 1, 2), (0, 1, 4), (2, 3, 3)))


def normalize_case(name, shape, axis, epsilon):
    """F.layer_norm without scale or shift over the axes from `axis`: (x - mean) / sqrt(var + eps) per row."""
    g = gen_for(name)
    x = leaf(randn(g, *shape, scale=2.0) + 1.5)
    out = F.layer_norm(x, shape[axis:], eps=epsilon)
    grad_output = backward(out, g)
    add_case(name, "standardize", {"axis": axis, "epsilon": epsilon},
             [("input", x), ("grad_output", grad_output), ("output", out), ("grad_input", x.grad)])


normalize_case("layer_norm_tokens", (2, 7, 48), 2, 1e-5)
normalize_case("instance_norm_planes", (2, 3, 5, 6), 2, 1e-6)


def reduce_case(name, op, shape, axes, keepdim, tie=False):
    """torch.sum / mean / amax over adjacent axes; with `tie`, two equal maxima, whose gradient amax splits."""
    g = gen_for(name)
    values = randn(g, *shape)
    if tie:
        values[0, 1, 0, 0] = values[0, :, 0, 0].max() + 1
        values[0, 3, 0, 0] = values[0, 1, 0, 0]
    x = leaf(values)
    fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}[op]
    out = fn(x, dim=axes, keepdim=keepdim)
    grad_output = backward(out, g)
    add_case(name, "reduce", {"reduction": op, "axes": list(axes), "keepdim": keepdim},
             [("input", x), ("grad_output", grad_output), ("output", out), ("grad_input", x.grad)])


reduce_case("reduce_sum_channels", "sum", (2, 5, 3, 4), (1,), True)
reduce_case("reduce_mean_tokens", "mean", (2, 6, 7), (2,), False)
reduce_case("reduce_max_channels_tie", "max", (2, 4, 3, 2), (1,), True, tie=True)


# ---------------------------------------------------------------------------
# add, concat
# ---------------------------------------------------------------------------

def add_op_case(name, shape):
    g = gen_for(name)
    a = leaf(randn(g, *shape))
    b = leaf(randn(g, *shape))
    out = a + b
    grad_output = backward(out, g)
    add_case(name, "add", {},
             [("a", a), ("b", b), ("grad_output", grad_output), ("output", out),
              ("grad_a", a.grad), ("grad_b", b.grad)])


add_op_case("add_2x3x4x5", (2, 3, 4, 5))


def concat_case(name, n, channels, h, w):
    g = gen_for(name)
    xs = [leaf(randn(g, n, c, h, w)) for c in channels]
    out = torch.cat(xs, dim=1)
    grad_output = backward(out, g)
    tensors = [("input%d" % i, x) for i, x in enumerate(xs)]
    tensors += [("grad_output", grad_output), ("output", out)]
    tensors += [("grad_input%d" % i, x.grad) for i, x in enumerate(xs)]
    add_case(name, "concat", {}, tensors)


concat_case("concat_channels_2_3_1", 2, (2, 3, 1), 4, 3)


# ---------------------------------------------------------------------------
# Write
# ---------------------------------------------------------------------------

def main():
    lines = [case_json(*c) for c in CASES]
    text = ('{"generator":' + json.dumps(GENERATOR)
            + ',"torch_version":' + json.dumps(torch.__version__)
            + ',"cases":[\n' + ",\n".join(lines) + "\n]}\n")
    doc = json.loads(text)  # sanity: valid JSON with the expected layout
    assert [c["name"] for c in doc["cases"]] == [c[0] for c in CASES]
    for c in doc["cases"]:
        for role, t in c["tensors"].items():
            assert len(t["data"]) == int(np.prod(t["shape"], dtype=np.int64)), (c["name"], role)
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    write_text(OUT_PATH, text)
    print("wrote %s (%d bytes, %d cases, torch %s)"
          % (os.path.relpath(OUT_PATH, ROOT), len(text.encode("utf-8")), len(CASES),
             torch.__version__))
    for (name, op, params, tensors), line in zip(CASES, lines):
        shapes = " ".join("%s=%s" % (r, "x".join(str(d) for d in t.shape) or "scalar")
                          for r, t in tensors if r in ("input", "input0", "a", "output"))
        print("  %-46s %-18s %7d B  %s" % (name, op, len(line), shapes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
