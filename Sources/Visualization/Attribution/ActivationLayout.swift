import TensorOps

/// How a layer's activation lays out positions and channels, and how to view it as N×C×h×w, the layout class
/// activation maps and feature sheets work in. A vision transformer's layers hold tokens; pytorch-grad-cam asks its
/// users for a `reshape_transform` that drops the class token and restores the grid, which this does from the shapes.
public enum ActivationLayout: Hashable, Sendable, CustomStringConvertible {
    /// N×C×h×w (CNNs).
    case nchw
    /// N×h×w×C (Swin, ConvNeXt's channels-last blocks).
    case nhwc
    /// N×(1+h·w)×C: a class token first, then h·w patch tokens row by row (ViT, DeiT).
    case classToken(height: Int, width: Int)
    /// N×(h·w)×C: patch tokens only.
    case tokens(height: Int, width: Int)

    public var description: String {
        switch self {
        case .nchw: "N×C×h×w"
        case .nhwc: "N×h×w×C"
        case .classToken(let h, let w): "N×(1+\(h)·\(w))×C tokens, class token first"
        case .tokens(let h, let w): "N×(\(h)·\(w))×C tokens"
        }
    }

    /// What the user asks for: `auto` detects the layout from the shape.
    public enum Choice: String, CaseIterable, Sendable {
        case auto, nchw, nhwc
        case classToken = "class-token"
        case tokens
    }

    /// The layout of an activation of `shape` under `choice`; `grid` (h, w) for tokens, square when nil.
    ///
    /// `auto`: rank 4 is N×C×h×w; rank 3 N×T×C holds tokens, on a square grid of T − 1 after a class token when
    /// T − 1 is a square, else of T.
    /// - Throws: `VisualizationError.badLayer` naming the layer when the shape fits no layout.
    public static func resolve(_ choice: Choice, grid: (height: Int, width: Int)? = nil, shape: TensorShape,
                               layer: String) throws -> ActivationLayout {
        func refuse(_ reason: String) -> VisualizationError {
            .badLayer(layer, reason: "has shape \(shape): \(reason)")
        }
        func tokenGrid(_ count: Int) -> (Int, Int)? {
            if let grid { return grid.height * grid.width == count ? (grid.height, grid.width) : nil }
            let side = Int(Double(count).squareRoot().rounded())
            return side * side == count && side > 1 ? (side, side) : nil
        }
        switch choice {
        case .auto where shape.rank == 4, .nchw where shape.rank == 4:
            return .nchw
        case .nhwc where shape.rank == 4:
            return .nhwc
        case .auto where shape.rank == 3:
            if let (h, w) = tokenGrid(shape[1] - 1) { return .classToken(height: h, width: w) }
            if let (h, w) = tokenGrid(shape[1]) { return .tokens(height: h, width: w) }
            throw refuse("its \(shape[1]) tokens form no square grid, with or without a class token; give --grid HxW")
        case .classToken where shape.rank == 3:
            guard let (h, w) = tokenGrid(shape[1] - 1) else {
                throw refuse("\(shape[1]) − 1 tokens do not fill the grid; give --grid HxW")
            }
            return .classToken(height: h, width: w)
        case .tokens where shape.rank == 3:
            guard let (h, w) = tokenGrid(shape[1]) else { throw refuse("\(shape[1]) tokens do not fill the grid; give --grid HxW") }
            return .tokens(height: h, width: w)
        default:
            throw refuse("layout \(choice.rawValue) needs rank \(choice == .nchw || choice == .nhwc ? 4 : 3), "
                + "and maps need an N×C×h×w activation or N×tokens×C")
        }
    }

    /// The N×C×h×w shape of an activation of `shape` in this layout.
    public func spatialShape(of shape: TensorShape) -> TensorShape {
        switch self {
        case .nchw: shape
        case .nhwc: [shape[0], shape[3], shape[1], shape[2]]
        case .classToken(let h, let w), .tokens(let h, let w): [shape[0], shape[2], h, w]
        }
    }

    /// `tensor` viewed as N×C×h×w on `backend`: the class token sliced off, the grid restored and channels moved
    /// first (pytorch-grad-cam's ViT and Swin `reshape_transform`), as device ops; `tensor` itself for N×C×h×w.
    public func spatial<B: Backend>(_ tensor: B.Tensor, on backend: B) throws -> B.Tensor {
        let shape = tensor.shape
        switch self {
        case .nchw:
            return tensor
        case .nhwc:
            let output = try backend.makeTensor(spatialShape(of: shape))
            try backend.permute(input: tensor, output: output, permutation: [0, 3, 1, 2])
            return output
        case .classToken(let h, let w), .tokens(let h, let w):
            var patches = tensor
            if case .classToken = self {
                patches = try backend.makeTensor([shape[0], h * w, shape[2]])
                try backend.sliceForward(input: tensor, output: patches, ranges: [
                    .whole(shape[0]), AxisRange(start: 1, count: h * w), .whole(shape[2]),
                ])
            }
            let output = try backend.makeTensor(spatialShape(of: shape))
            try backend.permute(input: try backend.reshaped(patches, to: [shape[0], h, w, shape[2]]), output: output,
                                permutation: [0, 3, 1, 2])
            return output
        }
    }
}
