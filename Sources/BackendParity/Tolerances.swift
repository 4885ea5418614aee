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

    /// Class activation maps vs pytorch-grad-cam after identical normalization and resize, max absolute error
    /// on maps in [0, 1].
    public static let camVsPytorchGradCam = 1e-3
}
