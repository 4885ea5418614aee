import BackendParity
@testable import OpenCLBackend
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The implicit-GEMM convolution (conv_gemm.cl) beyond what the parity catalog reaches through the public ops: every
/// register tile the device has, not only the one its shapes pick.
@Suite("Implicit-GEMM convolution", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct ImplicitGemmTests {
    /// Each register tile of the device on a stride-2 convolution with groups, bias and rows of 36 outputs (two
    /// column tiles of 32, or one of 48): the reference convolution's values.
    @Test func everyRegisterTileMatchesTheReference() throws {
        let backend = try TestBackends.device()
        var random = SeededGenerator(seed: 0x1C_6E)
        let parameters = Conv2DParameters(stride: Size2D(2), padding: Padding2D(1), groups: 2)
        let x = HostTensor.randomNormal([2, 8, 11, 72], using: &random)
        let w = HostTensor.randomNormal([26, 4, 3, 3], using: &random)
        let b = HostTensor.randomNormal([26], using: &random)
        let g = try Conv2DGeometry(input: x.shape, weight: w.shape, parameters: parameters)
        let outputShape = g.output

        let reference = ReferenceBackend()
        let expected = try reference.makeTensor(outputShape)
        try reference.conv2dForward(
            input: try reference.upload(x), weight: try reference.upload(w), bias: try reference.upload(b),
            output: expected, parameters: parameters)
        let (input, weight, bias) = (try backend.upload(x), try backend.upload(w), try backend.upload(b))
        for tiling in backend.matmulTilings {
            let output = try backend.makeTensor(outputShape)
            try backend.implicitGemmConvolution(
                .forward(g), tiling: tiling, source: input.buffer, bias: bias.buffer, target: output.buffer
            ) { _, _ in MatrixView(buffer: weight.buffer, rowStride: g.columnRows) }
            expectClose(try backend.download(output).values, try reference.download(expected).values,
                        relativeL2: Tolerance.deviceVsReference, "implicit GEMM, \(tiling.rows)×\(tiling.columns) tile")
        }
    }
}
