/// Every numerical tolerance ConvLens checks against, in one place, with the reason for each.
/// `convlens verify` and the test suites read them from here; never loosen one to make a check pass.
public enum Tolerance {
    /// Device vs reference, per op, as relative L2 error. The reference accumulates in Double and rounds once;
    /// a float32 kernel summing a few thousand products in a different order stays near 1e-7 relative, so
    /// 1e-5 leaves room for order effects while catching any indexing or boundary mistake (those show as 1e-2
    /// and up).
    public static let deviceVsReference = 1e-5

    /// Reference backward vs central finite differences, both in Double, on small shapes. The ops are linear
    /// or piecewise linear in each argument (inputs are kept away from kinks), so the differences are exact
    /// up to rounding, about 1e-10.
    public static let finiteDifference = 1e-6

    /// Reference (float32 storage) vs PyTorch float32 outputs for the same op, relative L2: both round the
    /// same exact result once or accumulate a handful of float32 roundings.
    public static let referenceVsPyTorch = 1e-5

    /// Whole-model forward vs onnxruntime, relative L2: errors of many layers compound.
    public static let modelVsONNXRuntime = 1e-4

    /// Input gradients of a whole model vs PyTorch autograd, relative L2.
    public static let inputGradientVsPyTorch = 1e-4

    /// A ReLU input closer to 0 than this fraction of its layer's RMS is a decision float32 arithmetic does not
    /// determine: a sum of a few hundred float32 products carries about 1e-6 relative error, so either side of
    /// the kink is a correct float32 result, and the input gradient flips with it (seen: the bundled model's
    /// digit 8 has a last-layer unit at 3.0e-7 in Double, −1.8e-7 on the device). A float32 gradient is compared
    /// with PyTorch's only on images without such a unit; the reference backend, in Double, on all.
    public static let reluDecisionMargin = 1e-5

    /// Class activation maps vs pytorch-grad-cam after identical normalization and resize, max absolute error
    /// on maps in [0, 1].
    public static let camVsPytorchGradCam = 1e-3

    /// t-SNE's joint probabilities vs scikit-learn's, relative L2: both bisect β in the same steps from the same
    /// float32 distances (the same comparisons, so the same final β); scikit-learn then evaluates exp in float64,
    /// the device in float32 relative to the row's nearest, a few ulps per entry.
    public static let tsneAffinitiesVsScikitLearn = 1e-5
}
