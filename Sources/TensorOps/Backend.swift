/// A tensor living wherever its backend computes: device memory for OpenCL, an array for the reference.
public protocol BackendTensor: AnyObject {
    var shape: TensorShape { get }
}

/// Where the ops run. ConvLens has two: the OpenCL device (the product) and the plain-Swift reference (the
/// specification). Models, visualizations and parity checks are written once, generic over `Backend`.
///
/// Conventions for every op:
/// - float32, NCHW, PyTorch semantics;
/// - callers use each op's front door (`extension Backend` beside its family's descriptor: `Conv2D.swift`, …),
///   which checks the shapes once, through the shared geometry types, and throws `ShapeError` naming them; the
///   requirements below, which backends implement, take that check's `Checked` proof first, so no backend computes
///   on unchecked shapes;
/// - results go into caller-provided tensors (overwritten, never accumulated), so callers allocate once and
///   reuse buffers across calls;
/// - ops are queued in order and nothing waits for the device until `download`.
public protocol Backend: AnyObject {
    associatedtype Tensor: BackendTensor
    /// Integer tensors, for max-pool argmax (flat index `h·W + w` within the input plane).
    associatedtype IndexTensor: BackendTensor

    /// What the backend runs on, for reports: e.g. `opencl: NVIDIA H100` or `cpu reference`.
    var name: String { get }
    /// Bytes of memory tensors can use, when the backend has such a limit (a device's global memory).
    var memoryCapacity: Int? { get }

    // MARK: Memory

    /// A zero-filled tensor.
    func makeTensor(_ shape: TensorShape) throws -> Tensor
    func makeIndexTensor(_ shape: TensorShape) throws -> IndexTensor
    func upload(_ host: HostTensor) throws -> Tensor
    /// An integer tensor holding `values` (compressed-row offsets and columns, for t-SNE's affinities).
    func uploadIndices(_ values: [Int32], shape: TensorShape) throws -> IndexTensor
    /// `upload` for a model's weight or other constant, which no op will write to (only `write(_:into:)` may
    /// replace its contents): a backend may keep forms derived from it, such as a transposed copy, across calls.
    func uploadConstant(_ host: HostTensor) throws -> Tensor
    /// Copies `host` into an existing tensor of the same shape (reusing its memory).
    func write(_ host: HostTensor, into tensor: Tensor) throws
    /// Waits for every queued op, then copies the tensor to the host.
    func download(_ tensor: Tensor) throws -> HostTensor
    func downloadIndices(_ tensor: IndexTensor) throws -> [Int32]
    /// The same elements under another shape of equal count, sharing storage (Flatten, Reshape): writing through
    /// one is visible through the other.
    func reshaped(_ tensor: Tensor, to shape: TensorShape) throws -> Tensor
    /// Copies `count` elements of `source` from element `sourceOffset` into `destination` at
    /// `destinationOffset`, on the device (an image out of a batch, a run of masks), in queue order.
    func copyElements(_ source: Tensor, from sourceOffset: Int, into destination: Tensor, at destinationOffset: Int,
                      count: Int) throws

    // MARK: Convolution (weight Cout×Cin/groups×KH×KW, optional bias Cout)

    /// Runs `body` with every convolution pass that `algorithm` supports computed by it, the rest as the backend
    /// plans them (`convlens verify` checks each algorithm's kernels this way). A backend with one way to convolve
    /// runs `body` as it is.
    func withConvAlgorithm<T>(_ algorithm: ConvAlgorithm, _ body: () throws -> T) throws -> T

    /// `output = activation(conv(input, weight) + bias + residual)` as `epilogue` says (`ConvEpilogue`); `residual`
    /// (the output's shape) is given exactly when the epilogue adds one.
    func conv2dForward(
        _ checked: Checked<Conv2DGeometry>, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor,
        parameters: Conv2DParameters, epilogue: ConvEpilogue, residual: Tensor?
    ) throws
    /// `gradInput = ∂L/∂input` given `gradOutput = ∂L/∂output`.
    func conv2dBackwardInput(
        _ checked: Checked<Conv2DGeometry>, gradOutput: Tensor, weight: Tensor, gradInput: Tensor,
        parameters: Conv2DParameters
    ) throws
    /// `gradWeight = ∂L/∂weight`, and `gradBias = Σ_{n,h,w} gradOutput` when asked for.
    func conv2dBackwardWeight(
        _ checked: Checked<Conv2DGeometry>, gradOutput: Tensor, input: Tensor, gradWeight: Tensor,
        gradBias: Tensor?, parameters: Conv2DParameters
    ) throws

