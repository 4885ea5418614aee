internal import COpenCL

/// One OpenCL device with its context, its in-order command queue (profiling enabled) and its program cache.
///
/// Every op of a run goes through one `ComputeContext`, so commands execute in submission order and buffers
/// never need host round-trips between ops.
///
/// `@unchecked Sendable`: the context and queue handles are immutable after `init`, OpenCL guarantees that
/// calls on them are thread-safe, and the mutable state (program and kernel caches) lives in `KernelLibrary`
/// behind a mutex.
public final class ComputeContext: @unchecked Sendable {
    public let device: OpenCLDevice
    public let library: KernelLibrary
    /// Records commands and host phases once enabled (`--profile`, `--trace`).
    public let profiler = KernelProfiler()
    let context: cl_context
    let queue: cl_command_queue

    /// Creates a context and a profiling, in-order queue on `device`.
    /// - Throws: `OpenCLError` naming `clCreateContext` or `clCreateCommandQueue`.
    public init(device: OpenCLDevice) throws(OpenCLError) {
        self.device = device
        var status: cl_int = CL_SUCCESS
        var deviceID: cl_device_id? = device.id
        guard let context = clCreateContext(nil, 1, &deviceID, nil, nil, &status), status == CL_SUCCESS else {
            throw OpenCLError(call: "clCreateContext", code: status, context: device.name)
        }
        let properties = cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE)
        guard let queue = clCreateCommandQueue(context, device.id, properties, &status), status == CL_SUCCESS
        else {
            clReleaseContext(context)
            throw OpenCLError(call: "clCreateCommandQueue", code: status, context: device.name)
        }
        self.context = context
        self.queue = queue
        self.library = KernelLibrary(context: context, device: device, profiler: profiler)
    }

    deinit {
        clFinish(queue)
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    /// Waits until every command submitted so far has finished.
    public func finish() throws(OpenCLError) {
        try check(clFinish(queue), "clFinish")
    }
}
