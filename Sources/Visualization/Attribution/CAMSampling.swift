/// How the sampled CAM methods draw their samples: SS-CAM's noisy masks, IS-CAM's integration steps and Smooth
/// Grad-CAM++'s noisy inputs (torch-cam's parameters and defaults).
public struct CAMSampling: Sendable {
    /// Samples (SS-CAM, Smooth Grad-CAM++) or integration steps (IS-CAM); nil: torch-cam's default, 35, 4 or 10.
    public var samples: Int?
    /// The standard deviation of the Gaussian noise, added to each normalized mask (SS-CAM) or to the input (Smooth
    /// Grad-CAM++); nil: torch-cam's default, 2 or 0.3.
    public var noise: Float?
    /// The noise stream (`SeededGenerator`): the same seed gives the same bytes.
    public var seed: UInt64 = 0

    public init(samples: Int? = nil, noise: Float? = nil, seed: UInt64 = 0) {
        (self.samples, self.noise, self.seed) = (samples, noise, seed)
    }

    /// These settings, or `VisualizationError.badSetting` naming the option out of range.
    public func validated() throws -> Self {
        if let samples, !(1...10_000).contains(samples) {
            throw VisualizationError.badSetting("--samples must be from 1 to 10000, got \(samples)")
        }
        if let noise, !(noise.isFinite && noise >= 0) {
            throw VisualizationError.badSetting("--noise must be a finite number ≥ 0, got \(noise)")
        }
        return self
    }

    /// The sample count `method` runs.
    public func samples(for method: CAMMethod) -> Int {
        samples ?? (method == .ssCAM ? 35 : method == .smoothGradCAMPlusPlus ? 4 : 10)
    }

    /// The noise's standard deviation for `method`.
    public func noise(for method: CAMMethod) -> Float { noise ?? (method == .smoothGradCAMPlusPlus ? 0.3 : 2) }
}
