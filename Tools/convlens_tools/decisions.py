"""Piecewise ops evaluated under another implementation's decisions: the input-gradient criterion of conformance.py.

ReLU, Clip, HardSwish, HardSigmoid, LeakyReLU, Abs, max-pool and ReduceMax are piecewise: their gradient jumps where
the input crosses a kink or where two pooled values swap order. When an input sits within float32 rounding of such
a point, ConvLens and PyTorch may decide differently, and both gradients are right for their own forward pass. So
the reference is PyTorch float64 autograd through the exported graph with every such op taking the branch that
ConvLens's own forward pass took: the branch comes from ConvLens's float32 input to the op (``forward
--save-values``), the values from float64. What is left between the two gradients is arithmetic, held to 1e-4.

``decided(node, inputs, convlens_inputs)`` returns the node's float64 output under ConvLens's branches and how
many of its decisions differ from the ones float64 takes itself. The branch rules are ConvLens's kernels' (and its
reference twin's): ReLU passes where x > 0, Clip where low < x < high, HardSwish is 0 below −3 and x above 3,
max-pool takes the first maximum in the window, ReduceMax splits its gradient among ties.
"""
import torch
import torch.nn.functional as F

DECISION_OPS = {"Relu", "LeakyRelu", "Clip", "HardSwish", "HardSigmoid", "Abs", "MaxPool", "ReduceMax"}


def _region(op: str, node, r, bounds):
    """An integer tensor naming the branch each element of r (the deciding input) falls in."""
    if op in ("Relu", "LeakyRelu", "Abs"):
        return (r > 0).to(torch.int8) - (r < 0).to(torch.int8) if op == "Abs" else (r > 0).to(torch.int8)
    if op == "Clip":
        low, high = bounds
        return torch.where(r <= low, 0, torch.where(r >= high, 2, 1)).to(torch.int8)
    if op == "HardSwish":
        return torch.where(r < -3, 0, torch.where(r <= 3, 1, 2)).to(torch.int8)
    if op == "HardSigmoid":
        ramp = float(node.attrs.get("alpha", 0.2)) * r + float(node.attrs.get("beta", 0.5))
        return torch.where(ramp <= 0, 0, torch.where(ramp >= 1, 2, 1)).to(torch.int8)
    raise NotImplementedError(op)


def _elementwise(node, x, region, bounds):
    op = node.op_type
    if op == "Relu":
        return torch.where(region == 1, x, torch.zeros_like(x))
    if op == "LeakyRelu":
        return torch.where(region == 1, x, float(node.attrs.get("alpha", 0.01)) * x)
    if op == "Abs":
        return x * region.to(x.dtype)
    if op == "Clip":
        low, high = bounds
        return torch.where(region == 0, torch.full_like(x, low), torch.where(region == 2, torch.full_like(x, high), x))
    if op == "HardSwish":
        return torch.where(region == 0, torch.zeros_like(x), torch.where(region == 1, x * (x + 3) / 6, x))
    alpha, beta = float(node.attrs.get("alpha", 0.2)), float(node.attrs.get("beta", 0.5))
    return torch.where(region == 0, torch.zeros_like(x), torch.where(region == 1, alpha * x + beta, torch.ones_like(x)))


def _clip_bounds(node, inputs):
    if node.opset < 11:
        low, high = node.attrs.get("min"), node.attrs.get("max")
    else:
        low = inputs[1] if len(inputs) > 1 else None
        high = inputs[2] if len(inputs) > 2 else None
    low = float("-inf") if low is None else float(torch.as_tensor(low).detach())
    high = float("inf") if high is None else float(torch.as_tensor(high).detach())
    return low, high


def _pool_indices(node, x):
    """Flat indices (into each padded plane) of the maxima max-pool picks, and the padded input."""
    kernel = list(node.attrs["kernel_shape"])
    begin, end = node._split_pads(x)
    padded = F.pad(x, node._torch_pad(begin, end), value=float("-inf"))
    _, indices = F.max_pool2d(padded, kernel, stride=node._spatial(x, "strides", 1),
                              dilation=node._spatial(x, "dilations", 1),
                              ceil_mode=bool(node.attrs.get("ceil_mode", 0)), return_indices=True)
    return indices, padded


def _max_pool(node, x, reference):
    indices, padded = _pool_indices(node, reference.to(x.dtype))
    own, _ = _pool_indices(node, x.detach())
    _, padded_x = _pool_indices(node, x)
    flat = padded_x.flatten(2)
    y = flat.gather(2, indices.flatten(2)).view(indices.shape)
    return y, int((own != indices).sum()), indices.numel()


def _reduce_max_mask(r, axes):
    """The elements equal to their group's maximum (ties all kept)."""
    return r == r.amax(dim=axes, keepdim=True)


def _reduce_max(node, x, reference, axes_input):
    axes = node.attrs.get("axes") if axes_input is None else axes_input.tolist()
    axes = tuple(range(x.dim())) if axes is None or len(axes) == 0 else tuple(int(a) % x.dim() for a in axes)
    mask = _reduce_max_mask(reference.to(x.dtype), axes)
    own = _reduce_max_mask(x.detach(), axes)
    share = mask.to(x.dtype) / mask.sum(dim=axes, keepdim=True)
    y = (x * share).sum(dim=axes, keepdim=bool(node.attrs.get("keepdims", 1)))
    return y, int((own != mask).sum()), mask.numel()


def decided(node, inputs, reference):
    """The node's output under ConvLens's branches, and (differing decisions, decisions).

    ``inputs`` are the node's float64 inputs (constants included), ``reference`` ConvLens's float32 value of its
    first input as a tensor.
    """
    op = node.op_type
    x = inputs[0]
    if op == "MaxPool":
        return _max_pool(node, x, reference)
    if op == "ReduceMax":
        return _reduce_max(node, x, reference, inputs[1] if len(inputs) > 1 else None)
    bounds = _clip_bounds(node, inputs) if op == "Clip" else None
    region = _region(op, node, reference.to(x.dtype), bounds)
    own = _region(op, node, x.detach(), bounds)
    return _elementwise(node, x, region, bounds), int((own != region).sum()), region.numel()
