/// How a gradient-based class-activation-map method turns a layer's activations A and the gradients G of the
/// class score with respect to them (both N×K×h×w) into one map per image, as pytorch-grad-cam defines each.
public enum CAMRule: String, Sendable, CaseIterable {
    /// Grad-CAM: w_k = mean over positions of G_k; map = Σ_k w_k A_k.
    case gradCAM = "gradcam"
    /// Grad-CAM++: α = G² / (2G² + (Σ_positions A)·G³ + 10⁻⁶), 0 where G = 0; w_k = Σ_positions relu(G)·α.
    case gradCAMPlusPlus = "gradcam++"
    /// XGrad-CAM: w_k = Σ_positions G·A / (Σ_positions A + 10⁻⁷).
    case xGradCAM = "xgradcam"
    /// HiRes-CAM: map = Σ_k G_k ⊙ A_k (element-wise, no averaging).
    case hiResCAM = "hirescam"
    /// Layer-CAM: map = Σ_k relu(G_k) ⊙ A_k.
    case layerCAM = "layercam"

    /// pytorch-grad-cam's ε in the rule's denominator (Grad-CAM++ and XGrad-CAM), 0 for the others.
    public var epsilon: Float {
        switch self {
        case .gradCAMPlusPlus: 1e-6
        case .xGradCAM: 1e-7
        case .gradCAM, .hiResCAM, .layerCAM: 0
        }
    }

    /// Whether the rule weighs whole channels (`camChannelWeights` then `camWeightedSum`) rather than each
    /// position (`camPixelwiseSum`).
    public var weighsChannels: Bool {
        switch self {
        case .gradCAM, .gradCAMPlusPlus, .xGradCAM: true
        case .hiResCAM, .layerCAM: false
        }
    }
}

/// Shapes of the CAM ops: activations (and gradients) N×K×h×w, channel weights N×K, maps N×1×h×w.
public struct CAMGeometry: Hashable, Sendable {
    public let activation: TensorShape

    /// - Throws: `ShapeError` unless the activation is NCHW with positive sizes.
    public init(activation: TensorShape) throws(ShapeError) {
        try activation.requireNCHW("activation", of: "cam")
        try activation.requirePositive("activation", of: "cam")
        self.activation = activation
    }

    public var images: Int { activation[0] }
    public var channels: Int { activation[1] }
    public var positions: Int { activation[2] * activation[3] }
    public var weightShape: TensorShape { [images, channels] }
    public var mapShape: TensorShape { [images, 1, activation[2], activation[3]] }
}

/// Bilinear resizing of NCHW planes with half-pixel centres and edge clamping, no antialiasing: PyTorch's
/// `F.interpolate(mode="bilinear", align_corners=False)` and OpenCV's `INTER_LINEAR` when enlarging.
public struct ResizeGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let output: TensorShape

    /// - Throws: `ShapeError` unless both are NCHW with equal N and C and positive sizes.
    public init(input: TensorShape, output: TensorShape) throws(ShapeError) {
        try input.requireNCHW("input", of: "resize_bilinear")
        try output.requireNCHW("output", of: "resize_bilinear")
        try input.requirePositive("input", of: "resize_bilinear")
        try output.requirePositive("output", of: "resize_bilinear")
        guard input[0] == output[0], input[1] == output[1] else {
            throw ShapeError(op: "resize_bilinear", message: "input \(input) and output \(output) differ in N or C")
        }
        (self.input, self.output) = (input, output)
    }

    public var planes: Int { input[0] * input[1] }
}

/// A heat map coloured by a lookup table and laid over an image: `alpha · lut[⌊255·map⌋] + (1 − alpha) · image`
/// per pixel, map N×1×H×W in [0, 1], image and output N×3×H×W, lut 256×3 in [0, 1].
public struct OverlayGeometry: Hashable, Sendable {
    public let map: TensorShape

    public init(map: TensorShape, lut: TensorShape, image: TensorShape, output: TensorShape) throws(ShapeError) {
        try map.requireNCHW("map", of: "overlay")
        try map.requirePositive("map", of: "overlay")
        guard map[1] == 1 else { throw ShapeError(op: "overlay", message: "map \(map) must have one channel") }
        let rgb: TensorShape = [map[0], 3, map[2], map[3]]
        try image.require(rgb, "image", of: "overlay")
        try output.require(rgb, "output", of: "overlay")
        try lut.require([256, 3], "lut", of: "overlay")
        self.map = map
    }

    public var images: Int { map[0] }
    public var positions: Int { map[2] * map[3] }
}
