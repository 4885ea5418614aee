internal import COpenCL
import Synchronization

/// A compiled kernel, ready to launch.
///
/// `@unchecked Sendable`: an OpenCL kernel object holds its arguments as state, so setting arguments and
/// enqueueing happen together under `launchLock`; the handle itself is immutable.
public final class Kernel: @unchecked Sendable {
    public let name: String
    /// The largest work-group this kernel can run with on its device (`CL_KERNEL_WORK_GROUP_SIZE`).
    public let maxWorkGroupSize: Int
    let handle: cl_kernel
    let launchLock = Mutex(())

    init(program: cl_program, name: String, device: OpenCLDevice) throws(OpenCLError) {
        var status: cl_int = CL_SUCCESS
        guard let handle = clCreateKernel(program, name, &status), status == CL_SUCCESS else {
            throw OpenCLError(call: "clCreateKernel", code: status, context: "kernel \(name)")
        }
        var size = 0
        let sizeStatus = clGetKernelWorkGroupInfo(
            handle, device.id, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE), MemoryLayout<Int>.size,
            &size, nil)
        if sizeStatus != CL_SUCCESS {
            clReleaseKernel(handle)
            throw OpenCLError(call: "clGetKernelWorkGroupInfo", code: sizeStatus, context: "kernel \(name)")
        }
        self.handle = handle
        self.name = name
        self.maxWorkGroupSize = size
    }

    deinit {
        clReleaseKernel(handle)
    }
}

/// One kernel argument. Integers are passed as OpenCL `int` after a range check.
public enum KernelArgument {
    case buffer(DeviceBuffer)
    /// A NULL `__global` pointer, for an optional input a define has switched off (e.g. `HAS_BIAS=0`).
    case null
    case int(Int)
    case float(Float)
    /// `__local float[count]` scratch memory.
    case localFloats(Int)
}
