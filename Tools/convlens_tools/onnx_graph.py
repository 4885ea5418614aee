"""Reading an ONNX graph's protobuf: node attributes, initializers, and which node makes or reads each value.

The one place the scripts parse these (the evaluator in onnx_torch.py, the export fixes in onnx_export.py, the
scripts' own graph checks). Needs only onnx and numpy, so scripts that do not otherwise import torch stay free of it.
"""
from onnx import helper, numpy_helper


def attributes(node) -> dict:
    """A node's attributes as plain Python values (ints, floats, bytes, lists, TensorProto), by name, in file order."""
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def initializers(graph) -> dict:
    """Every initializer of `graph` as a numpy array (its stored dtype), by name."""
    return {t.name: numpy_helper.to_array(t) for t in graph.initializer}


def producers(graph) -> dict:
    """The node that outputs each value, by value name (optional outputs left empty are not values)."""
    return {value: node for node in graph.node for value in node.output if value}


def consumers(graph) -> dict:
    """The nodes that read each value, in node order and each once, by value name."""
    readers = {}
    for node in graph.node:
        for value in set(node.input):
            readers.setdefault(value, []).append(node)
    return readers
