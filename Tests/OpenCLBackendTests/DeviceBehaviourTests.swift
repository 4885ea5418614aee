import Foundation
import OpenCLBackend
import OpenCLRuntime
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

@Suite("OpenCL backend behaviour", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct DeviceBehaviourTests {
    /// The repository's Kernels/ folder, found from this file's path.
    static let kernelsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Kernels").path

    @Test func mismatchedShapesThrowBeforeAnyLaunch() throws {
        let backend = try TestBackends.device()
        let input = try backend.makeTensor([1, 3, 8, 8]), weight = try backend.makeTensor([4, 3, 3, 3])
        let wrongOutput = try backend.makeTensor([1, 4, 8, 8])
        let error = try #require(throws: ShapeError.self) {
            try backend.conv2dForward(input: input, weight: weight, bias: nil, output: wrongOutput,
                                      parameters: Conv2DParameters())
        }
        #expect(error.description == "conv2d: output must be 1×4×6×6, got 1×4×8×8")

        let oddGroups = try backend.makeTensor([2, 1, 3, 3])
        #expect(throws: ShapeError.self) {
            try backend.conv2dForward(input: input, weight: oddGroups, bias: nil, output: wrongOutput,
                                      parameters: Conv2DParameters(groups: 2))
        }
        #expect(throws: ShapeError.self) { try backend.makeTensor([1, 0, 4, 4]) }
    }

    /// Max-pooling's vector runs (ResNet's 3×3 stride-2 windows, and stride 1) keep the scalar rule: NaN wins, the
    /// first of equal maxima is the argmax. NaNs and ties sit inside the runs and at their edges, on both backends.
    @Test(arguments: [1, 2]) func maxPoolVectorRunsKeepNaNAndTies(stride: Int) throws {
        let backend = try TestBackends.device(), reference = ReferenceBackend()
        let parameters = Pool2DParameters(kernel: Size2D(3), stride: Size2D(stride), padding: Padding2D(1))
        let input = HostTensor(shape: [1, 2, 5, 41], values: (0..<410).map { i in
            [17, 18, 40, 96, 203, 260].contains(i) ? .nan : Float(i % 7 < 3 ? 1 : i % 5)
        })
        let geometry = try Pool2DGeometry(.max, input: input.shape, parameters: parameters)
        func pool<B: Backend>(_ backend: B) throws -> (values: [Float], argmax: [Int32]) {
            let output = try backend.makeTensor(geometry.output)
            let argmax = try backend.makeIndexTensor(geometry.output)
            try backend.maxPool2dForward(input: try backend.upload(input), output: output, argmax: argmax,
                                         parameters: parameters)
            return (try backend.download(output).values, try backend.downloadIndices(argmax))
        }
        let (device, expected) = (try pool(backend), try pool(reference))
        #expect(device.values.map(\.isNaN) == expected.values.map(\.isNaN))
        #expect(zip(device.values, expected.values).allSatisfy { $0.isNaN || $0 == $1 })
        #expect(device.argmax == expected.argmax)
    }

    @Test func seededRunsGiveIdenticalBytes() throws {
        let backend = try TestBackends.device()
        func run() throws -> [Float] {
            var random = SeededGenerator(seed: 99)
            let x = try backend.upload(.randomNormal([2, 3, 16, 16], using: &random))
            let w = try backend.upload(.randomNormal([8, 3, 3, 3], using: &random))
            let y = try backend.makeTensor([2, 8, 16, 16])
            try backend.conv2dForward(input: x, weight: w, bias: nil, output: y,
                                      parameters: Conv2DParameters(padding: Padding2D(1)))
            return try backend.download(y).values
        }
        let first = try run(), second = try run()
        #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
    }

    @Test func kernelsLoadFromAFolderWhenAsked() throws {
        let device = try TestBackends.device().context.device
        let backend = try OpenCLBackend(device: device, kernelDirectory: Self.kernelsDirectory)
        #expect(backend.kernelOrigin == Self.kernelsDirectory)
        let x = try backend.upload(HostTensor(shape: [4], values: [-1, 2, -3, 4]))
        let y = try backend.makeTensor([4])
        try backend.activationForward(.relu, input: x, output: y)
        #expect(try backend.download(y).values == [0, 2, 0, 4])
    }

    @Test func aKernelThatFailsToBuildReportsItsLog() throws {
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-broken-\(UUID())")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: broken) }
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.kernelsDirectory) {
            try FileManager.default.copyItem(
                atPath: Self.kernelsDirectory + "/" + name, toPath: broken.appendingPathComponent(name).path)
        }
        let activation = broken.appendingPathComponent("activation.cl")
        try (String(contentsOf: activation, encoding: .utf8) + "\nthis is not OpenCL C;\n")
            .write(to: activation, atomically: true, encoding: .utf8)

        let backend = try OpenCLBackend(device: try TestBackends.device().context.device, kernelDirectory: broken.path)
        let x = try backend.makeTensor([4]), y = try backend.makeTensor([4])
        let error = try #require(throws: OpenCLError.self) { try backend.activationForward(.relu, input: x, output: y) }
        #expect(error.call == "clBuildProgram")
        #expect(error.errorName == "CL_BUILD_PROGRAM_FAILURE")
        #expect(error.description.hasPrefix("clBuildProgram: CL_BUILD_PROGRAM_FAILURE (activation.cl"))
        #expect(error.buildLog?.contains("error") == true, "build log: \(error.buildLog ?? "none")")
    }

    /// The kernels' own erf (common.h's erf_float, used by Erf and GELU) against Double's over every range it
    /// switches between: a dense sweep of [−6, 6], values near the 0.5 switch and near 0, and ±∞ and NaN.
    @Test func erfIsAccurateEverywhere() throws {
        let backend = try TestBackends.device()
        var values = (0...24_000).map { Float(-6 + Double($0) * 0.0005) }
        values += [0.5, Float(0.5).nextDown, -0.5, -Float(0.5).nextDown, 1e-30, -1e-20, 1e-10, 3e-5, 0, 9, -12]
        values += [.infinity, -.infinity, .nan]
        let x = try backend.upload(HostTensor(shape: [values.count], values: values))
        let y = try backend.makeTensor([values.count])
        try backend.activationForward(.erf, input: x, output: y)
        let results = try backend.download(y).values
        var worst = 0.0
        for (value, result) in zip(values, results) {
            let exact = Foundation.erf(Double(value))
            if exact.isNaN { #expect(result.isNaN); continue }
            worst = max(worst, abs(Double(result) - exact) / max(abs(exact), 1e-38))
        }
        #expect(worst <= 3e-7, "worst relative error \(worst)")
    }
}
