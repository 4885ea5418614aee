import Foundation
import OpenCLRuntime
import TensorOps

/// A tensor in device memory: `Float` elements for data, `Int32` for max-pool argmax indices.
public final class OpenCLTensor<Element: BitwiseCopyable>: BackendTensor {
    public let shape: TensorShape
    public let buffer: DeviceBuffer

    init(shape: TensorShape, buffer: DeviceBuffer) {
        self.shape = shape
        self.buffer = buffer
    }
}

/// The OpenCL backend: every op is a kernel from Kernels/, queued in order on one device, with nothing read
/// back to the host until `download`.
///
/// `@unchecked Sendable`: its state is the `ComputeContext` (itself thread-safe), the resolved sources, the tuning and
/// the planner, which never change after `init`.
public final class OpenCLBackend: Backend, @unchecked Sendable {
    public typealias Tensor = OpenCLTensor<Float>
    public typealias IndexTensor = OpenCLTensor<Int32>

    /// Setting this variable to a folder makes the backend build kernels from the .cl files there instead of
    /// the copies embedded at build time, for kernel development without rebuilding.
    public static let kernelDirectoryVariable = "CONVLENS_KERNEL_DIR"

    public let context: ComputeContext
    /// Where the kernel sources came from: `embedded` or a folder.
    public let kernelOrigin: String
    /// Each .cl file with its includes resolved, once, so launches only look up the program cache.
    private let programs: [String: KernelSource]
    /// Setting this variable to an algorithm (`ConvAlgorithm`'s raw values) makes every convolution pass it supports
    /// run with it, whatever the planner would choose.
    public static let convAlgorithmVariable = "CONVLENS_CONV_ALGORITHM"

    /// This device's tunable parameters: its class's defaults, with the tile `convlens tune` measured.
    public let tuning: DeviceTuning
    /// What `convlens tune` stored for this device and driver, if anything.
    public let tuned: TunedConvolutions?
    /// The planner with the tuned file's winners and `CONVLENS_CONV_ALGORITHM`.
    private let basePlanner: ConvPlanner
    /// An algorithm forced for the calls inside `withConvAlgorithm`, on this task only: other tasks sharing the
    /// backend (tests run concurrently on one device) keep the planner's choices.
    @TaskLocal static var scopedConvAlgorithm: ConvAlgorithm?
    /// Chooses each convolution pass's algorithm.
    public var planner: ConvPlanner {
        guard let scoped = Self.scopedConvAlgorithm else { return basePlanner }
        var planner = basePlanner
        planner.forced = scoped
        return planner
    }
    /// The matrix product's register tiles for this device.
    var matmulTilings: [MatmulTiling] { tuning.matmulTilings }
    /// The first tile: its vector width and column count set vector code and scratch strides elsewhere.
    var matmulTiling: MatmulTiling { matmulTilings[0] }
    /// im2col matrices, shared by every convolution on this backend.
    let scratch = ScratchMemory()
    /// The inverse DFT's matrices per image size.
    let dftTables = DFTTableCache()

    /// - Parameters:
    ///   - kernelDirectory: a folder of .cl files to build from; `nil` reads `CONVLENS_KERNEL_DIR`, falling back to
    ///     the embedded sources.
    ///   - tuning: parameters to run with exactly (`convlens tune` trying candidates); `nil` takes the device
    ///     class's defaults and what `convlens tune` stored for this device, unless `CONVLENS_TUNING=off`.
    /// - Throws: `OpenCLError` creating the context, `KernelSourceError` reading a kernel folder,
    ///   `TuningFileError` for an unreadable tuned file, `ConvAlgorithmChoiceError` for an unknown
    ///   `CONVLENS_CONV_ALGORITHM`, `DeviceClassChoiceError` for an unknown `CONVLENS_DEVICE_CLASS`.
    public init(device: OpenCLDevice, kernelDirectory: String? = nil, tuning: DeviceTuning? = nil) throws {
        let environment = ProcessInfo.processInfo.environment
        context = try ComputeContext(device: device)
        if let tuning {
            self.tuning = tuning
            tuned = nil
        } else {
            let deviceClass = try DeviceClass.configured(for: device)
            let stored = environment[TunedConvolutions.variable] == "off" ? nil : try TunedConvolutions.load(for: device)
            // What was measured from another class's defaults (CONVLENS_DEVICE_CLASS) does not apply to this one.
            tuned = stored.flatMap { ($0.deviceClass ?? DeviceClass(device).rawValue) == deviceClass.rawValue ? $0 : nil }
            let defaults = DeviceTuning.defaults(for: deviceClass)
            self.tuning = (tuned?.matmulTiling.map(defaults.with) ?? defaults).with(tuned?.localTilings ?? [])
        }
        var forced: ConvAlgorithm?
        if let name = environment[Self.convAlgorithmVariable], !name.isEmpty {
            guard let algorithm = ConvAlgorithm(rawValue: name) else {
                throw ConvAlgorithmChoiceError(variable: Self.convAlgorithmVariable, value: name)
            }
            forced = algorithm
        }
        basePlanner = ConvPlanner(tuning: self.tuning, measured: tuned?.winners ?? [:], forced: forced)
        let directory = kernelDirectory ?? ProcessInfo.processInfo.environment[Self.kernelDirectoryVariable]
        let sources = if let directory, !directory.isEmpty {
            try KernelSourceSet.directory(directory)
        } else {
            KernelSourceSet(files: embeddedKernelSources, origin: "embedded")
        }
        var programs: [String: KernelSource] = [:]
        for file in sources.files.keys where file.hasSuffix(".cl") {
            programs[file] = try sources.source(file)
        }
        self.programs = programs
        kernelOrigin = sources.origin
    }

