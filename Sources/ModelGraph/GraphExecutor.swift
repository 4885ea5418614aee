import TensorOps

/// Runs a `Graph` on a backend: weights uploaded once, every activation of the last forward pass kept and
/// addressable by name, and gradients from a seed at any value back to the input or any intermediate value.
///
/// Buffers are allocated per role and shape the first time they are needed and reused by later calls, so a
/// tensor returned by `forward`, `value(_:)` or `backward` holds its contents until the next call that writes
/// the same role.
public final class GraphExecutor<B: Backend> {
    /// The graph as planned for the last input shape (see `Graph.planned(for:)`).
    public private(set) var graph: Graph
    public let backend: B
    /// Weights and other constants on the backend, uploaded once (again only where another plan changes them).
    private(set) var constants: [String: B.Tensor] = [:]
    /// What each device constant holds, to see which ones another plan changes.
    private var uploaded: [String: HostTensor] = [:]
    /// Activations of the last forward pass (the input included), by value name.
    var values: [String: B.Tensor] = [:]
    /// Shapes of every value for the last forward pass's input.
    public internal(set) var shapes: [String: TensorShape] = [:]
    /// The input shape and target the current `shapes` were inferred for.
    private var shapesKey: (input: TensorShape, target: String?)?
    /// How `backward` passes gradients through ReLU nodes: `.guided` and `.deconvnet` give guided backpropagation
    /// and deconvnet attributions (Captum's rules); the forward pass is unchanged.
    public var reluGradient = ReLUGradient.standard
    /// Whether the guided and deconvnet rules also treat clips with a lower bound of 0 (ReLU6, as MobileNets and
    /// EfficientNet-Lite export it) as rectifiers: guided passes relu(dy) where 0 < x < max, deconvnet relu(dy).
    /// Off for attributions, which follow Captum (its rules hook `nn.ReLU` modules only, so on ReLU6 networks they
    /// give the plain gradient); on for Zeiler & Fergus projections, which rectify at every rectifier.
    public var modifiedRulesRectifyClips = false
    /// Whether `forward` runs as an output-only pass: activations and residual additions folded into the
    /// convolutions that feed them (`ConvEpilogue`), saving their launches and passes over memory, and the values
    /// it stores sharing buffers by lifetime (`BufferPlan`). For callers that read only the model's outputs: only
    /// those and the input are kept, so `backward` refuses such a pass and `value(_:)` refuses other values.
    /// Partial forwards (`forward(_:through:)`) are never output-only.
    public var outputOnly = false
    /// When set, a full forward pass that may be differentiated also folds residual additions, and the activations
    /// whose derivative their output gives (ReLU, clip, leaky ReLU: `ConvEpilogue.derivativeFollowsOutput`), into
    /// the convolutions before them, never folding away the values named here (resolved at the pass). For callers
    /// that read only those values and gradients (class activation maps, saliency): the convolution outputs and sums
    /// it folds are never stored, `value(_:)` refuses them, and `backward` takes the activations' derivatives at
    /// their outputs, with the same results bit for bit. Partial forwards (`forward(_:through:)`) never fold.
    public var foldsEpilogues: Set<String>?
    /// The last forward pass was output-only.
    var lastPassOutputOnly = false
    /// The folding and buffer sharing for the current `shapes`, made when first needed.
    var outputOnlyPlan: (epilogues: EpiloguePlan, buffers: BufferPlan)?
    /// The folding of a pass that may be differentiated, for the current `shapes` and the values it keeps.
    var gradientPassPlan: (keeping: Set<String>, epilogues: EpiloguePlan)?
    /// What the last forward pass folded (`foldsEpilogues`): empty when it folded nothing or was output-only.
    var lastPassFolding = EpiloguePlan()
    /// Prefixes the roles of the buffers a pass writes: a tail pass (`forwardOutput(from:replacedBy:image:)`) has
    /// its own, so the full pass's values and max-pool indices survive it for a later `backward` or `value(_:)`.
    var passRole = ""
    private var buffers: [String: B.Tensor] = [:]
    private var indexBuffers: [String: B.IndexTensor] = [:]

    /// Uploads the graph's constants to `backend`.
    public init(graph: Graph, backend: B) throws {
        self.graph = graph
        self.backend = backend
        try uploadConstants()
    }

    /// Uploads the constants of `graph` that are not on the device yet or hold other values.
    private func uploadConstants() throws {
        for (name, tensor) in graph.constants where uploaded[name] != tensor {
            constants[name] = try backend.uploadConstant(tensor)
            uploaded[name] = tensor
        }
    }

    /// The activation named `name` (a value or node name) from the last forward pass.
    /// - Throws: `ModelError.noSuchLayer` (with the nearest names) for an unknown name; `ExecutionError` before
    ///   any forward pass.
    public func value(_ name: String) throws -> B.Tensor {
        let resolved = try graph.resolve(name)
        guard let tensor = values[resolved] else {
            if lastPassOutputOnly { throw ExecutionError.notKept(resolved) }
            if lastPassFolding.skipped.contains(resolved) { throw ExecutionError.folded(resolved) }
            throw ExecutionError.noForwardPass
        }
        return tensor
    }