    // MARK: Pooling

    /// Max pooling that also records, per output, the flat in-plane index of the winning input (first maximum
    /// in scan order on ties).
    func maxPool2dForward(
        _ checked: Checked<Pool2DGeometry>, input: Tensor, output: Tensor, argmax: IndexTensor,
        parameters: Pool2DParameters
    ) throws
    /// Routes each output gradient to its recorded argmax, summing where windows overlap.
    func maxPool2dBackward(
        _ checked: Checked<Pool2DGeometry>, gradOutput: Tensor, argmax: IndexTensor, gradInput: Tensor,
        parameters: Pool2DParameters
    ) throws
    func avgPool2dForward(
        _ checked: Checked<Pool2DGeometry>, input: Tensor, output: Tensor, parameters: Pool2DParameters
    ) throws
    func avgPool2dBackward(
        _ checked: Checked<Pool2DGeometry>, gradOutput: Tensor, gradInput: Tensor, parameters: Pool2DParameters
    ) throws
    /// N×C×H×W → N×C×1×1 mean over each plane.
    func globalAvgPool2dForward(_ checked: Checked<TensorShape>, input: Tensor, output: Tensor) throws
    func globalAvgPool2dBackward(_ checked: Checked<TensorShape>, gradOutput: Tensor, gradInput: Tensor) throws

    // MARK: Activations (any shape)