    /// A backend on the device `selector` names (see `DeviceDiscovery.device(matching:)`).
    public convenience init(deviceSelector: String?) throws {
        try self.init(device: DeviceDiscovery.device(matching: deviceSelector))
    }

    public var name: String { "opencl: \(context.device.name)" }

    /// Runs `body` with every convolution pass `algorithm` supports computed by it (the others as planned). The
    /// choice holds for this task's calls only.
    public func withConvAlgorithm<T>(_ algorithm: ConvAlgorithm, _ body: () throws -> T) throws -> T {
        try Self.$scopedConvAlgorithm.withValue(algorithm) { try body() }
    }

    public var memoryCapacity: Int? { context.device.globalMemoryBytes }

    // MARK: Memory

    public func makeTensor(_ shape: TensorShape) throws -> Tensor {
        try shape.requirePositive("tensor", of: "makeTensor")
        let buffer = try DeviceBuffer(context: context, byteCount: shape.count * MemoryLayout<Float>.stride)
        // Zero-filled so a tensor's contents never depend on what the allocator handed out before.
        try context.zero(buffer)
        return Tensor(shape: shape, buffer: buffer)
    }

    public func makeIndexTensor(_ shape: TensorShape) throws -> IndexTensor {
        try shape.requirePositive("index tensor", of: "makeIndexTensor")
        let buffer = try DeviceBuffer(context: context, byteCount: shape.count * MemoryLayout<Int32>.stride)
        try context.zero(buffer)
        return IndexTensor(shape: shape, buffer: buffer)
    }

    public func upload(_ host: HostTensor) throws -> Tensor {
        try host.shape.requirePositive("tensor", of: "upload")
        let buffer = try DeviceBuffer(context: context, byteCount: host.values.count * MemoryLayout<Float>.stride)
        try context.write(host.values, to: buffer)
        return Tensor(shape: host.shape, buffer: buffer)
    }

    /// A constant's buffer keeps the forms the kernels derive from it (a linear layer's transposed weight).
    public func uploadConstant(_ host: HostTensor) throws -> Tensor {
        try host.shape.requirePositive("tensor", of: "upload")
        let buffer = try DeviceBuffer(context: context, byteCount: host.values.count * MemoryLayout<Float>.stride,
                                      constant: true)
        try context.write(host.values, to: buffer)
        return Tensor(shape: host.shape, buffer: buffer)
    }

    public func write(_ host: HostTensor, into tensor: Tensor) throws {
        try host.shape.require(tensor.shape, "host tensor", of: "write")
        try context.write(host.values, to: tensor.buffer)
        if tensor.buffer.isConstant { tensor.buffer.forgetDerivedCopies() }
    }

    public func download(_ tensor: Tensor) throws -> HostTensor {
        HostTensor(shape: tensor.shape, values: try context.read(tensor.buffer, count: tensor.shape.count, as: Float.self))
    }

    public func downloadIndices(_ tensor: IndexTensor) throws -> [Int32] {
        try context.read(tensor.buffer, count: tensor.shape.count, as: Int32.self)
    }

    public func reshaped(_ tensor: Tensor, to shape: TensorShape) throws -> Tensor {
        try checkReshape(tensor.shape, to: shape)
        return Tensor(shape: shape, buffer: tensor.buffer)
    }

    public func copyElements(_ source: Tensor, from sourceOffset: Int, into destination: Tensor, at destinationOffset: Int,
                             count: Int) throws {
        try checkCopy(source: source.shape, from: sourceOffset, destination: destination.shape, at: destinationOffset,
                      count: count)
        let size = MemoryLayout<Float>.stride
        try context.copy(count * size, from: source.buffer, offset: sourceOffset * size, to: destination.buffer,
                         offset: destinationOffset * size)
    }

    // MARK: Launching

    /// The kernel `name` from `file`, built with `defines` as `-DNAME=value` (programs are cached per define set).
    func kernel(_ name: String, in file: String, defines: KeyValuePairs<String, Int> = [:]) throws -> Kernel {
        try kernel(name, in: file, defineList: defines.map { ($0.key, $0.value) })
    }

    /// The kernel `name` from `file`, built with `defineList` in order as `-DNAME=value`.
    func kernel(_ name: String, in file: String, defineList: [(String, Int)]) throws -> Kernel {
        guard let source = programs[file] else {
            throw KernelSourceError.missing(file: file, origin: kernelOrigin)
        }
        let options = defineList.map { "-D\($0.0)=\($0.1)" }
        return try context.library.kernel(name, from: source, options: options)
    }

    /// Launches `kernel` over `global` with the default work-group shape for its rank; `cost` (the op's work)
    /// and `detail` (its shapes) go to the profiler.
    func launch(
        _ kernel: Kernel, global: [Int], arguments: [KernelArgument], cost: OpCost? = nil, detail: String = ""
    ) throws {
        let local: [Int] = switch global.count {
        case 1: [64]
        case 2: [16, 4]
        default: [16, 4, 1]
        }
        try context.launch(
            kernel, global: global, local: local, arguments: arguments,
            annotation: LaunchAnnotation(flops: cost?.flops, bytes: cost?.bytes, detail: detail))
    }
}

/// `CONVLENS_CONV_ALGORITHM` set to something that is not an algorithm.
public struct ConvAlgorithmChoiceError: Error, CustomStringConvertible {
    public let variable: String
    public let value: String
    public var description: String {
        "\(variable)=\(value) is not a convolution algorithm; use one of "
            + ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
    }
}
