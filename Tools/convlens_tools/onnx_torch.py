"""The ONNX -> PyTorch evaluator: an ONNX graph as a torch.nn.Module, one child module per ONNX node.

Used wherever a script needs what onnxruntime cannot give: autograd through exactly the graph convlens runs
(conformance.py's reference gradients, with BatchNorm folded as the exporter left it), hooks on layers
(pytorch-grad-cam's target layers and Captum's ReLU hooks in cam_fixtures.py), and float64 evaluation.

- ``nodes[i]`` evaluates ONNX node i with torch functional ops, so a forward hook on it sees that node's inputs and
  output (and may replace the output); ``module_for_value`` finds the node that makes a value.
- ONNX ``Relu`` nodes are ``nn.ReLU`` subclasses: Captum's guided backprop and deconvolution hook ``nn.ReLU``
  instances only.
- Float initializers are float32 ``nn.Parameter``s, integer ones buffers, so ``module.double()`` evaluates in
  float64 and ``module.requires_grad_(False)`` leaves only the input's gradient to compute.

Ops: every op ``convlens info --supported-ops`` lists, lowered or folded (this file: convolutions, pooling, Gemm and
the basic elementwise ops; onnx_torch_ops.py: the rest). Anything else raises NotImplementedError when the module is
built, not silently later. Shape computations run in torch on int64 tensors, as the graph states them.

``forward(x, decisions=...)`` evaluates the piecewise ops (ReLU, Clip, max-pool …) under another implementation's
branches (convlens_tools.decisions): the input-gradient criterion of Tools/conformance.py.
"""
import numpy as np
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn

from convlens_tools.decisions import DECISION_OPS, decided
from convlens_tools.onnx_graph import attributes, initializers
from convlens_tools.onnx_torch_ops import TensorOpsMixin


class _NodeInfo:
    """Mixin: which ONNX node a child module evaluates."""

    def _set_node(self, index: int, node) -> None:
        self.index = index
        self.op_type = node.op_type
        self.onnx_name = node.name
        self.onnx_inputs = list(node.input)
        self.onnx_outputs = list(node.output)
        self.attrs = attributes(node)

    def extra_repr(self) -> str:
        return f"{self.op_type} -> {self.onnx_outputs[0]}"