    /// Where node outputs are written: in an output-only pass the value's shared slot (viewed in its shape),
    /// otherwise the value's own buffer.
    func outputBuffer(_ value: String, _ shape: TensorShape) throws -> B.Tensor {
        guard lastPassOutputOnly, let plan = outputOnlyPlan?.buffers, let slot = plan.slots[value] else {
            return try buffer("value:\(value)", shape)
        }
        // Keyed by size too, so a pass at another batch size (Score-CAM's last chunk) keeps both sets.
        let count = plan.slotCounts[slot]
        return try backend.reshaped(try buffer("slot:\(slot):\(count)", [count]), to: shape)
    }

    /// A reusable tensor for `role`, reallocated only when the shape changes.
    func buffer(_ name: String, _ shape: TensorShape) throws -> B.Tensor {
        let role = passRole + name
        if let existing = buffers[role], existing.shape == shape { return existing }
        let tensor = try backend.makeTensor(shape)
        buffers[role] = tensor
        return tensor
    }

    func indexBuffer(_ name: String, _ shape: TensorShape) throws -> B.IndexTensor {
        let role = passRole + name
        if let existing = indexBuffers[role], existing.shape == shape { return existing }
        let tensor = try backend.makeIndexTensor(shape)
        indexBuffers[role] = tensor
        return tensor
    }

    /// A value read by a node: an activation of this pass or a constant.
    func operand(_ name: String) throws -> B.Tensor {
        if let tensor = values[name] ?? constants[name] { return tensor }
        throw ExecutionError.missingValue(name)
    }

    func shape(_ name: String) throws -> TensorShape {
        guard let shape = shapes[name] else { throw ExecutionError.missingValue(name) }
        return shape
    }

    /// Records the shapes for an input of `inputShape`, recomputing only when it changes.
    ///
    /// The batch is always free. The rank and the channel count must match the model's declaration; other
    /// sizes may differ where every node accepts them (a fully convolutional network runs at any image size,
    /// which filter visualization relies on), else shape inference names the node that cannot.
    func prepareShapes(for inputShape: TensorShape, through target: String? = nil) throws {
        if let key = shapesKey, key.input == inputShape, key.target == target { return }
        let expected = graph.input.dimensions
        let fits = inputShape.rank == expected.count
            && (expected.count < 2 || expected[1] == nil || expected[1] == inputShape[1])
        guard fits, inputShape.count > 0 else {
            throw ModelError.inputMismatch(expected: [nil] + expected.dropFirst(), got: inputShape, input: graph.input.name)
        }
        let planned = try graph.planned(for: inputShape)
        if planned.plannedInput != graph.plannedInput {
            graph = planned
            try uploadConstants()
        }
        shapes = try graph.inferShapes(input: inputShape, through: target)
        shapesKey = (inputShape, target)
        outputOnlyPlan = nil
        gradientPassPlan = nil
    }
}

/// Misuse of an executor.
public enum ExecutionError: Error, CustomStringConvertible, Sendable {
    case noForwardPass
    case missingValue(String)
    /// A value an output-only forward pass folded into an epilogue or wrote over.
    case notKept(String)
    /// A value a pass that keeps values for gradients folded into a convolution's store (`foldsEpilogues`).
    case folded(String)
    /// Gradients asked of a forward pass that folded epilogues.
    case backwardAfterFusedForward
    case seedShape(value: String, expected: TensorShape, got: TensorShape)
    /// A tail pass's replacement that is not the value's shape at its batch.
    case replacementShape(value: String, expected: TensorShape, got: TensorShape)
    /// A tail pass from a value the model's output does not depend on.
    case outputIndependent(of: String)
    /// A value of the forward pass holds NaN or an infinity: the first node (in execution order) whose output does,
    /// or "input" for the input itself.
    case nonFinite(node: String, opType: String, value: String, kind: String)
    /// The backend failed while running a node (the failure as the backend described it).
    case nodeFailed(node: String, opType: String, detail: String)

    public var description: String {
        switch self {
        case .nodeFailed(let node, let opType, let detail): "node '\(node)' (\(opType)): \(detail)"
        case .nonFinite(let node, let opType, let value, let kind):
            node == "input"
                ? "the input '\(value)' holds \(kind)"
                : "node '\(node)' (\(opType)) is the first to produce \(kind) (in '\(value)'): its inputs are finite, so "
                    + "its weights or its arithmetic are not (check the model's weights and the input's range)"
        case .noForwardPass: "no forward pass has run yet"
        case .missingValue(let name): "value '\(name)' has not been computed"
        case .notKept(let name):
            "value '\(name)' is not kept by an output-only forward pass: only the input and the "
                + "model's outputs are"
        case .folded(let name):
            "value '\(name)' was folded into a convolution's store by the last forward pass; name it among the "
                + "values the executor keeps (foldsEpilogues) to read it"
        case .backwardAfterFusedForward:
            "the last forward pass was output-only and kept no values to differentiate"
        case .seedShape(let value, let expected, let got): "the seed gradient for '\(value)' must be \(expected), got \(got)"
        case .replacementShape(let value, let expected, let got):
            "the replacement for '\(value)' must be \(expected) at its batch, got \(got)"
        case .outputIndependent(let value): "the model's output does not depend on '\(value)'"
        }
    }
}
