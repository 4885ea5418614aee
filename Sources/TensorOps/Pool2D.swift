/// The hyper-parameters of max and average pooling (PyTorch semantics, ONNX's asymmetric padding allowed).
public struct Pool2DParameters: Hashable, Sendable {
    public var kernel: Size2D
    public var stride: Size2D
    public var padding: Padding2D
    /// Max pooling only; average pooling requires 1 (PyTorch and ONNX have no dilated average pool).
    public var dilation: Size2D
    /// Round the output size up, so a last partial window is kept when it starts inside the input or top/left
    /// padding.
    public var ceilMode: Bool
    /// Average pooling only: divide by the window size including padded elements (PyTorch's default) instead of
    /// by the number of real input elements.
    public var countIncludePad: Bool

    public init(
        kernel: Size2D, stride: Size2D? = nil, padding: Padding2D = .zero, dilation: Size2D = Size2D(1),
        ceilMode: Bool = false, countIncludePad: Bool = true
    ) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }
}

/// Which pooling a `Pool2DGeometry` describes.
public enum PoolKind: String, Hashable, Sendable {
    case max = "max_pool2d"
    case average = "avg_pool2d"
}

/// A pooling's shapes, checked once: input N×C×H×W, output N×C×OH×OW.
public struct Pool2DGeometry: Hashable, Sendable {
    public let kind: PoolKind
    public let input: TensorShape
    public let output: TensorShape
    public let parameters: Pool2DParameters

    public var planes: Int { input[0] * input[1] }
    public var inHeight: Int { input[2] }
    public var inWidth: Int { input[3] }
    public var outHeight: Int { output[2] }
    public var outWidth: Int { output[3] }

    /// - Throws: `ShapeError` for a zero dimension, a non-positive kernel/stride/dilation, padding larger than half
    ///   the kernel (PyTorch's rule, which guarantees every window sees at least one input element), dilation on
    ///   an average pool, or a window larger than the padded input.
    public init(_ kind: PoolKind, input: TensorShape, parameters: Pool2DParameters) throws(ShapeError) {
        let op = kind.rawValue
        try input.requireNCHW("input", of: op)
        let p = parameters
        guard p.kernel.isInRange, p.stride.isInRange, p.dilation.isInRange else {
            throw ShapeError(
                op: op, message: "kernel \(p.kernel), stride \(p.stride), dilation \(p.dilation) must be from 1 to "
                    + "\(TensorShape.maximumExtent)")
        }
        guard kind == .max || p.dilation == Size2D(1) else {
            throw ShapeError(op: op, message: "average pooling has no dilation, got \(p.dilation)")
        }
        let pad = p.padding
        guard pad.isInRange, max(pad.top, pad.bottom) <= p.kernel.height / 2,
            max(pad.left, pad.right) <= p.kernel.width / 2
        else {
            throw ShapeError(
                op: op, message: "padding \(pad) must be between 0 and half the kernel \(p.kernel)")
        }
        let what = "kernel \(p.kernel) vs input \(input)"
        let outHeight = try pooledCount(
            input[2], before: pad.top, after: pad.bottom, kernel: p.kernel.height, stride: p.stride.height,
            dilation: p.dilation.height, ceilMode: p.ceilMode, op: op, what: what)
        let outWidth = try pooledCount(
            input[3], before: pad.left, after: pad.right, kernel: p.kernel.width, stride: p.stride.width,
            dilation: p.dilation.width, ceilMode: p.ceilMode, op: op, what: what)
        self.kind = kind
        self.input = input
        self.parameters = p
        self.output = [input[0], input[1], outHeight, outWidth]
    }
}

/// PyTorch's pooling output size: floor or ceil of the window count, dropping a ceil-mode window that would
/// start in the bottom/right padding.
private func pooledCount(
    _ extent: Int, before: Int, after: Int, kernel: Int, stride: Int, dilation: Int, ceilMode: Bool, op: String,
    what: String
) throws(ShapeError) -> Int {
    let floorCount = try slidingWindowCount(
        extent: extent + before + after, kernel: kernel, stride: stride, dilation: dilation, op: op, what: what)
    guard ceilMode else { return floorCount }
    let span = dilation * (kernel - 1) + 1
    let remainder = (extent + before + after - span) % stride
    var count = floorCount + (remainder == 0 ? 0 : 1)
    if (count - 1) * stride >= extent + before { count -= 1 }
    return count
}

// MARK: - Descriptor

