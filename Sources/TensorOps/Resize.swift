/// How a resize maps output pixels to input pixels.
public enum ResizeMode: Hashable, Sendable, CustomStringConvertible {
    /// Bilinear, no antialiasing: half-pixel centres with the source clamped at 0 (PyTorch's
    /// `F.interpolate(mode="bilinear", align_corners=False)`, ONNX `half_pixel` / `pytorch_half_pixel`, OpenCV's
    /// `INTER_LINEAR` when enlarging), or with `alignCorners` the corner pixels' centres mapped onto each other.
    case bilinear(alignCorners: Bool)
    /// Nearest, source index ⌊output index · in / out⌋ (PyTorch's `mode="nearest"`, ONNX `asymmetric` with
    /// `nearest_mode="floor"`).
    case nearest

    /// The kernels' MODE define.
    public var code: Int {
        switch self {
        case .bilinear(let align): align ? 1 : 0
        case .nearest: 2
        }
    }

    public var description: String {
        switch self {
        case .bilinear(let align): align ? "bilinear, aligned corners" : "bilinear"
        case .nearest: "nearest"
        }
    }
}

/// Resizing the planes of an NCHW tensor (N and C unchanged) in one `ResizeMode`.
public struct ResizeGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let output: TensorShape
    public let mode: ResizeMode

    /// - Throws: `ShapeError` unless both are NCHW with equal N and C and positive sizes.
    public init(input: TensorShape, output: TensorShape, mode: ResizeMode) throws(ShapeError) {
        try input.requireNCHW("input", of: "resize")
        try output.requireNCHW("output", of: "resize")
        try input.requirePositive("input", of: "resize")
        try output.requirePositive("output", of: "resize")
        guard input[0] == output[0], input[1] == output[1] else {
            throw ShapeError(op: "resize", message: "input \(input) and output \(output) differ in N or C")
        }
        (self.input, self.output, self.mode) = (input, output, mode)
    }

    public var planes: Int { input[0] * input[1] }
}

// MARK: - Descriptor

/// The resize family (Kernels/resize.cl, `OpenCLBackend+Resize`, `ReferenceMath+Resize`): class activation maps
/// brought to the image's size, and ONNX Resize / Upsample in decoders and feature pyramids.
public enum ResizeOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        ResizeCase(input: [2, 1, 7, 7], output: [2, 1, 224, 224], .bilinear(alignCorners: false)),
        ResizeCase(input: [1, 3, 9, 8], output: [1, 3, 5, 13], .bilinear(alignCorners: false)),
        ResizeCase(input: [2, 4, 7, 6], output: [2, 4, 28, 19], .bilinear(alignCorners: true)),
        ResizeCase(input: [2, 3, 5, 4], output: [2, 3, 10, 8], .nearest),
        ResizeCase(input: [1, 2, 9, 7], output: [1, 2, 4, 11], .nearest),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = [
        ResizeCase(input: [1, 2, 3, 4], output: [1, 2, 7, 5], .bilinear(alignCorners: false)),
        ResizeCase(input: [1, 2, 5, 3], output: [1, 2, 3, 6], .bilinear(alignCorners: false)),
        ResizeCase(input: [1, 1, 4, 3], output: [1, 1, 6, 7], .bilinear(alignCorners: true)),
        ResizeCase(input: [1, 2, 3, 4], output: [1, 2, 6, 5], .nearest),
    ]
}

public struct ResizeCase: DifferentiableOpCase {
    public let geometry: ResizeGeometry

    init(input: TensorShape, output: TensorShape, _ mode: ResizeMode) {
        geometry = try! ResizeGeometry(input: input, output: output, mode: mode)
    }

    public var op: String { "resize" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(geometry.input) → \(geometry.output) \(geometry.mode)" }
    public var inputShapes: [TensorShape] { [geometry.input] }
    public var inputNames: [String] { ["input"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.resizeForward(input: inputs[0], output: output, mode: geometry.mode)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(geometry.input)
        try backend.resizeBackward(gradOutput: gradOutput, gradInput: gradInput, mode: geometry.mode)
        return [0: gradInput]
    }
}

// MARK: - Cost

extension ResizeGeometry {
    /// Three linear interpolations (two operations each) per output element; a copy for nearest.
    public var cost: OpCost {
        OpCost(flops: mode == .nearest ? 0 : 6 * output.count, bytes: OpCost.traffic(input.count, output.count))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func resizeForward(input: Tensor, output: Tensor, mode: ResizeMode) throws {
        let checked = Checked(try ResizeGeometry(input: input.shape, output: output.shape, mode: mode))
        try resizeForward(checked, input: input, output: output)
    }

    public func resizeBackward(gradOutput: Tensor, gradInput: Tensor, mode: ResizeMode) throws {
        let checked = Checked(try ResizeGeometry(input: gradInput.shape, output: gradOutput.shape, mode: mode))
        try resizeBackward(checked, gradOutput: gradOutput, gradInput: gradInput)
    }
}
