internal import COpenCL

/// A failed OpenCL call: which call, which error, and anything the driver said about it.
///
/// The description reads the way a person searches for it: `clEnqueueNDRangeKernel: CL_OUT_OF_RESOURCES`,
/// followed by the context (kernel name, build options) and, for a failed build, the full build log.
public struct OpenCLError: Error, CustomStringConvertible, Sendable {
    /// The `cl*` function that failed, e.g. `clBuildProgram`.
    public let call: String
    /// The raw OpenCL status code (negative).
    public let code: Int32
    /// What the call was working on, e.g. `kernel conv2d_forward` or `conv2d.cl -DKH=3`.
    public let context: String?
    /// The driver's build log, for `clBuildProgram` failures.
    public let buildLog: String?

    public init(call: String, code: Int32, context: String? = nil, buildLog: String? = nil) {
        self.call = call
        self.code = code
        self.context = context
        self.buildLog = buildLog
    }

    /// The symbolic name of `code`, e.g. `CL_OUT_OF_RESOURCES`.
    public var errorName: String { openCLErrorName(code) }

    public var description: String {
        var text = "\(call): \(errorName)"
        if let context { text += " (\(context))" }
        if let buildLog, !buildLog.isEmpty { text += "\nbuild log:\n\(buildLog)" }
        return text
    }
}

/// Throws an `OpenCLError` unless `status` is `CL_SUCCESS`.
@inline(__always)
func check(_ status: cl_int, _ call: String, _ context: @autoclosure () -> String? = nil) throws(OpenCLError) {
    if status != CL_SUCCESS {
        throw OpenCLError(call: call, code: status, context: context())
    }
}