/// The pooling family (Kernels/pool2d.cl, `OpenCLBackend+Pool2D`, `ReferenceMath+Pool2D`).
public enum Pool2DOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        Pool2DCase(.max, input: [2, 3, 8, 10], Pool2DParameters(kernel: Size2D(2))),
        // Tiled windows (kernel = stride) over sizes they do not divide: the last rows and columns belong to none.
        Pool2DCase(.max, input: [1, 2, 7, 9], Pool2DParameters(kernel: Size2D(2))),
        Pool2DCase(.max, input: [2, 2, 11, 8], Pool2DParameters(kernel: Size2D(3))),
        Pool2DCase(.max, input: [1, 4, 11, 8],
                   Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true)),
        Pool2DCase(.max, input: [2, 2, 14, 12], Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), ceilMode: true)),
        // Rows wide enough for runs of 8 vector outputs between the padded edges: ResNet's 3×3 stride-2 pool, and
        // stride 1.
        Pool2DCase(.max, input: [2, 3, 9, 40], Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1))),
        Pool2DCase(.max, input: [1, 2, 6, 21], Pool2DParameters(kernel: Size2D(3), stride: Size2D(1), padding: Padding2D(1))),
        Pool2DCase(.max, input: [1, 3, 9, 9],
                   Pool2DParameters(kernel: Size2D(3), stride: Size2D(1), padding: Padding2D(1), dilation: Size2D(2))),
        Pool2DCase(.max, input: [1, 2, 7, 9],
                   Pool2DParameters(kernel: Size2D(2), padding: Padding2D(top: 0, left: 0, bottom: 1, right: 1))),
        Pool2DCase(.average, input: [2, 3, 8, 10], Pool2DParameters(kernel: Size2D(2))),
        Pool2DCase(.average, input: [1, 4, 9, 7], Pool2DParameters(kernel: Size2D(3), stride: Size2D(1), padding: Padding2D(1))),
        Pool2DCase(.average, input: [1, 3, 9, 8],
                   Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true,
                                    countIncludePad: false)),
        Pool2DCase(.average, input: [2, 2, 9, 8],
                   Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true)),
        GlobalAvgPool2DCase(input: [2, 5, 7, 9]),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = [
        Pool2DCase(.max, input: [1, 2, 6, 6], Pool2DParameters(kernel: Size2D(2))),
        Pool2DCase(.max, input: [1, 2, 7, 8],
                   Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true)),
        Pool2DCase(.max, input: [1, 1, 7, 7],
                   Pool2DParameters(kernel: Size2D(3), stride: Size2D(1), padding: Padding2D(1), dilation: Size2D(2))),
        Pool2DCase(.average, input: [1, 2, 6, 5], Pool2DParameters(kernel: Size2D(2))),
        Pool2DCase(.average, input: [1, 2, 7, 6],
                   Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true)),
        Pool2DCase(.average, input: [1, 2, 7, 6],
                   Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true,
                                    countIncludePad: false)),
        GlobalAvgPool2DCase(input: [2, 3, 4, 5]),
    ]
}

/// Max or average pooling of one input. Max pooling's forward also reports its argmax, compared exactly.
public struct Pool2DCase: DifferentiableOpCase {
    public let geometry: Pool2DGeometry

    init(_ kind: PoolKind, input: TensorShape, _ parameters: Pool2DParameters) {
        geometry = try! Pool2DGeometry(kind, input: input, parameters: parameters)
    }

    public var op: String { geometry.kind.rawValue }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String {
        let p = geometry.parameters
        var text = "x\(geometry.input) k\(p.kernel) s\(p.stride) p\(p.padding)"
        if p.dilation != Size2D(1) { text += " d\(p.dilation)" }
        if p.ceilMode { text += " ceil" }
        return text + (geometry.kind == .average ? (p.countIncludePad ? " incl-pad" : " excl-pad") : "")
    }
    public var inputShapes: [TensorShape] { [geometry.input] }
    public var inputNames: [String] { ["input"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        try pooled(inputs[0], on: backend).output
    }

    /// The output and, for max pooling, the argmax.
    private func pooled<B: Backend>(_ input: B.Tensor, on backend: B) throws -> (output: B.Tensor, argmax: B.IndexTensor?) {
        let output = try backend.makeTensor(geometry.output)
        guard geometry.kind == .max else {
            try backend.avgPool2dForward(input: input, output: output, parameters: geometry.parameters)
            return (output, nil)
        }
        let argmax = try backend.makeIndexTensor(geometry.output)
        try backend.maxPool2dForward(input: input, output: output, argmax: argmax, parameters: geometry.parameters)
        return (output, argmax)
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(geometry.input)
        if let argmax = try pooled(inputs[0], on: backend).argmax {
            try backend.maxPool2dBackward(gradOutput: gradOutput, argmax: argmax, gradInput: gradInput,
                                          parameters: geometry.parameters)
        } else {
            try backend.avgPool2dBackward(gradOutput: gradOutput, gradInput: gradInput, parameters: geometry.parameters)
        }
        return [0: gradInput]
    }

    /// As a differentiable case, plus max pooling's argmax on the forward pass.
    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        guard direction == .forward, geometry.kind == .max else { return try runDifferentiable(direction, on: backend, seed: seed) }
        var random = SeededGenerator(seed: seed)
        let input = try backend.upload(HostTensor(shape: geometry.input, values: input(0, using: &random)))
        let (output, argmax) = try pooled(input, on: backend)
        return [ParityOutput(name: "output", values: try backend.download(output).values),
                ParityOutput(name: "argmax", values: try backend.downloadIndices(argmax!).map(Float.init), exact: true)]
    }
}

