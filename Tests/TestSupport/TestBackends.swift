import Foundation
import OpenCLBackend
import OpenCLRuntime
import Testing

/// The OpenCL backend the device tests share, so each program is built once per test run.
public enum TestBackends {
    /// The backend on `$CONVLENS_DEVICE` (or the default device), or why there is none.
    public static let openCL: Result<OpenCLBackend, any Error> = Result { try OpenCLBackend(deviceSelector: nil) }

    /// Whether device tests run. Without a device they are skipped (with `skipReason`) and the reference tests
    /// still run — unless CONVLENS_REQUIRE_OPENCL=1 (CI sets it), where they run and fail with the reason, so a
    /// broken driver install can never pass as a green run.
    public static var hasOpenCL: Bool {
        (try? openCL.get()) != nil || ProcessInfo.processInfo.environment["CONVLENS_REQUIRE_OPENCL"] == "1"
    }

    public static var skipReason: Comment {
        switch openCL {
        case .success: "OpenCL is available"
        case .failure(let error): "device tests skipped: \(error)"
        }
    }

    /// The shared backend; only call from tests enabled by `hasOpenCL`.
    public static func device() throws -> OpenCLBackend { try openCL.get() }
}
