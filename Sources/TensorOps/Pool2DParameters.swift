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
        guard p.kernel.isPositive, p.stride.isPositive, p.dilation.isPositive else {
            throw ShapeError(
                op: op, message: "kernel \(p.kernel), stride \(p.stride), dilation \(p.dilation) must be positive")
        }
        guard kind == .max || p.dilation == Size2D(1) else {
            throw ShapeError(op: op, message: "average pooling has no dilation, got \(p.dilation)")
        }
        let pad = p.padding
        guard pad.isNonNegative, max(pad.top, pad.bottom) <= p.kernel.height / 2,
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
