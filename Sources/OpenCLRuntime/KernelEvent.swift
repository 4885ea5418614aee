internal import COpenCL

/// The record of one kernel launch; once the kernel has run, it knows when it started and ended.
///
/// `@unchecked Sendable`: the event handle is immutable and OpenCL event queries are thread-safe.
public final class KernelEvent: @unchecked Sendable {
    public let kernelName: String
    let handle: cl_event

    init(handle: cl_event, kernelName: String) {
        self.handle = handle
        self.kernelName = kernelName
    }

    deinit {
        clReleaseEvent(handle)
    }

    /// Device timestamps in nanoseconds (queue has profiling enabled). Waits for the kernel to finish.
    /// - Throws: `OpenCLError` from `clWaitForEvents` or `clGetEventProfilingInfo`.
    public func timing() throws(OpenCLError) -> (start: UInt64, end: UInt64) {
        var event: cl_event? = handle
        try check(clWaitForEvents(1, &event), "clWaitForEvents", "kernel \(kernelName)")
        return (try timestamp(CL_PROFILING_COMMAND_START), try timestamp(CL_PROFILING_COMMAND_END))
    }

    /// Queued, start and end device timestamps in nanoseconds. Waits for the command to finish.
    /// - Throws: `OpenCLError` from `clWaitForEvents` or `clGetEventProfilingInfo`.
    public func profile() throws(OpenCLError) -> (queued: UInt64, start: UInt64, end: UInt64) {
        let (start, end) = try timing()
        return (try timestamp(CL_PROFILING_COMMAND_QUEUED), start, end)
    }

    private func timestamp(_ parameter: Int32) throws(OpenCLError) -> UInt64 {
        var value: cl_ulong = 0
        try check(
            clGetEventProfilingInfo(
                handle, cl_profiling_info(parameter), MemoryLayout<cl_ulong>.size, &value, nil),
            "clGetEventProfilingInfo", "kernel \(kernelName)")
        return value
    }
}
