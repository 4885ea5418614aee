import BackendParity
@testable import OpenCLBackend
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The implicit-GEMM convolution (conv_gemm.cl) beyond what the parity catalog reaches through the public ops: which
/// shapes take it, and every register tile the device has, not only the one its shapes pick.
@Suite("Implicit-GEMM convolution", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct ImplicitGemmTests {
    /// On a CPU, the parity catalog's implicit-GEMM shapes (rows of 30–32 outputs) take the kernel, forward and,
    /// at stride 1, backward-input; 1×1 windows do not, nor 14-wide rows where the tile is 32 or 48 columns wide
    /// (AVX-512: mostly padding), while AVX2's 16-column tile pads them by 1/7 and takes them.
    @Test func catalogShapesTakeTheImplicitPathOnACPU() throws {
        let backend = try TestBackends.device()
        guard backend.context.device.isCPU else { return }
        func geometry(_ input: TensorShape, _ weight: TensorShape, _ parameters: Conv2DParameters) throws
            -> Conv2DGeometry
        {
            try Conv2DGeometry(input: input, weight: weight, parameters: parameters)
        }
        let strideTwo = try geometry([1, 6, 20, 64], [10, 6, 3, 3], Conv2DParameters(stride: Size2D(2), padding: Padding2D(1)))
        let stem = try geometry([1, 3, 30, 62], [8, 3, 7, 7], Conv2DParameters(stride: Size2D(2), padding: Padding2D(3)))
        let wide = try geometry([2, 5, 14, 30], [14, 5, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let narrow = try geometry([1, 64, 14, 14], [64, 64, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let projection = try geometry([1, 16, 64, 64], [32, 16, 1, 1], Conv2DParameters(stride: Size2D(2)))

        #expect(backend.implicitGemmTiling(.forward(strideTwo)) != nil)
        #expect(backend.implicitGemmTiling(.forward(stem)) != nil)
        #expect(backend.implicitGemmTiling(.forward(wide)) != nil)
        #expect(backend.implicitGemmTiling(.backwardInput(wide)) != nil)
        #expect((backend.implicitGemmTiling(.forward(narrow)) == nil) == (backend.matmulTiling.columns > 16),
                "14-wide rows with \(backend.matmulTiling.columns)-column tiles")
        #expect(backend.implicitGemmTiling(.forward(projection)) == nil)
    }

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
