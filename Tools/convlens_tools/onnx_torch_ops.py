"""The ONNX ops of modern exports for onnx_torch.OnnxNode: shape computations, attention blocks, normalizations,
resizing: every op ``convlens info --supported-ops`` lists, so a script can evaluate (and differentiate, in
float64) any graph ConvLens loads.

Integer arithmetic follows onnxruntime (Div truncates, Mod takes the divisor's sign unless ``fmod``). A Cast to a
floating type keeps the dtype the graph is evaluated in (``compute_dtype``), so a float64 evaluation stays float64
through the casts exporters write.
"""
import string

import numpy as np
import torch
import torch.nn.functional as F

# TensorProto element types -> torch dtypes (floating types map to compute_dtype instead).
_FLOAT_TYPES = {1, 10, 11, 16}
_INTEGER_TYPES = {2: torch.uint8, 3: torch.int8, 5: torch.int16, 6: torch.int32, 7: torch.int64, 9: torch.bool}


def _axes(value, attrs, rank):
    """Axes from an input (newer opsets) or the attribute (older), made non-negative; None when absent."""
    axes = value.tolist() if value is not None and value.numel() else attrs.get("axes")
    return None if axes is None else [int(a) % rank for a in axes]


class TensorOpsMixin:
    """Op implementations, looked up by OnnxNode as ``_op_<OpType>``."""

    compute_dtype = torch.float32

    def _dtype(self, to: int):
        if to in _FLOAT_TYPES:
            return self.compute_dtype
        if to not in _INTEGER_TYPES:
            raise NotImplementedError(f"Cast to element type {to}")
        return _INTEGER_TYPES[to]

    # --- elementwise -----------------------------------------------------------------------------------------
    def _op_Sub(self, a, b):
        return a - b

    def _op_Div(self, a, b):
        if a.dtype.is_floating_point or b.dtype.is_floating_point:
            return a / b
        return torch.div(a, b, rounding_mode="trunc")

    def _op_Mod(self, a, b):
        return torch.fmod(a, b) if self.attrs.get("fmod", 0) else torch.remainder(a, b)

    def _op_Pow(self, a, b):
        return torch.pow(a, b)

    def _op_Abs(self, x):
        return x.abs()

    def _op_Neg(self, x):
        return -x

    def _op_Sqrt(self, x):
        return torch.sqrt(x)

    def _op_Erf(self, x):
        return torch.erf(x)

    def _op_Tanh(self, x):
        return torch.tanh(x)

    def _op_Ceil(self, x):
        return torch.ceil(x)

    def _op_Floor(self, x):
        return torch.floor(x)

    def _op_Round(self, x):
        return torch.round(x)  # half to even, as ONNX

    def _op_Gelu(self, x):
        approximate = self.attrs.get("approximate", b"none")
        approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
        return F.gelu(x, approximate=approximate)

    def _op_HardSigmoid(self, x):
        alpha, beta = float(self.attrs.get("alpha", 0.2)), float(self.attrs.get("beta", 0.5))
        return torch.clamp(alpha * x + beta, 0, 1)

    def _op_HardSwish(self, x):
        return x * torch.clamp(x + 3, 0, 6) / 6

    def _op_Max(self, *xs):
        return torch.stack(torch.broadcast_tensors(*xs)).amax(0)

    def _op_Min(self, *xs):
        return torch.stack(torch.broadcast_tensors(*xs)).amin(0)

    def _op_Where(self, condition, a, b):
        return torch.where(condition.bool(), a, b)

    def _op_Equal(self, a, b):
        return a == b

    def _op_Less(self, a, b):
        return a < b

    def _op_LessOrEqual(self, a, b):
        return a <= b

    def _op_Greater(self, a, b):
        return a > b

    def _op_GreaterOrEqual(self, a, b):
        return a >= b

    def _op_Not(self, x):
        return ~x.bool()

    def _op_And(self, a, b):
        return a.bool() & b.bool()

    def _op_Or(self, a, b):
        return a.bool() | b.bool()

    def _op_Cast(self, x):
        return x.to(self._dtype(int(self.attrs["to"])))

    def _op_CastLike(self, x, like):
        return x.to(self.compute_dtype if like.dtype.is_floating_point else like.dtype)

    # --- shapes and layout -----------------------------------------------------------------------------------
    def _op_Shape(self, x):
        rank = x.dim()
        start, end = int(self.attrs.get("start", 0)), int(self.attrs.get("end", rank))
        return torch.tensor(list(x.shape), dtype=torch.int64)[slice(start, end)]

    def _op_Size(self, x):
        return torch.tensor(x.numel(), dtype=torch.int64)

    def _op_ConstantOfShape(self, shape):
        value = self.attrs.get("value")
        if value is None:
            fill = torch.zeros(1, dtype=self.compute_dtype)
        else:
            from onnx import numpy_helper
            array = numpy_helper.to_array(value)
            fill = torch.from_numpy(np.array(array, copy=True))
            if fill.dtype.is_floating_point:
                fill = fill.to(self.compute_dtype)
        return fill.reshape(()).expand([int(s) for s in shape.tolist()]).clone()

    def _op_Range(self, start, limit, delta):
        dtype = self.compute_dtype if start.dtype.is_floating_point else start.dtype
        return torch.arange(start.item(), limit.item(), delta.item(), dtype=dtype)

    def _op_Expand(self, x, shape):
        target = [int(s) for s in shape.tolist()]
        rank = max(len(target), x.dim())
        target = [1] * (rank - len(target)) + target
        current = [1] * (rank - x.dim()) + list(x.shape)
        return x.reshape(current).expand([max(t, c) for t, c in zip(target, current)])

    def _op_Tile(self, x, repeats):
        return x.repeat([int(r) for r in repeats.tolist()])

    def _op_Transpose(self, x):
        perm = self.attrs.get("perm")
        return x.permute(*(list(perm) if perm is not None else range(x.dim() - 1, -1, -1)))

    def _op_Squeeze(self, x, axes=None):
        axes = _axes(axes, self.attrs, x.dim())
        if axes is None:
            return x.squeeze()
        return x.reshape([s for i, s in enumerate(x.shape) if i not in axes])

    def _op_Unsqueeze(self, x, axes=None):
        rank = x.dim() + len(axes.tolist() if axes is not None else self.attrs["axes"])
        axes = sorted(_axes(axes, self.attrs, rank))
        shape = list(x.shape)
        for axis in axes:
            shape.insert(axis, 1)
        return x.reshape(shape)

    def _op_Gather(self, x, indices):
        axis = int(self.attrs.get("axis", 0)) % x.dim()
        index = indices.long()
        index = torch.where(index < 0, index + x.shape[axis], index)
        flat = torch.index_select(x, axis, index.reshape(-1))
        return flat.reshape(list(x.shape[:axis]) + list(index.shape) + list(x.shape[axis + 1:]))

    def _op_GatherND(self, x, indices):
        if int(self.attrs.get("batch_dims", 0)):
            raise NotImplementedError("GatherND with batch_dims")
        depth = indices.shape[-1]
        index = indices.long().reshape(-1, depth)
        index = torch.where(index < 0, index + torch.tensor(x.shape[:depth]), index)
        picked = x[tuple(index.t())]
        return picked.reshape(list(indices.shape[:-1]) + list(x.shape[depth:]))

    def _op_ScatterND(self, x, indices, updates):
        if self.attrs.get("reduction", b"none") not in (b"none", "none"):
            raise NotImplementedError("ScatterND with a reduction")
        out = x.clone()
        depth = indices.shape[-1]
        index = indices.long().reshape(-1, depth)
        out[tuple(index.t())] = updates.reshape([index.shape[0]] + list(x.shape[depth:]))
        return out

    def _op_Slice(self, x, starts=None, ends=None, axes=None, steps=None):
        if self.opset < 10:
            starts, ends, axes = self.attrs["starts"], self.attrs["ends"], self.attrs.get("axes")
        else:
            starts, ends = starts.tolist(), ends.tolist()
            axes = None if axes is None else axes.tolist()
        steps = [1] * len(starts) if steps is None else steps.tolist()
        axes = list(range(len(starts))) if axes is None else [int(a) % x.dim() for a in axes]
        for start, end, axis, step in zip(starts, ends, axes, steps):
            size = x.shape[axis]
            # slice.indices clamps as ONNX does, negative steps included (torch indexing has no negative steps).
            index = torch.tensor(range(*slice(int(start), int(end), int(step)).indices(size)), dtype=torch.long)
            x = torch.index_select(x, axis, index)
        return x

    def _op_Split(self, x, split=None):
        axis = int(self.attrs.get("axis", 0)) % x.dim()
        sizes = split.tolist() if split is not None else self.attrs.get("split")
        if sizes is None:
            parts = int(self.attrs.get("num_outputs", len(self.onnx_outputs)))
            chunk = -(-x.shape[axis] // parts)
            sizes = [min(chunk, x.shape[axis] - k * chunk) for k in range(parts)]
        return tuple(torch.split(x, [int(s) for s in sizes], dim=axis))

    def _op_Einsum(self, *xs):
        equation = self.attrs["equation"]
        equation = equation.decode() if isinstance(equation, bytes) else equation
        # torch.einsum accepts the same notation; only the letters are checked.
        if any(c not in string.ascii_letters + ",.->" + " " for c in equation):
            raise NotImplementedError(f"Einsum equation {equation}")
        return torch.einsum(equation, *xs)

    # --- reductions and normalizations -----------------------------------------------------------------------
    def _reduce(self, x, axes, reduce):
        axes_input = axes if axes is not None and axes.dtype != torch.bool else None
        axes = _axes(axes_input, self.attrs, x.dim())
        keep = bool(self.attrs.get("keepdims", 1))
        if axes is None or not axes:
            if self.attrs.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.dim()))
        return reduce(x, axes, keep)

    def _op_ReduceMean(self, x, axes=None):
        return self._reduce(x, axes, lambda t, a, k: t.mean(dim=a, keepdim=k))

    def _op_ReduceSum(self, x, axes=None):
        return self._reduce(x, axes, lambda t, a, k: t.sum(dim=a, keepdim=k))

    def _op_ReduceMax(self, x, axes=None):
        return self._reduce(x, axes, lambda t, a, k: t.amax(dim=a, keepdim=k))

    def _op_LayerNormalization(self, x, scale, bias=None):
        axis = int(self.attrs.get("axis", -1)) % x.dim()
        return F.layer_norm(x, list(x.shape[axis:]), scale, bias, eps=float(self.attrs.get("epsilon", 1e-5)))

    def _op_InstanceNormalization(self, x, scale, bias):
        return F.instance_norm(x, weight=scale, bias=bias, eps=float(self.attrs.get("epsilon", 1e-5)))

    def _op_GroupNormalization(self, x, scale, bias):
        groups = int(self.attrs["num_groups"])
        eps = float(self.attrs.get("epsilon", 1e-5))
        if scale.numel() == x.shape[1]:  # opset 21: per channel
            return F.group_norm(x, groups, scale, bias, eps)
        # opset 18: scale and bias per group
        normalized = F.group_norm(x, groups, None, None, eps)
        per_channel = x.shape[1] // groups
        return normalized * scale.repeat_interleave(per_channel).reshape(1, -1, *[1] * (x.dim() - 2)) \
            + bias.repeat_interleave(per_channel).reshape(1, -1, *[1] * (x.dim() - 2))

    # --- spatial -----------------------------------------------------------------------------------------------
    def _op_ConvTranspose(self, x, w, b=None):
        strides, dilations = self._spatial(x, "strides", 1), self._spatial(x, "dilations", 1)
        extra = list(self.attrs.get("output_padding", [0] * (x.dim() - 2)))
        y = F.conv_transpose2d(x, w, b, stride=strides, padding=0, output_padding=extra,
                               groups=int(self.attrs.get("group", 1)), dilation=dilations)
        auto_pad = self.attrs.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        target = self.attrs.get("output_shape")
        if target is None and auto_pad.startswith("SAME"):
            target = [d * s for d, s in zip(x.shape[2:], strides)]
        if target is not None:
            # The full output cropped to the target; the odd row at the end for SAME_UPPER, else at the start
            # (onnxruntime's placement).
            totals = [full - want for full, want in zip(y.shape[2:], list(target)[-2:])]
            begin = [t // 2 if auto_pad == "SAME_UPPER" else t - t // 2 for t in totals]
            end = [t - h for t, h in zip(totals, begin)]
        elif auto_pad == "VALID":
            begin, end = [0, 0], [0, 0]
        else:
            pads = list(self.attrs.get("pads", [0] * 4))
            begin, end = pads[:2], pads[2:]
        # ONNX pads crop the full output at the begin and end of each spatial axis.
        h, w_ = y.shape[-2], y.shape[-1]
        return y[..., begin[0]:h - end[0], begin[1]:w_ - end[1]]

    def _op_Resize(self, x, roi=None, scales=None, sizes=None):
        def text(name, default):
            value = self.attrs.get(name, default)
            return value.decode() if isinstance(value, bytes) else value
        mode, transform = text("mode", "nearest"), text("coordinate_transformation_mode", "half_pixel")
        if sizes is not None and sizes.numel():
            size = [int(s) for s in sizes.tolist()[-2:]]
        else:
            factors = scales.tolist()[-2:]
            size = [int(np.floor(d * f)) for d, f in zip(x.shape[-2:], factors)]
        if mode == "nearest":
            if transform != "asymmetric" or text("nearest_mode", "round_prefer_floor") != "floor":
                raise NotImplementedError(f"nearest Resize with {transform}")
            return F.interpolate(x, size=size, mode="nearest")
        if mode != "linear" or transform not in ("align_corners", "half_pixel", "pytorch_half_pixel"):
            raise NotImplementedError(f"Resize mode {mode} with {transform}")
        return F.interpolate(x, size=size, mode="bilinear", align_corners=transform == "align_corners")

    def _op_Upsample(self, x, scales=None):
        factors = (scales.tolist() if scales is not None else self.attrs["scales"])[-2:]
        size = [int(np.floor(d * f)) for d, f in zip(x.shape[-2:], factors)]
        mode = self.attrs.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        return F.interpolate(x, size=size, mode="nearest" if mode == "nearest" else "bilinear",
                             align_corners=None if mode == "nearest" else False)
