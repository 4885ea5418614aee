internal import COpenCL
import Foundation
import Synchronization

/// Builds OpenCL programs once and hands out their kernels.
///
/// Programs are cached by (source hash, build options); the library belongs to one context and one device, so
/// the device is part of the key by construction. A failed build throws with the driver's full build log.
///
/// `@unchecked Sendable`: the cache is guarded by a mutex, and cached `Kernel`s guard their own argument state.
public final class KernelLibrary: @unchecked Sendable {
    private struct ProgramKey: Hashable {
        let sourceHash: UInt64
        let options: String
    }

    private final class Program {
        let handle: cl_program
        var kernels: [String: Kernel] = [:]
        init(handle: cl_program) { self.handle = handle }
        deinit { clReleaseProgram(handle) }
    }

    private let context: cl_context
    private let device: OpenCLDevice
    private let programs = Mutex<[ProgramKey: Program]>([:])
    private let profiler: KernelProfiler
    private let binaries = ProgramBinaryCache()

    init(context: cl_context, device: OpenCLDevice, profiler: KernelProfiler) {
        self.context = context
        self.device = device
        self.profiler = profiler
    }

    /// Number of programs built so far (each distinct source and option set counts once).
    public var programCount: Int { programs.withLock { $0.count } }

    /// The kernel `name` from `source` built with `options` (e.g. `["-DKH=3", "-DKW=3"]`), building the program
    /// on first use.
    /// - Throws: `OpenCLError` from `clCreateProgramWithSource`, `clBuildProgram` (with the build log) or
    ///   `clCreateKernel`.
    public func kernel(_ name: String, from source: KernelSource, options: [String] = []) throws(OpenCLError)
        -> Kernel
    {
        let optionString = (["-cl-std=CL1.2"] + options).joined(separator: " ")
        let key = ProgramKey(sourceHash: source.hash, options: optionString)
        let result: Result<Kernel, OpenCLError> = programs.withLock { cache in
            do throws(OpenCLError) {
                let program: Program
                if let cached = cache[key] {
                    program = cached
                } else {
                    let started = KernelProfiler.hostNow()
                    program = Program(handle: try build(source, options: optionString))
                    profiler.recordHostPhase("build \(source.name) \(options.joined(separator: " "))",
                                             category: "program build", since: started)
                    cache[key] = program
                }
                if let kernel = program.kernels[name] { return .success(kernel) }
                let kernel = try Kernel(program: program.handle, name: name, device: device)
                program.kernels[name] = kernel
                return .success(kernel)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The program from the binary cache when it holds one the driver accepts, else built from source (and its
    /// binary stored for next time).
    private func build(_ source: KernelSource, options: String) throws(OpenCLError) -> cl_program {
        let entry = binaries.entry(sourceHash: source.hash, options: options, device: device)
        if let binary = binaries.load(entry), let program = buildFromBinary(binary, options: options) {
            return program
        }
        let program = try buildFromSource(source, options: options)
        binaries.store(program, to: entry)
        return program
    }

    private func buildFromBinary(_ binary: Data, options: String) -> cl_program? {
        var deviceID: cl_device_id? = device.id
        var status: cl_int = CL_SUCCESS, binaryStatus: cl_int = CL_SUCCESS
        let program: cl_program? = binary.withUnsafeBytes { raw in
            var pointer: UnsafePointer<UInt8>? = raw.bindMemory(to: UInt8.self).baseAddress
            var length = raw.count
            return clCreateProgramWithBinary(context, 1, &deviceID, &length, &pointer, &binaryStatus, &status)
        }
        guard let program else { return nil }
        guard status == CL_SUCCESS, binaryStatus == CL_SUCCESS,
              clBuildProgram(program, 1, &deviceID, options, nil, nil) == CL_SUCCESS
        else {
            clReleaseProgram(program)
            return nil
        }
        return program
    }

    private func buildFromSource(_ source: KernelSource, options: String) throws(OpenCLError) -> cl_program {
        var status: cl_int = CL_SUCCESS
        let program: cl_program? = source.text.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            var length = source.text.utf8.count
            return clCreateProgramWithSource(context, 1, &pointer, &length, &status)
        }
        guard let program, status == CL_SUCCESS else {
            throw OpenCLError(call: "clCreateProgramWithSource", code: status, context: source.name)
        }
        var deviceID: cl_device_id? = device.id
        status = clBuildProgram(program, 1, &deviceID, options, nil, nil)
        if status != CL_SUCCESS {
            let log = buildLog(program)
            clReleaseProgram(program)
            throw OpenCLError(
                call: "clBuildProgram", code: status, context: "\(source.name) \(options)", buildLog: log)
        }
        return program
    }

    private func buildLog(_ program: cl_program) -> String {
        let info = cl_program_build_info(CL_PROGRAM_BUILD_LOG)
        let log = try? infoString("clGetProgramBuildInfo", "build log") {
            clGetProgramBuildInfo(program, device.id, info, $0, $1, $2)
        }
        return log ?? "(no build log)"
    }
}

