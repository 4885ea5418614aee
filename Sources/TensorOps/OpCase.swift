/// Which pass of an op a case runs.
public enum Direction: String, Sendable, CaseIterable {
    case forward
    case backward
    case backwardInput = "backward_input"
    case backwardWeight = "backward_weight"
    /// An optimizer update (no forward/backward distinction).
    case step
}

/// One result of running a case: a named output, and whether it must match exactly (indices) or within
/// tolerance (floats).
public struct ParityOutput: Sendable {
    public let name: String
    public let values: [Float]
    public let exact: Bool

    public init(name: String, values: [Float], exact: Bool = false) {
        self.name = name
        self.values = values
        self.exact = exact
    }
}

/// One instance of an op that `convlens verify`, the parity tests and the finite-difference tests run: its shapes
/// and parameters, and each of its passes on any backend from seeded inputs. Each op family's descriptor (its
/// `OpFamily` type, beside its geometry) lists its cases; `OpRegistry` lists the families. Case initializers are
/// internal and trap on shapes their op refuses: cases are constants written in the descriptors, where a bad one
/// fails every test that lists them.
public protocol OpCase: Sendable {
    /// The op name `convlens verify --op` filters by (e.g. `conv2d`, `relu`, `cam_weights`).
    var op: String { get }
    /// The passes this case runs.
    var directions: [Direction] { get }
    /// A compact description of the shapes and parameters, e.g. `x2×3×9×11 w8×3×3×3 s1 p1 +bias`.
    var shapeDescription: String { get }
    /// Runs `direction` on `backend` with inputs drawn from `seed` (the same seed gives the same inputs on every
    /// backend) and returns every output the pass produces.
    func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput]
    /// The convolution algorithms that compute `direction`, each run and compared on its own; empty for other ops.
    func convAlgorithms(_ direction: Direction) -> [ConvAlgorithm]
}

extension OpCase {
    public func convAlgorithms(_ direction: Direction) -> [ConvAlgorithm] { [] }
}

/// A case whose backward passes are gradients of its forward pass: one output from `inputs`, and the gradients
/// each backward direction computes. Parity runs come from these two functions, and so do the finite-difference
/// checks (`GradientCheck`), which compare every gradient with central differences of `forward` on the reference
/// backend in float64.
public protocol DifferentiableOpCase: OpCase {
    /// Every input the op reads, gradients flowing to some of them (an affine map or a magnitude table can be an
    /// input no gradient is asked for).
    var inputShapes: [TensorShape] { get }
    /// Names of the inputs, for reports (`grad_<name>`).
    var inputNames: [String] { get }
    /// Input `index`'s values: standard normal unless the op needs them elsewhere (away from a kink, positive, …).
    func input(_ index: Int, using random: inout SeededGenerator) -> [Float]
    /// The inputs uploaded as a model's constants (`Backend.uploadConstant`), whose derived forms a backend may
    /// keep: a weight, where a kernel path reads it packed or transposed once. None unless a case says so.
    var constantInputs: Set<Int> { get }
    func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor
    /// The gradients `direction` computes, by input index, given ∂L/∂output.
    func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
}

extension DifferentiableOpCase {
    public func input(_ index: Int, using random: inout SeededGenerator) -> [Float] {
        HostTensor.randomNormal(inputShapes[index], using: &random).values
    }

    public var constantInputs: Set<Int> { [] }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        try runDifferentiable(direction, on: backend, seed: seed)
    }

    /// `run` from `forward` and `gradients`: the forward output, or every gradient of a backward direction.
    public func runDifferentiable<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let inputs = try inputShapes.indices.map { index in
            let host = HostTensor(shape: inputShapes[index], values: input(index, using: &random))
            return try constantInputs.contains(index) ? backend.uploadConstant(host) : backend.upload(host)
        }
        let output = try forward(inputs, on: backend)
        guard direction != .forward else {
            return [ParityOutput(name: "output", values: try backend.download(output).values)]
        }
        let gradOutput = try backend.upload(.randomNormal(output.shape, using: &random))
        return try gradients(direction, inputs, gradOutput: gradOutput, on: backend).sorted { $0.key < $1.key }.map {
            ParityOutput(name: "grad_\(inputNames[$0.key])", values: try backend.download($0.value).values)
        }
    }
}

/// One op family's descriptor: the cases `convlens verify` and the parity tests run, and the (smaller) cases the
/// finite-difference tests check. Its shape checks, costs and geometry live in the same file.
public protocol OpFamily: Sendable {
    static var parityCases: [any OpCase] { get }
    static var gradientCases: [any DifferentiableOpCase] { get }
}

extension OpFamily {
    /// Differentiable parity cases small enough to difference numerically (up to 600 input elements).
    public static var gradientCases: [any DifferentiableOpCase] {
        parityCases.compactMap { $0 as? any DifferentiableOpCase }
            .filter { $0.inputShapes.reduce(0) { $0 + $1.count } <= 600 }
    }
}
