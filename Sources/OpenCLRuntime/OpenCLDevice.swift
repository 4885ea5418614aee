internal import COpenCL

/// One OpenCL device, with the properties `convlens devices` prints and launchers size work by.
///
/// `@unchecked Sendable`: the only non-value member is the `cl_device_id`, an immutable handle that the ICD keeps
/// valid for the life of the process; every other property is a plain value read once at discovery.
public struct OpenCLDevice: @unchecked Sendable, CustomStringConvertible {
    /// Position in the flat list of all devices of all platforms, as `--device N` takes it.
    public let index: Int
    public let name: String
    public let vendor: String
    public let platformName: String
    /// `GPU`, `CPU`, `accelerator`, … (several joined by `+` when a device reports more than one).
    public let type: String
    public let computeUnits: Int
    /// Global memory in bytes.
    public let globalMemoryBytes: Int
    /// Largest single allocation in bytes.
    public let maxAllocationBytes: Int
    /// Local (work-group shared) memory in bytes.
    public let localMemoryBytes: Int
    public let maxWorkGroupSize: Int
    /// Per-dimension work-item limits.
    public let maxWorkItemSizes: [Int]
    /// Floats per vector the device prefers (PoCL on AVX-512: 16; most GPUs: 1).
    public let preferredFloatVectorWidth: Int
    /// e.g. `OpenCL C 1.2 pocl`.
    public let openCLCVersion: String
    public let driverVersion: String

    let id: cl_device_id

    public var description: String { "\(name) [\(platformName)]" }
    public var isCPU: Bool { type.split(separator: "+").contains("CPU") }

    init(index: Int, id: cl_device_id, platformName: String) throws(OpenCLError) {
        self.index = index
        self.id = id
        self.platformName = platformName
        name = try deviceString(id, CL_DEVICE_NAME)
        vendor = try deviceString(id, CL_DEVICE_VENDOR)
        openCLCVersion = try deviceString(id, CL_DEVICE_OPENCL_C_VERSION)
        driverVersion = try deviceString(id, CL_DRIVER_VERSION)
        type = describeDeviceType(try deviceValue(id, CL_DEVICE_TYPE, as: cl_device_type.self))
        computeUnits = Int(try deviceValue(id, CL_DEVICE_MAX_COMPUTE_UNITS, as: cl_uint.self))
        globalMemoryBytes = Int(try deviceValue(id, CL_DEVICE_GLOBAL_MEM_SIZE, as: cl_ulong.self))
        maxAllocationBytes = Int(try deviceValue(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, as: cl_ulong.self))
        localMemoryBytes = Int(try deviceValue(id, CL_DEVICE_LOCAL_MEM_SIZE, as: cl_ulong.self))
        maxWorkGroupSize = try deviceValue(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, as: Int.self)
        let dimensions = Int(try deviceValue(id, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, as: cl_uint.self))
        var sizes = [Int](repeating: 0, count: dimensions)
        try check(
            sizes.withUnsafeMutableBytes {
                clGetDeviceInfo(id, cl_device_info(CL_DEVICE_MAX_WORK_ITEM_SIZES), $0.count, $0.baseAddress, nil)
            },
            "clGetDeviceInfo", "CL_DEVICE_MAX_WORK_ITEM_SIZES")
        maxWorkItemSizes = sizes
        preferredFloatVectorWidth = Int(try deviceValue(id, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, as: cl_uint.self))
    }
}

private func deviceString(_ id: cl_device_id, _ parameter: Int32) throws(OpenCLError) -> String {
    try infoString("clGetDeviceInfo", "parameter \(parameter)") { clGetDeviceInfo(id, cl_device_info(parameter), $0, $1, $2) }
}

private func deviceValue<T: BitwiseCopyable>(_ id: cl_device_id, _ parameter: Int32, as: T.Type)
    throws(OpenCLError) -> T
{
    precondition(MemoryLayout<T>.size <= MemoryLayout<UInt64>.size, "device info wider than 8 bytes")
    var value: UInt64 = 0
    try check(
        clGetDeviceInfo(id, cl_device_info(parameter), MemoryLayout<T>.size, &value, nil), "clGetDeviceInfo")
    return withUnsafeBytes(of: value) { $0.load(as: T.self) }
}

private func describeDeviceType(_ type: cl_device_type) -> String {
    var names: [String] = []
    if type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 { names.append("GPU") }
    if type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 { names.append("CPU") }
    if type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 { names.append("accelerator") }
    if type & cl_device_type(CL_DEVICE_TYPE_CUSTOM) != 0 { names.append("custom") }
    return names.isEmpty ? "unknown" : names.joined(separator: "+")
}
