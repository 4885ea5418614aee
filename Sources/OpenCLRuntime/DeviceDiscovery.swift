internal import COpenCL
import Foundation

/// Finds OpenCL platforms and devices and picks the one a command should use.
public enum DeviceDiscovery {
    /// Every device of every platform, numbered in one flat list (the numbering `--device N` uses).
    ///
    /// - Throws: `DeviceSelectionError.noPlatform` when no OpenCL driver is installed, naming the packages to
    ///   install; `OpenCLError` for any other failed query.
    public static func allDevices() throws -> [OpenCLDevice] {
        CacheFolder.preparePoCLCache()
        var platformCount: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &platformCount)
        if status == -1001 || (status == CL_SUCCESS && platformCount == 0) {
            throw DeviceSelectionError.noPlatform
        }
        try check(status, "clGetPlatformIDs")
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        try check(clGetPlatformIDs(platformCount, &platforms, nil), "clGetPlatformIDs")

        var devices: [OpenCLDevice] = []
        for case let platform? in platforms {
            let platformName = try platformString(platform, CL_PLATFORM_NAME)
            var deviceCount: cl_uint = 0
            let countStatus = clGetDeviceIDs(
                platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount)
            // A platform with no usable device is not an error for discovery; it simply contributes nothing.
            if countStatus == CL_DEVICE_NOT_FOUND { continue }
            try check(countStatus, "clGetDeviceIDs", platformName)
            var ids = [cl_device_id?](repeating: nil, count: Int(deviceCount))
            try check(
                clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &ids, nil),
                "clGetDeviceIDs", platformName)
            for case let id? in ids {
                devices.append(try OpenCLDevice(index: devices.count, id: id, platformName: platformName))
            }
        }
        if devices.isEmpty { throw DeviceSelectionError.noPlatform }
        return devices
    }

    /// The variable that names the device when no `--device` is given.
    public static let environmentVariable = "CONVLENS_DEVICE"

    /// The device named by `selector`: a number from `allDevices()`, or a case-insensitive substring of the
    /// device name. `nil` falls back to `$CONVLENS_DEVICE`, then to the first GPU, then to the first device.
    ///
    /// - Throws: `DeviceSelectionError` when nothing or several things match, listing what exists.
    public static func device(matching selector: String?) throws -> OpenCLDevice {
        let devices = try allDevices()
        let selector = selector ?? ProcessInfo.processInfo.environment[environmentVariable]
        guard let selector = selector?.trimmingCharacters(in: .whitespaces), !selector.isEmpty else {
            return devices.first { $0.type.contains("GPU") } ?? devices[0]
        }
        if let index = Int(selector) {
            guard devices.indices.contains(index) else {
                throw DeviceSelectionError.noMatch(selector: selector, available: devices)
            }
            return devices[index]
        }
        let matches = devices.filter { $0.name.lowercased().contains(selector.lowercased()) }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw DeviceSelectionError.noMatch(selector: selector, available: devices)
        default: throw DeviceSelectionError.ambiguous(selector: selector, matches: matches)
        }
    }
}

/// Why no device could be chosen; every message says what to do next.
public enum DeviceSelectionError: Error, CustomStringConvertible, Sendable {
    case noPlatform
    case noMatch(selector: String, available: [OpenCLDevice])
    case ambiguous(selector: String, matches: [OpenCLDevice])

    public var description: String {
        switch self {
        case .noPlatform:
            return "no OpenCL platform found: install an OpenCL driver (on Debian/Ubuntu: "
                + "apt-get install ocl-icd-libopencl1 pocl-opencl-icd for the CPU, or your GPU vendor's OpenCL ICD), "
                + "or use --backend cpu"
        case .noMatch(let selector, let available):
            return "no OpenCL device matches '\(selector)'; available: \(list(available))"
        case .ambiguous(let selector, let matches):
            return "'\(selector)' matches several OpenCL devices: \(list(matches)); use the index"
        }
    }

    private func list(_ devices: [OpenCLDevice]) -> String {
        devices.map { "\($0.index): \($0.name)" }.joined(separator: ", ")
    }
}

private func platformString(_ id: cl_platform_id, _ parameter: Int32) throws(OpenCLError) -> String {
    try infoString("clGetPlatformInfo", "parameter \(parameter)") {
        clGetPlatformInfo(id, cl_platform_info(parameter), $0, $1, $2)
    }
}
