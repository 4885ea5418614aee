import ArgumentParser
import OpenCLBackend
import OpenCLRuntime
import ReferenceBackend

/// Where a command computes.
enum BackendKind: String, ExpressibleByArgument, CaseIterable {
    /// The OpenCL device (the product path).
    case opencl
    /// The plain-Swift reference (the specification; slow).
    case cpu
}

/// Options every computing command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Where to compute: opencl (the device) or cpu (the plain-Swift reference).")
    var backend: BackendKind = .opencl

    @Option(
        help: ArgumentHelp(
            "OpenCL device: an index from `convlens devices` or a case-insensitive name substring.",
            discussion: "Defaults to $CONVLENS_DEVICE, then to the first GPU, then to the first device."))
    var device: String?

    /// The OpenCL backend on the device `--device` (or its fallbacks) names.
    func openCLBackend() throws -> OpenCLBackend {
        try OpenCLBackend(deviceSelector: device)
    }
}
