import OpenCLRuntime
import TensorOps

/// A `ConvEpilogue` as the product kernels take it (Kernels/epilogue.h): two defines, and three trailing arguments
/// (the residual buffer, laid out as the output, and the activation's parameters).
struct KernelEpilogue {
    let epilogue: ConvEpilogue
    let residual: DeviceBuffer?

    static let none = KernelEpilogue(epilogue: .none, residual: nil)

    /// epilogue.h's activation code and its parameters a and b.
    private var activation: (code: Int, a: Float, b: Float) {
        switch epilogue.activation {
        case nil: (0, 0, 0)
        case .relu: (1, 0, 0)
        case .leakyReLU(let alpha): (2, alpha, 0)
        case .clip(let low, let high): (3, low, high)
        case .hardSwish: (4, 0, 0)
        case .silu: (5, 0, 0)
        case let other?: preconditionFailure("\(other) is not an epilogue activation (ConvEpilogue.canApply)")
        }
    }

    /// None without an epilogue, so plain launches keep the programs (and cache entries) they had.
    var defines: [(String, Int)] {
        epilogue.isNone ? [] : [("EPILOGUE", activation.code), ("EPILOGUE_RESIDUAL", residual == nil ? 0 : 1)]
    }

    var arguments: [KernelArgument] {
        [residual.map { .buffer($0) } ?? .null, .float(activation.a), .float(activation.b)]
    }

    /// Floating-point operations per stored element, for the profiler.
    var flopsPerElement: Int { (residual == nil ? 0 : 1) + (epilogue.activation == nil ? 0 : 1) }
}