class OnnxNode(TensorOpsMixin, _NodeInfo, nn.Module):
    """One ONNX node evaluated with torch ops; forward(*node_inputs) -> output(s)."""

    def __init__(self, index: int, node, opset: int) -> None:
        nn.Module.__init__(self)
        self._set_node(index, node)
        self.opset = opset
        if node.op_type == "Constant":
            self.register_buffer("value", constant_value(self.attrs))
        forward = getattr(self, "_op_" + node.op_type, None)
        if forward is None:
            raise NotImplementedError(f"ONNX op {node.op_type} (node {index}) is not supported")
        self._impl = forward

    def forward(self, *inputs):
        return self._impl(*inputs)

    # --- helpers -----------------------------------------------------------
    def _spatial(self, x, name, default):
        return list(self.attrs.get(name, [default] * (x.dim() - 2)))

    def _split_pads(self, x):
        rank = x.dim() - 2
        pads = list(self.attrs.get("pads", [0] * (2 * rank)))
        if self.attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise NotImplementedError(f"auto_pad in node {self.index}")
        return pads[:rank], pads[rank:]

    @staticmethod
    def _torch_pad(begin, end):
        """ONNX spatial begin/end pads -> F.pad tuple (last dim first)."""
        out = []
        for b, e in zip(reversed(begin), reversed(end)):
            out += [b, e]
        return out

    # --- ops ---------------------------------------------------------------
    def _op_Conv(self, x, w, b=None):
        if x.dim() != 4:
            raise NotImplementedError("only 2-D Conv")
        begin, end = self._split_pads(x)
        # torch pads symmetrically only; asymmetric ONNX pads are applied to the input first.
        if begin != end:
            x = F.pad(x, self._torch_pad(begin, end))
            begin = [0, 0]
        return F.conv2d(x, w, b, stride=self._spatial(x, "strides", 1), padding=begin,
                        dilation=self._spatial(x, "dilations", 1), groups=int(self.attrs.get("group", 1)))

    def _op_LeakyRelu(self, x):
        return F.leaky_relu(x, float(self.attrs.get("alpha", 0.01)))

    def _op_Sigmoid(self, x):
        return torch.sigmoid(x)

    def _op_Clip(self, x, lo=None, hi=None):
        if self.opset < 11:
            lo, hi = self.attrs.get("min"), self.attrs.get("max")
        lo = None if lo is None else float(torch.as_tensor(lo).detach())
        hi = None if hi is None else float(torch.as_tensor(hi).detach())
        return torch.clamp(x, min=lo, max=hi)

    def _op_MaxPool(self, x):
        if len(self.onnx_outputs) > 1 and self.onnx_outputs[1]:
            raise NotImplementedError("MaxPool indices output")
        k = list(self.attrs["kernel_shape"])
        begin, end = self._split_pads(x)
        # torch allows only symmetric pads of at most half the kernel; otherwise pad with -inf (never the maximum).
        if begin != end or any(p > kk // 2 for p, kk in zip(begin, k)):
            x = F.pad(x, self._torch_pad(begin, end), value=float("-inf"))
            begin = [0] * len(k)
        return F.max_pool2d(x, k, stride=self._spatial(x, "strides", 1), padding=begin,
                            dilation=self._spatial(x, "dilations", 1), ceil_mode=bool(self.attrs.get("ceil_mode", 0)))

    def _op_AveragePool(self, x):
        k = list(self.attrs["kernel_shape"])
        begin, end = self._split_pads(x)
        include = bool(self.attrs.get("count_include_pad", 0))
        if begin != end:
            # Padding the input first makes the pad count as elements, right only when count_include_pad is set.
            if not include:
                raise NotImplementedError("asymmetric AveragePool pads with count_include_pad=0")
            x = F.pad(x, self._torch_pad(begin, end))
            begin = [0] * len(k)
        return F.avg_pool2d(x, k, stride=self._spatial(x, "strides", 1), padding=begin,
                            ceil_mode=bool(self.attrs.get("ceil_mode", 0)), count_include_pad=include)

    def _op_GlobalAveragePool(self, x):
        return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)

    def _op_Gemm(self, a, b, c=None):
        if self.attrs.get("transA", 0):
            a = a.t()
        if self.attrs.get("transB", 0):
            b = b.t()
        y = float(self.attrs.get("alpha", 1.0)) * (a @ b)
        if c is not None:
            y = y + float(self.attrs.get("beta", 1.0)) * c
        return y

    def _op_MatMul(self, a, b):
        return torch.matmul(a, b)

    def _op_Add(self, a, b):
        return a + b


    def _op_Mul(self, a, b):
        return a * b

    def _op_Concat(self, *xs):
        return torch.cat(xs, dim=int(self.attrs["axis"]))

    def _op_Flatten(self, x):
        axis = int(self.attrs.get("axis", 1))
        axis = axis + x.dim() if axis < 0 else axis
        lead = int(np.prod(x.shape[:axis])) if axis > 0 else 1
        return x.reshape(lead, -1)

    def _op_Reshape(self, x, shape):
        shape = [int(s) for s in shape.tolist()]
        if not self.attrs.get("allowzero", 0):
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return x.reshape(shape)

    def _op_BatchNormalization(self, x, scale, bias, mean, var):
        if self.attrs.get("training_mode", 0):
            raise NotImplementedError("training-mode BatchNormalization")
        return F.batch_norm(x, mean.detach(), var.detach(), scale, bias, training=False,
                            eps=float(self.attrs.get("epsilon", 1e-5)))

    def _op_Identity(self, x):
        return x

    def _op_Dropout(self, x, *_):
        if len(self.onnx_outputs) > 1 and self.onnx_outputs[1]:
            return x, torch.ones_like(x, dtype=torch.bool)
        return x

    def _op_Softmax(self, x):
        if self.opset >= 13:
            return torch.softmax(x, dim=int(self.attrs.get("axis", -1)))
        # Before opset 13 Softmax flattens to 2-D at `axis` (default 1) and normalizes each row.
        axis = int(self.attrs.get("axis", 1))
        shape = x.shape
        return torch.softmax(x.reshape(int(np.prod(shape[:axis])), -1), dim=1).reshape(shape)

    def _op_Pad(self, x, pads=None, value=None, axes=None):
        if axes is not None:
            raise NotImplementedError("Pad with axes")
        if self.opset < 11:
            pads, value = self.attrs["pads"], self.attrs.get("value", 0.0)
        else:
            pads = [int(p) for p in pads.tolist()]
            value = 0.0 if value is None or value.numel() == 0 else float(value)
        rank = x.dim()
        torch_pads = self._torch_pad(pads[:rank], pads[rank:])
        mode = self.attrs.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode == "constant":
            return F.pad(x, torch_pads, value=value)
        # reflect / edge only pad the spatial dims in torch
        if any(torch_pads[2 * (rank - 2):]):
            raise NotImplementedError("non-constant Pad on batch/channel axes")
        return F.pad(x, torch_pads[: 2 * (rank - 2)], mode={"reflect": "reflect", "edge": "replicate"}[mode])

    def _op_Constant(self):
        return self.value


