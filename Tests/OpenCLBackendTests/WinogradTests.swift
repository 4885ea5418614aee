import BackendParity
@testable import OpenCLBackend
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The Winograd path split into chunks of tile rows. (The parity catalog runs it through the public ops, on shapes
/// where it is chosen; those fit one chunk.)
@Suite("Winograd F(2×2, 3×3)", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
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
}
