"""PyTorch -> ONNX as ConvLens reads it: the exporter call, the constant folding the exporter leaves undone, the
`convlens.*` metadata, and the set of ops ConvLens imports."""
import json
import warnings

import numpy as np
import onnx
import torch

from convlens_tools.onnx_graph import initializers

# The ONNX ops ConvLens's importer supports (README, "Supported ops", less Constant: the scripts fold those away).
SUPPORTED_OPS = {
    "Conv", "Relu", "LeakyRelu", "Clip", "Sigmoid", "MaxPool", "AveragePool",
    "GlobalAveragePool", "Gemm", "MatMul", "Add", "Mul", "Concat", "Flatten",
    "Reshape", "BatchNormalization", "Dropout", "Identity", "Softmax", "Pad",
}

# Shape computations ConvLens folds at load (with the input's size fixed), beside SUPPORTED_OPS.
SHAPE_OPS = {
    "Shape", "Gather", "Slice", "Concat", "Squeeze", "Unsqueeze", "Cast", "ConstantOfShape", "Range", "Expand",
    "Equal", "Where", "Min", "Max", "Ceil", "Floor", "Div", "Sub", "Mul", "Add", "Transpose", "Constant",
}


def export_onnx(model, example, destination, opset: int = 17, **options) -> None:
    """torch.onnx.export as every script calls it: input `input`, output `logits`, the batch axis dynamic, constant
    folding on, and the TorchScript exporter (dynamo=False), which names nodes after the modules and writes the
    plain ops ConvLens imports. `destination` is a path or a binary file object; `options` go to torch.onnx.export
    unchanged (train_mnist.py's training mode)."""
    with warnings.catch_warnings():
        # torch flags the TorchScript exporter as legacy, and its constant folder notes what it leaves unfolded
        # (Slice with steps -1, fold_constants below) or that a model in training mode is folded; the scripts
        # check the exported graph themselves.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (example,), destination, dynamo=False, opset_version=opset,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            do_constant_folding=True, **options)


def fold_constants(model_bytes: bytes, opset: int):
    """Fold what the TorchScript exporter left unfolded, at the ONNX level.

    The exporter keeps scalar/shape operands (Clip's min and max, Reshape's
    shape) as ``Constant`` nodes, and computes Pad's ``pads`` with a small
    subgraph (ConstantOfShape, Concat, Reshape, Slice with steps -1, Transpose,
    Cast) that its constant folder refuses because of the negative Slice step.
    Every node whose inputs are all constants is evaluated here with onnx's
    reference evaluator (at `opset`) and replaced by an initializer named after
    its output value; dead nodes and initializers are dropped. Values and
    semantics are unchanged (the scripts check afterwards against torch via onnxruntime).
    Returns (new model bytes, list of (op_type, node name) folded).
    """
    from onnx.reference import ReferenceEvaluator

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    consts = initializers(graph)
    params = set(consts)  # the original weights
    kept, folded = [], []
    for node in graph.node:
        if all(v == "" or v in consts for v in node.input) and node.op_type not in (
                "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike"):
            ins = [onnx.helper.make_tensor_value_info(
                       v, onnx.helper.np_dtype_to_tensor_dtype(consts[v].dtype), consts[v].shape)
                   for v in node.input if v]
            outs = [onnx.helper.make_tensor_value_info(v, onnx.TensorProto.UNDEFINED, None) for v in node.output]
            tiny = onnx.helper.make_model(
                onnx.helper.make_graph([node], "fold", ins, outs),
                opset_imports=[onnx.helper.make_opsetid("", opset)])
            vals = ReferenceEvaluator(tiny).run(None, {v: consts[v] for v in node.input if v})
            for v, a in zip(node.output, vals):
                consts[v] = np.asarray(a)
            folded.append((node.op_type, node.name))
        else:
            kept.append(node)
    # Keep only constants that the remaining nodes or the graph outputs use.
    used = {v for n in kept for v in n.input} | {o.name for o in graph.output}
    inits = [t for t in graph.initializer if t.name in used]
    for name, a in consts.items():
        if name in used and name not in params:
            inits.append(onnx.numpy_helper.from_array(a, name))
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(inits)
    keep_vi = {v for n in kept for v in list(n.input) + list(n.output)} - set(consts)
    vis = [vi for vi in graph.value_info if vi.name in keep_vi]
    del graph.value_info[:]
    graph.value_info.extend(vis)
    return model.SerializeToString(), folded


def convlens_metadata(mean, std, size, channels, labels, description) -> dict:
    """The `convlens.*` metadata ConvLens reads for preprocessing, labels and `convlens info`, as strings: mean and
    std comma-separated per channel, labels a JSON list."""
    return {
        "convlens.mean": ",".join(f"{v:g}" for v in mean),
        "convlens.std": ",".join(f"{v:g}" for v in std),
        "convlens.size": str(size),
        "convlens.channels": str(channels),
        "convlens.labels": json.dumps(list(labels)),
        "convlens.description": description,
    }


def add_metadata(proto, metadata: dict) -> None:
    """Appends `metadata` (key -> string) to the model's metadata_props, in order."""
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