class ReluNode(_NodeInfo, nn.ReLU):
    """An ONNX Relu node as an nn.ReLU module (Captum hooks nn.ReLU instances)."""

    def __init__(self, index: int, node) -> None:
        nn.ReLU.__init__(self)
        self._set_node(index, node)


def constant_value(attrs: dict) -> torch.Tensor:
    """A Constant node's value from its attributes; floating values as float32, like the initializers."""
    if "value" in attrs:
        arr = numpy_helper.to_array(attrs["value"])
    elif "value_float" in attrs:
        arr = np.array(attrs["value_float"], dtype=np.float32)
    elif "value_floats" in attrs:
        arr = np.array(attrs["value_floats"], dtype=np.float32)
    elif "value_int" in attrs:
        arr = np.array(attrs["value_int"], dtype=np.int64)
    elif "value_ints" in attrs:
        arr = np.array(attrs["value_ints"], dtype=np.int64)
    else:
        raise NotImplementedError(f"Constant attributes {sorted(attrs)}")
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float32)
    return torch.from_numpy(np.array(arr, copy=True))


class OnnxGraphModule(nn.Module):
    """Evaluates an ONNX graph node by node; ``nodes[i]`` computes ONNX node i.

    Float initializers are float32 ``nn.Parameter``s (requires_grad, so layer
    outputs require grad even when the input does not, as pytorch-grad-cam
    expects); integer initializers are buffers.
    """

    def __init__(self, model) -> None:
        super().__init__()
        graph = model.graph
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
        arrays = initializers(graph)
        inputs = [i.name for i in graph.input if i.name not in arrays]
        if len(inputs) != 1 or len(graph.output) != 1:
            raise NotImplementedError("exactly one graph input and one output supported")
        self.input_name, self.output_name = inputs[0], graph.output[0].name
        # Initializer names are arbitrary strings; module attributes need identifiers, so c0, c1, ... stand in.
        self.consts = nn.Module()
        self._const_attr = {}
        for k, (name, arr) in enumerate(arrays.items()):
            attr = f"c{k}"
            if arr.dtype.kind == "f":
                self.consts.register_parameter(attr, nn.Parameter(torch.from_numpy(arr.astype(np.float32).copy())))
            else:
                self.consts.register_buffer(attr, torch.from_numpy(np.array(arr, copy=True)))
            self._const_attr[name] = attr
        self.nodes = nn.ModuleList(
            ReluNode(i, n) if n.op_type == "Relu" else OnnxNode(i, n, opset) for i, n in enumerate(graph.node))
        self.producer = {out: i for i, n in enumerate(graph.node) for out in n.output if out}
        # The names ConvLens gives the nodes (its importer's rule): the file's, or <op>_<index> where it has none,
        # with _<index> added to a repeated name.
        self.convlens_names, seen = [], set()
        for i, n in enumerate(graph.node):
            name = n.name or f"{n.op_type}_{i}"
            if name in seen:
                name += f"_{i}"
            seen.add(name)
            self.convlens_names.append(name)
        # Filled by forward: the piecewise nodes on the input's path as (ConvLens name, op); with decisions, also
        # (name, op, differing decisions, decisions) per node decided, and the nodes that had no ConvLens value.
        self.piecewise, self.decision_counts, self.undecided = [], [], []

    def module_for_value(self, value_name: str) -> nn.Module:
        return self.nodes[self.producer[value_name]]

    def forward(self, x: torch.Tensor, decisions: dict | None = None) -> torch.Tensor:
        """The graph's output for input x; with ``decisions`` (ConvLens node name -> ConvLens's float32 value of
        that node's first input), every piecewise node takes the branches ConvLens took."""
        env = {self.input_name: x}
        for name, attr in self._const_attr.items():
            env[name] = getattr(self.consts, attr)
        self.piecewise, self.decision_counts, self.undecided = [], [], []
        for node in self.nodes:
            node.compute_dtype = x.dtype if x.dtype.is_floating_point else torch.float32
        for node, name in zip(self.nodes, self.convlens_names):
            inputs = [env[n] if n else None for n in node.onnx_inputs]
            on_path = node.op_type in DECISION_OPS and inputs[0].requires_grad
            if on_path:
                self.piecewise.append((name, node.op_type))
            if on_path and decisions is not None:
                if name not in decisions:
                    self.undecided.append(name)
                    out = node(*inputs)
                else:
                    out, differing, total = decided(node, inputs, decisions[name])
                    self.decision_counts.append((name, node.op_type, differing, total))
            else:
                out = node(*inputs)
            if len(node.onnx_outputs) == 1:
                env[node.onnx_outputs[0]] = out
            else:
                outs = out if isinstance(out, tuple) else (out,)
                for name, value in zip(node.onnx_outputs, outs):
                    if name:
                        env[name] = value
        return env[self.output_name]
