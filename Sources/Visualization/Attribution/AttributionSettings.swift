/// The gradient attribution methods of `convlens saliency`, with Captum's definitions.
public enum AttributionMethod: String, Sendable, CaseIterable {
    /// ∂score/∂input (Simonyan et al.), signed.
    case gradient
    /// input ⊙ ∂score/∂input.
    case inputXGradient = "input-x-gradient"
    /// The mean gradient over noisy copies of the input (Smilkov et al.).
    case smoothGrad = "smoothgrad"
    /// The gradient with guided-backpropagation ReLUs (only positive gradients through active units).
    case guidedBackprop = "guided-backprop"
    /// The gradient with deconvnet ReLUs (only positive gradients).
    case deconvnet
    /// Guided backpropagation weighted by the Grad-CAM map of the default layer, as pytorch-grad-cam's recipe.
    case guidedGradCAM = "guided-gradcam"
    /// (input − baseline) ⊙ the path integral of the gradient from a zero baseline, trapezoid rule.
    case integratedGradients = "integrated-gradients"
    /// The score's drop when a window of the input is set to zero, averaged over the windows covering each pixel.
    case occlusion
}

/// How an attribution runs.
public struct AttributionSettings: Sendable {
    public var method: AttributionMethod
    /// SmoothGrad: noisy copies, and the noise's standard deviation as a fraction of the input's value range.
    public var samples = 25
    public var noise: Float = 0.15
    /// Integrated gradients: points on the path, ends included (trapezoid rule).
    public var steps = 32
    /// Occlusion: the square window's side and its stride, in pixels.
    public var window = 8
    public var stride = 4
    /// Images per batched forward for the sampled methods (SmoothGrad, integrated gradients, occlusion).
    public var batch = 16
    public var seed: UInt64 = 0

    public init(method: AttributionMethod) { self.method = method }
}