/// N×C×H×W → N×C×1×1.
public struct GlobalAvgPool2DCase: DifferentiableOpCase {
    public let input: TensorShape

    init(input: TensorShape) { self.input = input }

    public var op: String { "global_avg_pool2d" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(input)" }
    public var inputShapes: [TensorShape] { [input] }
    public var inputNames: [String] { ["input"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor([input[0], input[1], 1, 1])
        try backend.globalAvgPool2dForward(input: inputs[0], output: output)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(input)
        try backend.globalAvgPool2dBackward(gradOutput: gradOutput, gradInput: gradInput)
        return [0: gradInput]
    }
}

// MARK: - Cost

extension Pool2DGeometry {
    private var windowTaps: Int { output.count * parameters.kernel.height * parameters.kernel.width }

    /// Max: one comparison per tap, plus the argmax written. Average: one addition per tap and one division.
    public var forwardCost: OpCost {
        switch kind {
        case .max: OpCost(flops: windowTaps, bytes: OpCost.traffic(input.count, output.count, output.count))
        case .average: OpCost(flops: windowTaps + output.count, bytes: OpCost.traffic(input.count, output.count))
        }
    }

    /// Max: the argmax routes each gradient (one addition each). Average: a division and addition per tap.
    public var backwardCost: OpCost {
        switch kind {
        case .max: OpCost(flops: output.count, bytes: OpCost.traffic(output.count, output.count, input.count))
        case .average: OpCost(flops: 2 * windowTaps, bytes: OpCost.traffic(output.count, input.count))
        }
    }
}

extension OpCost {
    /// Global average pooling of `input`: one addition per element and a division per plane; backward one
    /// division per element.
    public static func globalAvgPool2d(input: TensorShape, backward: Bool) -> OpCost {
        let planes = input[0] * input[1]
        return OpCost(flops: input.count + (backward ? 0 : planes), bytes: OpCost.traffic(input.count, planes))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func maxPool2dForward(
        input: Tensor, output: Tensor, argmax: IndexTensor, parameters: Pool2DParameters
    ) throws {
        let checked = Checked(try checkPool2d(
            .max, input: input.shape, output: output.shape, argmax: argmax.shape, parameters: parameters))
        try maxPool2dForward(checked, input: input, output: output, argmax: argmax, parameters: parameters)
    }

    public func maxPool2dBackward(
        gradOutput: Tensor, argmax: IndexTensor, gradInput: Tensor, parameters: Pool2DParameters
    ) throws {
        let checked = Checked(try checkPool2d(
            .max, input: gradInput.shape, output: gradOutput.shape, argmax: argmax.shape, parameters: parameters))
        try maxPool2dBackward(
            checked, gradOutput: gradOutput, argmax: argmax, gradInput: gradInput, parameters: parameters)
    }

    public func avgPool2dForward(input: Tensor, output: Tensor, parameters: Pool2DParameters) throws {
        let checked = Checked(try checkPool2d(
            .average, input: input.shape, output: output.shape, parameters: parameters))
        try avgPool2dForward(checked, input: input, output: output, parameters: parameters)
    }

    public func avgPool2dBackward(gradOutput: Tensor, gradInput: Tensor, parameters: Pool2DParameters) throws {
        let checked = Checked(try checkPool2d(
            .average, input: gradInput.shape, output: gradOutput.shape, parameters: parameters))
        try avgPool2dBackward(checked, gradOutput: gradOutput, gradInput: gradInput, parameters: parameters)
    }

    public func globalAvgPool2dForward(input: Tensor, output: Tensor) throws {
        let checked = Checked(try checkGlobalAvgPool2d(input: input.shape, output: output.shape))
        try globalAvgPool2dForward(checked, input: input, output: output)
    }

    public func globalAvgPool2dBackward(gradOutput: Tensor, gradInput: Tensor) throws {
        let checked = Checked(try checkGlobalAvgPool2d(input: gradInput.shape, output: gradOutput.shape))
        try globalAvgPool2dBackward(checked, gradOutput: gradOutput, gradInput: gradInput)
    }
}

// MARK: - Shape checks

extension Backend {
    func checkPool2d(
        _ kind: PoolKind, input: TensorShape, output: TensorShape, argmax: TensorShape? = nil,
        parameters: Pool2DParameters
    ) throws -> Pool2DGeometry {
        let geometry = try Pool2DGeometry(kind, input: input, parameters: parameters)
        try output.require(geometry.output, "output", of: kind.rawValue)
        try argmax?.require(geometry.output, "argmax", of: kind.rawValue)
        return geometry
    }

    func checkGlobalAvgPool2d(input: TensorShape, output: TensorShape) throws -> TensorShape {
        try input.requireNCHW("input", of: "global_avg_pool2d")
        try output.require([input[0], input[1], 1, 1], "output", of: "global_avg_pool2d")
        return input
    }
}
