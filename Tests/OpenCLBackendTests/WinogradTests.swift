import BackendParity
@testable import OpenCLBackend
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The Winograd path split into chunks of tile rows. (The parity catalog runs it through the public ops, on shapes
/// where it is chosen; those fit one chunk.)
@Suite("Winograd F(2×2, 3×3) and F(4×4, 3×3)", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct WinogradTests {
    /// Two 9×11 images (5 × 6 tiles each) in chunks of 1, 3 (across the images' boundary) and all 10 tile rows: the
    /// same bytes each time, and the reference convolution's values.
    @Test func chunksOfTileRowsGiveTheSameBytes() throws {
        let backend = try TestBackends.device()
        var random = SeededGenerator(seed: 0x3A_F2)
        let x = HostTensor.randomNormal([2, 16, 9, 11], using: &random)
        let w = HostTensor.randomNormal([24, 16, 3, 3], using: &random)
        let b = HostTensor.randomNormal([24], using: &random)
        let parameters = Conv2DParameters(padding: Padding2D(1))
        let problem = WinogradConvolution(
            planes: ConvolutionPlanes(batch: 2, sourceChannels: 16, sourceHeight: 9, sourceWidth: 11, targetChannels: 24,
                                      targetHeight: 9, targetWidth: 11),
            padTop: 1, padLeft: 1)
        let tileRowFloats = 16 * (16 + 24) * problem.tileColumns

        let (input, weight, bias) = (try backend.upload(x), try backend.upload(w), try backend.upload(b))
        var results: [[Float]] = []
        for chunkFloats in [tileRowFloats, 3 * tileRowFloats, backend.tuning.winogradChunkFloats] {
            let output = try backend.makeTensor([2, 24, 9, 11])
            try backend.winogradConvolution(
                problem, source: input.buffer, weight: weight.buffer, flipTransposed: false, bias: bias.buffer,
                target: output.buffer, chunkFloats: chunkFloats)
            results.append(try backend.download(output).values)
        }
        #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern))
        #expect(results[1].map(\.bitPattern) == results[2].map(\.bitPattern))

        let reference = ReferenceBackend()
        let expected = try reference.makeTensor([2, 24, 9, 11])
        try reference.conv2dForward(
            input: try reference.upload(x), weight: try reference.upload(w), bias: try reference.upload(b),
            output: expected, parameters: parameters)
        expectClose(results[2], try reference.download(expected).values, relativeL2: Tolerance.deviceVsReference,
                    "winograd forward")
    }

    /// F(4×4) on two images whose 13×11 outputs cut the 4×4 tiles at the bottom and right (4 × 3 tiles each),
    /// forward with bias, then the input gradient of a padding-0 layer (dx 15×13 from dy 13×11, padding 2, 4 × 4
    /// tiles): in chunks of 1, 3 (across the images' boundary) and all 8 tile rows, the same bytes each time, and
    /// the reference convolution's values.
    @Test func fourByFourTilesInChunksAcrossImages() throws {
        let backend = try TestBackends.device()
        var random = SeededGenerator(seed: 0x4F_44)
        let w = HostTensor.randomNormal([24, 16, 3, 3], using: &random)
        let b = HostTensor.randomNormal([24], using: &random)
        let reference = ReferenceBackend()

        // Forward: x 2 × 16 × 13 × 11, padding 1.
        let x = HostTensor.randomNormal([2, 16, 13, 11], using: &random)
        let same = Conv2DParameters(padding: Padding2D(1))
        let forward = try Conv2DGeometry(input: x.shape, weight: w.shape, parameters: same)
        let expected = try reference.makeTensor(forward.output)
        try reference.conv2dForward(
            input: try reference.upload(x), weight: try reference.upload(w), bias: try reference.upload(b),
            output: expected, parameters: same)
        try expectChunksAgree(
            backend, .forward(forward, tile: 4), source: x, weight: w, flipTransposed: false, bias: b,
            expected: try reference.download(expected).values, "winograd 4×4 forward")

        // Input gradient: dy 2 × 24 × 13 × 11 to dx 2 × 16 × 15 × 13, padding 0.
        let dy = HostTensor.randomNormal([2, 24, 13, 11], using: &random)
        let valid = Conv2DParameters(padding: Padding2D(0))
        let backward = try Conv2DGeometry(input: [2, 16, 15, 13], weight: w.shape, parameters: valid)
        let expectedGradient = try reference.makeTensor(backward.input)
        try reference.conv2dBackwardInput(
            gradOutput: try reference.upload(dy), weight: try reference.upload(w), gradInput: expectedGradient,
            parameters: valid)
        try expectChunksAgree(
            backend, .backwardInput(backward, tile: 4), source: dy, weight: w, flipTransposed: true, bias: nil,
            expected: try reference.download(expectedGradient).values, "winograd 4×4 input gradient")
    }

    /// Runs `problem` in chunks of 1, 3 and all tile rows: the same bytes each time, and `expected`'s values.
    private func expectChunksAgree(
        _ backend: OpenCLBackend, _ problem: WinogradConvolution, source: HostTensor, weight: HostTensor,
        flipTransposed: Bool, bias: HostTensor?, expected: [Float], _ what: String
    ) throws {
        let tileRowFloats = problem.positions * (problem.sourceChannels + problem.targetChannels) * problem.tileColumns
        #expect(problem.batch * problem.tileRows > 3, "3 tile rows a chunk leaves several chunks")
        let (input, filters) = (try backend.upload(source), try backend.upload(weight))
        let shift = try bias.map { try backend.upload($0) }
        var results: [[Float]] = []
        for chunkFloats in [tileRowFloats, 3 * tileRowFloats, backend.tuning.winogradChunkFloats] {
            let target = try backend.makeTensor(
                [problem.batch, problem.targetChannels, problem.targetHeight, problem.targetWidth])
            try backend.winogradConvolution(
                problem, source: input.buffer, weight: filters.buffer, flipTransposed: flipTransposed,
                bias: shift?.buffer, target: target.buffer, chunkFloats: chunkFloats)
            results.append(try backend.download(target).values)
        }
        #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern), "\(what), 1 tile row a chunk")
        #expect(results[1].map(\.bitPattern) == results[2].map(\.bitPattern), "\(what), 3 tile rows a chunk")
        expectClose(results[2], expected, relativeL2: Tolerance.deviceVsReference, what)
    }
}
