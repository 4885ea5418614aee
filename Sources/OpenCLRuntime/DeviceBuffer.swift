internal import COpenCL
import Synchronization

/// A block of device memory that releases itself when the last reference goes away.
///
/// `@unchecked Sendable`: the `cl_mem` handle is immutable, and OpenCL memory objects may be used from any
/// thread; ordering of reads and writes is the command queue's job, not the handle's.
public final class DeviceBuffer: @unchecked Sendable {
    /// Size in bytes.
    public let byteCount: Int
    let memory: cl_mem
    /// A model's weight or other constant: no kernel writes to it after its upload, so copies derived from its
    /// contents (`derivedCopy`) stay valid for as long as it lives.
    public let isConstant: Bool
    /// The copies `derivedCopy` made, by what they hold.
    private let derivedCopies = Mutex<[String: DeviceBuffer]>([:])

    /// Allocates `byteCount` bytes of uninitialized device memory in `context`; `constant` marks a buffer no
    /// kernel will write to once it is filled.
    /// - Throws: `OpenCLError` from `clCreateBuffer` (e.g. `CL_INVALID_BUFFER_SIZE` for 0 bytes or more than the
    ///   device's largest allocation).
    public init(context: ComputeContext, byteCount: Int, constant: Bool = false) throws(OpenCLError) {
        var status: cl_int = CL_SUCCESS
        let memory = clCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), byteCount, nil, &status)
        guard let memory, status == CL_SUCCESS else {
            throw OpenCLError(
                call: "clCreateBuffer", code: status,
                context: "\(byteCount) bytes; device limit \(context.device.maxAllocationBytes)")
        }
        self.memory = memory
        self.byteCount = byteCount
        isConstant = constant
    }

    /// The copy of this constant buffer's contents in another form (`key` names it, e.g. a transposed weight):
    /// `make` enqueues it the first time, later calls return it, so a weight is rearranged once, not once per pass.
    /// The command queue is in order, so ops enqueued after the first call read the finished copy.
    public func derivedCopy(_ key: String, make: () throws -> DeviceBuffer) throws -> DeviceBuffer {
        precondition(isConstant, "derivedCopy of a buffer that kernels may write to")
        return try derivedCopies.withLock { copies in
            if let copy = copies[key] { return copy }
            let copy = try make()
            copies[key] = copy
            return copy
        }
    }

    /// Drops the derived copies, after the host rewrote this buffer's contents.
    public func forgetDerivedCopies() {
        derivedCopies.withLock { $0.removeAll() }
    }

    deinit {
        clReleaseMemObject(memory)
    }
}
