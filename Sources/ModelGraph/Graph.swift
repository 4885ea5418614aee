import TensorOps

/// A CNN as ConvLens runs it: nodes in execution order over named values, constants (weights) by name, and the
/// model's metadata. Built from ONNX by `ONNXImporter`; executed on any backend by `GraphExecutor`.
public struct Graph: Sendable {
    /// The one input the network takes (NCHW images, or any tensor).
    public var input: ValueInfo
    /// Output value names, in the model's order.
    public var outputs: [String]
    /// Nodes in a valid execution order (every input produced before use).
    public var nodes: [Node]
    /// Weights and other constant tensors, by value name.
    public var constants: [String: HostTensor]
    /// ONNX `metadata_props` (ConvLens reads its `convlens.*` keys for preprocessing and labels).
    public var metadata: [String: String]
    /// The default-domain opset the model was exported with.
    public var opsetVersion: Int
    /// Values that disappeared when a BatchNormalization was folded into the Conv before it, mapped to the value
    /// that now carries the folded result (for messages naming the replacement).
    public var foldedValues: [String: String]
    /// The input shape the model's shape computations were folded for (Reshape targets or padding computed from
    /// the input's size); nil when nothing in the graph depends on the input's shape. `planned(for:)` gives the
    /// graph for another shape.
    public var plannedInput: TensorShape?
    /// How many ONNX nodes were evaluated at load (shape computations and arithmetic on constants) instead of
    /// becoming nodes.
    public var foldedNodeCount: Int
    /// The model as read, to lower again for another input shape when `plannedInput` is set.
    var source: ONNXSource?

    public init(
        input: ValueInfo, outputs: [String], nodes: [Node], constants: [String: HostTensor],
        metadata: [String: String] = [:], opsetVersion: Int, foldedValues: [String: String] = [:],
        plannedInput: TensorShape? = nil, foldedNodeCount: Int = 0
    ) {
        self.input = input
        self.outputs = outputs
        self.nodes = nodes
        self.constants = constants
        self.metadata = metadata
        self.opsetVersion = opsetVersion
        self.foldedValues = foldedValues
        self.plannedInput = plannedInput
        self.foldedNodeCount = foldedNodeCount
    }

    /// The input shape to describe the model with (`info`): batch 1 with the model's sizes, or where its height or
    /// width is symbolic, the size it was planned for (or would be: its `convlens.size` metadata, else 224).
    public var exampleInputShape: TensorShape? {
        input.shape(batch: 1) ?? plannedInput ?? source?.provisionalInputShape()
    }

    /// The graph for inputs of `inputShape`: this one, unless its shape computations were folded for another
    /// shape, in which case the model is lowered again for this one (node and value names stay the same).
    /// - Throws: `ModelError` when the model does not fit that shape.
    public func planned(for inputShape: TensorShape) throws -> Graph {
        guard let plannedInput, plannedInput != inputShape, let source else { return self }
        return try source.graph(for: inputShape)
    }
}

/// A graph input: its name and dimensions, `nil` where the model leaves a dimension symbolic (the batch).
public struct ValueInfo: Hashable, Sendable {
    public var name: String
    public var dimensions: [Int?]

    public init(name: String, dimensions: [Int?]) {
        self.name = name
        self.dimensions = dimensions
    }

    /// The shape for `batch` samples (the first dimension is always the batch), or nil when another dimension
    /// is symbolic.
    public func shape(batch: Int) -> TensorShape? {
        guard !dimensions.isEmpty else { return nil }
        var result = [batch]
        for dimension in dimensions.dropFirst() {
            guard let dimension else { return nil }
            result.append(dimension)
        }
        return TensorShape(result)
    }
}

/// One step of the network.
public struct Node: Sendable {
    /// The ONNX node name (made up as `<op>_<index>` when the file has none).
    public var name: String
    /// The ONNX op type, as the file names it (`Conv`, `Gemm` …), for display.
    public var opType: String
    public var operation: Operation
    /// Input value names: activations or constants, in the order the operation documents.
    public var inputs: [String]
    public var output: String

    public init(name: String, opType: String, operation: Operation, inputs: [String], output: String) {
        self.name = name
        self.opType = opType
        self.operation = operation
        self.inputs = inputs
        self.output = output
    }
}

/// What a node computes, in terms of backend ops. ONNX ops are lowered to these at import (Gemm and MatMul to
/// `linear`, BatchNormalization to a folded `conv` or to `channelAffine`, Dropout to `identity` …).
public enum Operation: Sendable {
    /// Inputs: x, weight, optional bias.
    case conv(Conv2DParameters)
    /// Inputs: x (N×Cin×H×W), weight (Cin×Cout/groups×kH×kW): the transposed convolution (ONNX ConvTranspose),
    /// computed as the input gradient of the convolution it transposes; `outputPadding` rows and columns are added
    /// at the bottom and right. Its bias, if any, follows as an Add node.
    case convTranspose(Conv2DParameters, outputPadding: Size2D)
    /// Inputs: x, scale, shift (per channel): an inference BatchNormalization that could not be folded.
    case channelAffine
    case activation(Activation)
    case maxPool(Pool2DParameters)
    case averagePool(Pool2DParameters)
    case globalAveragePool
    /// The sum, mean or maximum over adjacent axes (non-negative), kept as 1s or dropped.
    case reduce(Reduction, axes: ClosedRange<Int>, keepDimensions: Bool)
    /// Inputs: x (N×In), weight (Out×In), optional bias (Out).
    case linear
    /// Inputs: a, b (either may be a constant), NumPy broadcasting.
    case binary(BinaryOp)
    /// Inputs: a (…×M×K), b (…×K×N), neither a weight: a batched matrix product (`MatMulGeometry`).
    case matmul
    /// Concatenation of all inputs along one axis (negative: from the back).
    case concat(axis: Int)
    /// ONNX Reshape semantics: 0 copies the input dimension, −1 is inferred.
    case reshape([Int])
    /// ONNX Flatten: dimensions before `axis` become rows, the rest columns.
    case flatten(axis: Int)
    /// Dropout and Identity: the output is the input.
    case identity
    /// Softmax over one axis (negative: from the back).
    case softmax(axis: Int)
    /// Every row standardized over the axes from `axis` on (negative: from the back), (x − μ)/√(σ² + ε): the
    /// normalization inside LayerNormalization, InstanceNormalization and GroupNormalization, whose scale and shift
    /// follow as their own nodes.
    case standardize(axis: Int, epsilon: Float)
    /// Each plane resized to `height` × `width` (ONNX Resize, Upsample).
    case resize(ResizeMode, height: Int, width: Int)
    /// Constant padding of the spatial axes.
    case pad(Padding2D, value: Float)
    /// Output axis `i` is input axis `permutation[i]` (ONNX Transpose, Gemm's transA).
    case permute([Int])
    /// A strided slice, one range per axis, nil where the axis is taken whole (whatever its size: the batch).
    case slice([AxisRange?])
    /// The listed axes (each of size 1) removed, or every size-1 axis when nil: a view.
    case squeeze(axes: [Int]?)
    /// A size-1 axis inserted at each listed position of the output: a view.
    case unsqueeze(axes: [Int])
}
