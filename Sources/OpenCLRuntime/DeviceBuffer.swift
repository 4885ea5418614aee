internal import COpenCL

/// A block of device memory that releases itself when the last reference goes away.
///
/// `@unchecked Sendable`: the `cl_mem` handle is immutable, and OpenCL memory objects may be used from any
/// thread; ordering of reads and writes is the command queue's job, not the handle's.
public final class DeviceBuffer: @unchecked Sendable {
    /// Size in bytes.
    public let byteCount: Int
    let memory: cl_mem

    /// Allocates `byteCount` bytes of uninitialized device memory in `context`.
    /// - Throws: `OpenCLError` from `clCreateBuffer` (e.g. `CL_INVALID_BUFFER_SIZE` for 0 bytes or more than the
    ///   device's largest allocation).
    public init(context: ComputeContext, byteCount: Int) throws(OpenCLError) {
        var status: cl_int = CL_SUCCESS
        let memory = clCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), byteCount, nil, &status)
        guard let memory, status == CL_SUCCESS else {
            throw OpenCLError(
                call: "clCreateBuffer", code: status,
                context: "\(byteCount) bytes; device limit \(context.device.maxAllocationBytes)")
        }
        self.memory = memory
        self.byteCount = byteCount
    }

    deinit {
        clReleaseMemObject(memory)
    }
}