    func activationForward(
        _ checked: Checked<TensorShape>, _ activation: Activation, input: Tensor, output: Tensor
    ) throws
    /// The derivative is taken at `input` (the forward's input, not its output).
    func activationBackward(
        _ checked: Checked<TensorShape>, _ activation: Activation, input: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws
    /// A ReLU's backward pass under `rule` (`.standard` is `activationBackward(.relu, …)`).
    func reluBackward(
        _ checked: Checked<TensorShape>, _ rule: ReLUGradient, input: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws

    // MARK: Linear (input N×In, weight Out×In, bias Out)

    func linearForward(
        _ checked: Checked<LinearGeometry>, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor
    ) throws
    func linearBackwardInput(
        _ checked: Checked<LinearGeometry>, gradOutput: Tensor, weight: Tensor, gradInput: Tensor
    ) throws
    func linearBackwardWeight(
        _ checked: Checked<LinearGeometry>, gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?
    ) throws

    /// The sum, mean or maximum over a run of adjacent axes (`ReduceGeometry`).
    func reduceForward(_ checked: Checked<ReduceGeometry>, _ op: Reduction, input: Tensor, output: Tensor) throws
    /// ∂L/∂input of a reduction: ∂L/∂output spread over the reduced axes (a mean's divided by their size, a maximum's
    /// to the elements equal to `output`, split evenly among ties).
    func reduceBackward(
        _ checked: Checked<ReduceGeometry>, _ op: Reduction, input: Tensor, output: Tensor, gradOutput: Tensor,
        gradInput: Tensor
    ) throws

    /// Batched matrix product of two computed tensors (`MatMulGeometry`).
    func matmulForward(_ checked: Checked<MatMulGeometry>, a: Tensor, b: Tensor, output: Tensor) throws
    /// dA = dC·Bᵀ and dB = Aᵀ·dC per product, summed over the batch for an operand the batch shares.
    func matmulBackward(
        _ checked: Checked<MatMulGeometry>, a: Tensor, b: Tensor, gradOutput: Tensor, gradA: Tensor?, gradB: Tensor?
    ) throws

    // MARK: Element-wise

    /// `output = a ∘ b` with NumPy broadcasting (ranks ≤ 4). `output` may be the same tensor as `a` or `b` when
    /// it has that operand's shape.
    func binaryForward(
        _ checked: Checked<BroadcastGeometry>, _ op: BinaryOp, _ a: Tensor, _ b: Tensor, output: Tensor
    ) throws
    /// The gradients of `a ∘ b` for each operand that is asked for, summed over the axes that operand was
    /// broadcast along. `a` and `b` are the forward operands (Mul's gradient needs them).
    func binaryBackward(
        _ checked: Checked<BroadcastGeometry>, _ op: BinaryOp, a: Tensor, b: Tensor, gradOutput: Tensor,
        gradA: Tensor?, gradB: Tensor?
    ) throws
    /// `output[n,c,…] = input[n,c,…] · scale[c] + shift[c]`: inference BatchNormalization, rank ≥ 2, channel axis 1.
    func channelAffineForward(
        _ checked: Checked<TensorShape>, input: Tensor, scale: Tensor, shift: Tensor, output: Tensor
    ) throws
    func channelAffineBackward(
        _ checked: Checked<TensorShape>, gradOutput: Tensor, scale: Tensor, gradInput: Tensor
    ) throws
    /// Softmax over one axis (`SoftmaxGeometry`).
    func softmaxForward(_ checked: Checked<SoftmaxGeometry>, input: Tensor, output: Tensor) throws
    /// `gradInput = y · (gradOutput − Σ gradOutput·y)` per row, from the forward's output `y`.
    func softmaxBackward(_ checked: Checked<SoftmaxGeometry>, output: Tensor, gradOutput: Tensor, gradInput: Tensor) throws

    // MARK: Layout

    /// Concatenates NCHW inputs along channels.
    func concatForward(_ checked: Checked<ConcatGeometry>, _ inputs: [Tensor], output: Tensor) throws
    /// Splits `gradOutput` back into the inputs' channel ranges.
    func concatBackward(_ checked: Checked<ConcatGeometry>, gradOutput: Tensor, gradInputs: [Tensor]) throws
    /// Surrounds each H×W plane with `value` (ONNX Pad, constant mode).
    func pad2dForward(
        _ checked: Checked<Pad2DGeometry>, input: Tensor, output: Tensor, padding: Padding2D, value: Float
    ) throws
    /// The interior of `gradOutput`: the gradient of `pad2dForward`.
    func pad2dBackward(
        _ checked: Checked<Pad2DGeometry>, gradOutput: Tensor, gradInput: Tensor, padding: Padding2D
    ) throws
    /// Output axis `i` is input axis `permutation[i]` (ONNX Transpose, Gemm's transA). Its own backward: the
    /// inverse permutation of the gradient.
    func permute(_ checked: Checked<PermuteGeometry>, input: Tensor, output: Tensor) throws
    /// The elements a strided slice selects (`SliceGeometry`: ONNX Slice, Split, Gather of evenly spaced indices).
    func sliceForward(_ checked: Checked<SliceGeometry>, input: Tensor, output: Tensor) throws
    /// ∂L/∂input of a slice: the output gradient at the selected positions, zero elsewhere.
    func sliceBackward(_ checked: Checked<SliceGeometry>, gradOutput: Tensor, gradInput: Tensor) throws

    // MARK: Visualization (image parameterizations, transforms, regularizers, optimizers)

    /// Inverse real 2-D DFT per plane (numpy.fft.irfft2): spectra N×C×H×2F → images N×C×H×W. `scratch`
    /// (`SpectrumGeometry.scratch`, N×C×H×4F) holds the intermediate column transform.
    func irfft2Forward(_ checked: Checked<SpectrumGeometry>, spectrum: Tensor, scratch: Tensor, output: Tensor) throws
    /// The adjoint of `irfft2Forward`: ∂L/∂spectrum from ∂L/∂image.
    func irfft2Backward(
        _ checked: Checked<SpectrumGeometry>, gradOutput: Tensor, scratch: Tensor, gradSpectrum: Tensor
    ) throws
    /// MaCo's spectrum: `spectrum[…, 2k] = M·cos φ`, `spectrum[…, 2k + 1] = M·sin φ`, for phases N×C×H×F and one
    /// magnitude table 1×C×H×F for the batch (`PolarSpectrumGeometry`).
    func polarSpectrumForward(
        _ checked: Checked<PolarSpectrumGeometry>, magnitude: Tensor, phase: Tensor, spectrum: Tensor
    ) throws
    /// ∂L/∂φ = M·(cos φ·∂L/∂im − sin φ·∂L/∂re).
    func polarSpectrumBackward(
        _ checked: Checked<PolarSpectrumGeometry>, magnitude: Tensor, phase: Tensor, gradSpectrum: Tensor,
        gradPhase: Tensor
    ) throws
    /// Each row (`StandardizeGeometry`) standardized over its elements: (x − mean) / s, std the population standard
    /// deviation σ and s = σ + ε (tf.math.reduce_std, as MaCo uses it) or √(σ² + ε) (ONNX's normalizations).
    func standardizeForward(
        _ checked: Checked<StandardizeGeometry>, input: Tensor, output: Tensor, epsilon: StandardizeEpsilon
    ) throws
    /// ∂L/∂x of `standardizeForward` at `input`: (g − mean g)/s − (x − μ)·Σ g·(x − μ) · s′ / (n·σ·s²), where
    /// s′ = ds/dσ is 1 for σ + ε and σ/s for √(σ² + ε).
    func standardizeBackward(
        _ checked: Checked<StandardizeGeometry>, input: Tensor, gradOutput: Tensor, gradInput: Tensor,
        epsilon: StandardizeEpsilon
    ) throws
    /// `accumulator += |gradient|` elementwise (MaCo's transparency map).
    func accumulateAbsolute(_ checked: Checked<TensorShape>, _ gradient: Tensor, into accumulator: Tensor) throws
    /// Bilinear resampling of each image through its own `AffineMap` (`maps`: (N·K)×6, `AffineMap.values` order):
    /// output image n·K + k (of size OH×OW, pixel positions taken from its centre) reads input image n (positions
    /// from its centre); positions outside the input read `fill`. K = 1 transforms each image; K > 1 takes K crops.
    func affineResampleForward(
        _ checked: Checked<AffineResampleGeometry>, input: Tensor, maps: Tensor, output: Tensor, fill: Float
    ) throws
    /// ∂L/∂input of `affineResampleForward`, gathered over output pixels within `reach` (the largest
    /// `AffineMap.reach` of the batch) of each input pixel's preimage.
    func affineResampleBackward(
        _ checked: Checked<AffineResampleGeometry>, gradOutput: Tensor, maps: Tensor, gradInput: Tensor, reach: Int
    ) throws
    /// `output = gradient − ∂/∂image (l2·Σ(x − ½)² + tv·Σ|x[h,w+1] − x[h,w]| + |x[h+1,w] − x[h,w]|)`, the
    /// ascent direction once the image regularizers are subtracted. `output` may be `gradient`.
    func imagePenaltyBackward(
        _ checked: Checked<TensorShape>, image: Tensor, gradient: Tensor, output: Tensor, l2: Float, tv: Float
    ) throws
    /// `output = gradient − ∂R/∂image` for Mahendran & Vedaldi's α-norm and total-variation priors R about
    /// `center` (one value per channel; see `NaturalImagePrior`). `output` may be `gradient`.
    func naturalPriorBackward(
        _ checked: Checked<TensorShape>, image: Tensor, center: Tensor, gradient: Tensor, output: Tensor,
        prior: NaturalImagePrior
    ) throws
    /// `tensor[i] += scale · normal(firstNormal + i)` of `SeededGenerator(seed: seed)`'s normals, in place.
    func addSeededNormal(_ checked: Checked<TensorShape>, into tensor: Tensor, seed: UInt64, firstNormal: UInt64, scale: Float) throws
    /// One Adam ascent step, in place on `parameter` and the moment estimates; `step` counts from 1.
    func adamStep(
        _ checked: Checked<TensorShape>, parameter: Tensor, gradient: Tensor, firstMoment: Tensor,
        secondMoment: Tensor, step: Int, _ hyperparameters: AdamParameters
    ) throws
    /// `parameter += learningRate · gradient`.
    func sgdStep(_ checked: Checked<TensorShape>, parameter: Tensor, gradient: Tensor, learningRate: Float) throws
    /// Lucid's diversity term: `output = gradient − weight · ∂D/∂activation` with D the mean pairwise cosine
    /// similarity of the batch's channel Gram matrices (activation N×C×H×W). `scratch` is
    /// `DiversityGeometry.scratchShape`.
    func diversityBackward(
        _ checked: Checked<DiversityGeometry>, activation: Tensor, gradient: Tensor, output: Tensor, weight: Float,
        scratch: Tensor
    ) throws

    // MARK: Embeddings (t-SNE)

    /// Each point's `neighbors` nearest others by squared distance, nearest first, ties to the lower index.
    func nearestNeighbors(_ checked: Checked<NeighborGeometry>, points: Tensor, distances: Tensor, indices: IndexTensor) throws
    /// Perplexity-calibrated conditional probabilities of each row of squared distances.
    func perplexityAffinities(_ checked: Checked<TensorShape>, distances: Tensor, output: Tensor, perplexity: Float) throws
    /// t-SNE's exact forces on each point and the partial sums of its normalizer and (when asked) KL divergence.
    func tsneForces(
        _ checked: Checked<TSNEGeometry>, map: Tensor, rowStarts: IndexTensor, columns: IndexTensor, affinities: Tensor,
        forces: Tensor, partials: Tensor, divergence: Bool, exactRepulsion: Bool
    ) throws
    /// Barnes-Hut repulsion over a `MapQuadTree`: the repulsion rows of `forces` and row 0 of `partials`.
    func tsneTreeRepulsion(
        _ checked: Checked<TSNETreeGeometry>, map: Tensor, nodes: Tensor, links: IndexTensor, forces: Tensor,
        partials: Tensor, theta: Float
    ) throws
    /// One gains-and-momentum descent step of the map, in place.
    func tsneUpdate(
        _ checked: Checked<TensorShape>, map: Tensor, velocity: Tensor, gains: Tensor, forces: Tensor, sums: Tensor,
        _ step: TSNEStep
    ) throws

    // MARK: Class activation maps (forward only: a map is looked at, not differentiated)

    /// Channel weights N×K of a channel-weighing `rule` from activations and gradients N×K×h×w.
    func camChannelWeights(
        _ checked: Checked<CAMGeometry>, _ rule: CAMRule, activation: Tensor, gradient: Tensor, weights: Tensor
    ) throws
    /// `output[n, 0] = relu(Σ_k weights[n, k] · activation[n, k])`, N×1×h×w.
    func camWeightedSum(_ checked: Checked<CAMGeometry>, activation: Tensor, weights: Tensor, output: Tensor) throws
    /// `output[n, 0] = relu(Σ_k f(gradient[n, k]) ⊙ activation[n, k])` for a position-weighing `rule` (f = identity
    /// for HiRes-CAM, relu for Layer-CAM).
    func camPixelwiseSum(
        _ checked: Checked<CAMGeometry>, _ rule: CAMRule, activation: Tensor, gradient: Tensor, output: Tensor
    ) throws
    /// Eigen-CAM: per image, `relu(X·v)` for the activations X (positions × channels, centred per channel) and
    /// their first principal component v, signed so that v's entries sum to a positive number; N×1×h×w.
    func camPrincipalProjection(_ checked: Checked<CAMGeometry>, activation: Tensor, output: Tensor) throws
    /// Per image: `(x − min) / (max − min + epsilon)` (any shape, axis 0 = image); pytorch-grad-cam's
    /// `scale_cam_image` uses 1e−7, its Score-CAM 1e−8. `output` may be `input`.
    func minMaxNormalize(_ checked: Checked<TensorShape>, input: Tensor, output: Tensor, epsilon: Float) throws
    /// Every plane resized (`ResizeGeometry`, `ResizeMode`): bilinear with half-pixel centres or aligned corners,
    /// or nearest.
    func resizeForward(_ checked: Checked<ResizeGeometry>, input: Tensor, output: Tensor) throws
    /// ∂L/∂input of a resize: each input pixel gathers the output gradient of every output pixel that read it, by
    /// the weight it was read with.
    func resizeBackward(_ checked: Checked<ResizeGeometry>, gradOutput: Tensor, gradInput: Tensor) throws
    /// Colours `map` through `lut` and blends it over `image` (`OverlayGeometry`).
    func overlay(
        _ checked: Checked<OverlayGeometry>, map: Tensor, lut: Tensor, image: Tensor, alpha: Float, output: Tensor
    ) throws
    /// ROAD's linear imputation (`ImputationGeometry`): for every variant v and channel, the pixels its mask
    /// `known[v]` removes (0) become the solution of `x_i·Σ_j w_ij = Σ_j w_ij·x_j` over the in-bounds 8-neighbours j
    /// (removed neighbours' solutions, kept neighbours' values; w 1/6 side, 1/12 corner), the rest are copied from
    /// `image` (batch 1 serves every variant). Conjugate gradients to float32 precision on the device.
    func linearImputation(
        _ checked: Checked<ImputationGeometry>, image: Tensor, known: Tensor, output: Tensor, scratch: Tensor
    ) throws
}

extension Backend {
    public func withConvAlgorithm<T>(_ algorithm: ConvAlgorithm, _ body: () throws -> T) throws -> T { try body() }

    /// A backend that derives nothing from constants uploads them as any tensor.
    public func uploadConstant(_ host: HostTensor) throws -> Tensor { try upload(host) }
}

extension Backend {
    /// Throws unless every shape equals the first and is non-empty.
    @discardableResult
    func checkSameShapes(_ shapes: [TensorShape], roles: [String], of op: String) throws -> TensorShape {
        try shapes[0].requirePositive(roles[0], of: op)
        for (shape, role) in zip(shapes, roles).dropFirst() {
            try shape.require(shapes[0], role, of: op)
        }
        return shapes[0]
    }
}

/// Proof that an op's shapes passed its check: made only in TensorOps, by the op's front door (`extension Backend`
/// beside its family's descriptor), and required by every compute op of `Backend`, so no backend can compute on
/// unchecked shapes or check them differently. It carries what the check worked out (the op's geometry).
public struct Checked<Geometry: Sendable>: Sendable {
    public let geometry: Geometry

    init(_ geometry: Geometry) { self.geometry = geometry }
}
