import Foundation
@testable import OpenCLRuntime
import TestSupport
import Testing

@Suite("OpenCL errors")
struct OpenCLErrorTests {
    @Test func errorsReadByName() {
        let error = OpenCLError(call: "clEnqueueNDRangeKernel", code: -5)
        #expect(error.description == "clEnqueueNDRangeKernel: CL_OUT_OF_RESOURCES")
        #expect(OpenCLError(call: "clGetPlatformIDs", code: -1001).errorName == "CL_PLATFORM_NOT_FOUND_KHR")
        #expect(OpenCLError(call: "clFoo", code: -9999).errorName == "CL error -9999")
        let build = OpenCLError(call: "clBuildProgram", code: -11, context: "x.cl", buildLog: "line 3: error")
        #expect(build.description == "clBuildProgram: CL_BUILD_PROGRAM_FAILURE (x.cl)\nbuild log:\nline 3: error")
    }

    @Test func missingPlatformNamesThePackages() {
        #expect(DeviceSelectionError.noPlatform.description.contains("pocl-opencl-icd"))
    }
}

@Suite("Kernel sources")
struct KernelSourceTests {
    @Test func includesAreInlinedOnce() throws {
        let set = KernelSourceSet(
            files: ["a.cl": "#include \"h.h\"\n#include \"h.h\"\nkernel", "h.h": "#define X 1"], origin: "test")
        let source = try set.source("a.cl")
        #expect(source.text == "#define X 1\nkernel")
        #expect(source.hash == KernelSource(name: "other", text: "#define X 1\nkernel").hash)
        #expect(throws: KernelSourceError.self) { try set.source("missing.cl") }
        #expect(throws: KernelSourceError.self) {
            try KernelSourceSet(files: ["a.cl": "#include \"nope.h\""], origin: "test").source("a.cl")
        }
    }
}

@Suite("OpenCL runtime on a device", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct DeviceRuntimeTests {
    static let source = KernelSource(name: "scale.cl", text: """
        __kernel void scale_forward(__global float* x, float factor, int COUNT) {
            const int i = get_global_id(0);
            if (i < COUNT) x[i] *= factor * SCALE;
        }
        """)

    @Test func devicesAreSelectableByIndexAndName() throws {
        let devices = try DeviceDiscovery.allDevices()
        #expect(!devices.isEmpty)
        let first = devices[0]
        #expect(try DeviceDiscovery.device(matching: "0").name == first.name)
        if devices.count == 1 {
            // Any case-insensitive part of the name selects the device.
            let fragment = String(first.name.dropFirst(2).prefix(5)).uppercased()
            #expect(try DeviceDiscovery.device(matching: fragment).index == 0)
        }
        let error = try #require(throws: DeviceSelectionError.self) {
            try DeviceDiscovery.device(matching: "no-such-device-anywhere")
        }
        #expect(error.description.contains("available: 0: \(first.name)"))
        #expect(throws: DeviceSelectionError.self) { try DeviceDiscovery.device(matching: "\(devices.count)") }
    }

    @Test func buffersRoundTripAndRejectOverruns() throws {
        let context = try TestBackends.device().context
        let buffer = try DeviceBuffer(context: context, byteCount: 16)
        try context.write([Float(1), 2, 3, 4], to: buffer)
        #expect(try context.read(buffer, count: 4, as: Float.self) == [1, 2, 3, 4])
        let overrun = try #require(throws: OpenCLError.self) { try context.read(buffer, count: 5, as: Float.self) }
        #expect(overrun.call == "clEnqueueReadBuffer")
        let empty = try #require(throws: OpenCLError.self) { try DeviceBuffer(context: context, byteCount: 0) }
        #expect(empty.description.hasPrefix("clCreateBuffer: CL_INVALID_BUFFER_SIZE"))
    }

    @Test func programsAreCachedPerSourceAndOptions() throws {
        // A context of its own: the shared one builds programs for tests running in parallel.
        let context = try ComputeContext(device: try TestBackends.device().context.device)
        let library = context.library
        let before = library.programCount
        let first = try library.kernel("scale_forward", from: Self.source, options: ["-DSCALE=2"])
        let again = try library.kernel("scale_forward", from: Self.source, options: ["-DSCALE=2"])
        #expect(first === again)
        #expect(library.programCount == before + 1)
        _ = try library.kernel("scale_forward", from: Self.source, options: ["-DSCALE=3"])
        #expect(library.programCount == before + 2)

        let buffer = try DeviceBuffer(context: context, byteCount: 12)
        try context.write([Float(1), 2, 3], to: buffer)
        try context.launch(first, global: [3], local: [64], arguments: [.buffer(buffer), .float(1.5), .int(3)])
        #expect(try context.read(buffer, count: 3, as: Float.self) == [3, 6, 9])
    }

    @Test func launchErrorsNameTheCallAndArgument() throws {
        let context = try TestBackends.device().context
        let kernel = try context.library.kernel("scale_forward", from: Self.source, options: ["-DSCALE=1"])
        let buffer = try DeviceBuffer(context: context, byteCount: 4)
        let tooLarge = try #require(throws: OpenCLError.self) {
            try context.launch(kernel, global: [1], local: [1], arguments: [.buffer(buffer), .float(1), .int(1 << 40)])
        }
        #expect(tooLarge.description.hasPrefix("clSetKernelArg: CL_INVALID_ARG_VALUE (kernel scale_forward argument 2"))
        let wrongType = try #require(throws: OpenCLError.self) {
            try context.launch(kernel, global: [1], local: [1], arguments: [.float(1), .float(1), .int(1)])
        }
        #expect(wrongType.call == "clSetKernelArg")
    }

    @Test func kernelEventsCarryDeviceTimestamps() throws {
        let context = try TestBackends.device().context
        let kernel = try context.library.kernel("scale_forward", from: Self.source, options: ["-DSCALE=1"])
        let buffer = try DeviceBuffer(context: context, byteCount: 4096)
        let event = try context.launch(kernel, global: [1024], local: [64], arguments: [.buffer(buffer), .float(1), .int(1024)])
        let timing = try event.timing()
        #expect(timing.end >= timing.start)
        #expect(event.kernelName == "scale_forward")
    }
}

/// The program cache's entry format: a binary comes back only when whole and stored under its own key.
@Suite("Program cache entries")
struct ProgramCacheEntryTests {
    @Test func onlyWholeEntriesOfTheirOwnKeyAreRead() {
        let binary = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let bytes = Data(ProgramBinaryCache.entryBytes(binary, key: 42))
        #expect(ProgramBinaryCache.checkedBinary(bytes, key: 42) == Data(binary))
        #expect(ProgramBinaryCache.checkedBinary(bytes, key: 43) == nil, "another entry's name")
        #expect(ProgramBinaryCache.checkedBinary(bytes.prefix(bytes.count / 2), key: 42) == nil, "cut in half")
        #expect(ProgramBinaryCache.checkedBinary(bytes.prefix(1), key: 42) == nil, "one byte")
        #expect(ProgramBinaryCache.checkedBinary(Data(binary), key: 42) == nil, "a bare binary of the old format")
        var flipped = bytes
        flipped[flipped.count - 10] ^= 0x10
        #expect(ProgramBinaryCache.checkedBinary(flipped, key: 42) == nil, "one bit flipped")
    }
}
