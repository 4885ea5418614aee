import TensorOps
import Testing

/// Shapes that cannot work are rejected with the shapes in the message, before any backend sees them.
@Suite("Shape checks")
struct GeometryTests {
    /// Adjacent axes that broadcast alike merge, so five-axis attention biases run on the four-axis kernels; a
    /// pattern that still needs five axes is refused with both shapes.
    @Test func broadcastsMergeAxesThatBroadcastAlike() throws {
        let swin = try BroadcastGeometry(a: [1, 64, 3, 49, 49], b: [1, 64, 1, 49, 49], op: .add)
        #expect(swin.output == [1, 64, 3, 49, 49])
        #expect(swin.kernelOutput == [1, 64, 3, 2401] && swin.kernelA == [1, 64, 3, 2401] && swin.kernelB == [1, 64, 1, 2401])
        #expect(swin.kernelStrides(swin.kernelB).suffix(3) == [2401, 0, 1])
        let bias = try BroadcastGeometry(a: [2, 5, 7], b: [7], op: .add)
        #expect(bias.kernelOutput == [1, 1, 10, 7] && bias.kernelB == [1, 1, 1, 7])
        let error = try #require(throws: ShapeError.self) {
            try BroadcastGeometry(a: [2, 1, 3, 1, 5], b: [1, 4, 1, 6, 1], op: .mul)
        }
        #expect(error.message.hasPrefix("broadcasting 2×1×3×1×5 against 1×4×1×6×1 needs 5 axes"))
    }

    @Test func convolutionOutputSizes() throws {
        let stem = try Conv2DGeometry(
            input: [1, 3, 224, 224], weight: [64, 3, 7, 7],
            parameters: Conv2DParameters(stride: Size2D(2), padding: Padding2D(3)))
        #expect(stem.output == [1, 64, 112, 112])
        let asymmetric = try Conv2DGeometry(
            input: [2, 4, 10, 9], weight: [6, 2, 3, 2],
            parameters: Conv2DParameters(stride: Size2D(2, 1), padding: Padding2D(top: 1, left: 0, bottom: 2, right: 1),
                                         groups: 2))
        #expect(asymmetric.output == [2, 6, 6, 9])
        // 2 input channels per group × 3×2 taps per output, a multiply-add each, plus the bias.
        let cost = asymmetric.forwardCost(hasBias: true)
        #expect(cost.flops == 2 * asymmetric.output.count * 2 * 3 * 2 + asymmetric.output.count)
        #expect(cost.bytes == 4 * (2 * 4 * 10 * 9 + 6 * 2 * 3 * 2 + 6 + asymmetric.output.count))
        #expect(asymmetric.backwardInputCost.flops == 2 * asymmetric.output.count * 2 * 3 * 2)
    }

    @Test func kernelLargerThanPaddedInput() {
        let error = #expect(throws: ShapeError.self) {
            try Conv2DGeometry(input: [1, 1, 4, 4], weight: [1, 1, 3, 3],
                               parameters: Conv2DParameters(dilation: Size2D(2)))
        }
        #expect(error?.description == "conv2d: dilated kernel span 5 exceeds padded extent 4 (kernel 3x3 vs input 1×1×4×4)")
    }

    @Test func channelsNotDivisibleByGroups() {
        let error = #expect(throws: ShapeError.self) {
            try Conv2DGeometry(input: [1, 6, 8, 8], weight: [4, 2, 3, 3], parameters: Conv2DParameters(groups: 4))
        }
        #expect(error?.description.contains("divisible by groups 4 (input 1×6×8×8, weight 4×2×3×3)") == true)
        #expect(throws: ShapeError.self) {
            try Conv2DGeometry(input: [1, 6, 8, 8], weight: [4, 2, 3, 3], parameters: Conv2DParameters())
        }
    }

    @Test func zeroAndNegativeDimensions() {
        #expect(throws: ShapeError.self) {
            try Conv2DGeometry(input: [1, 3, 0, 8], weight: [4, 3, 3, 3], parameters: Conv2DParameters())
        }
        #expect(throws: ShapeError.self) {
            try Conv2DGeometry(input: [1, 3, 8, 8], weight: [4, 3, 3, 3], parameters: Conv2DParameters(stride: Size2D(0)))
        }
        #expect(throws: ShapeError.self) {
            try Conv2DGeometry(input: [1, 3, 8, 8], weight: [4, 3, 3, 3], parameters: Conv2DParameters(padding: Padding2D(-1)))
        }
        #expect(throws: ShapeError.self) { try LinearGeometry(input: [2, 0], weight: [3, 0]) }
        #expect(throws: ShapeError.self) { try LinearGeometry(input: [2, 5], weight: [3, 4]) }
        #expect(throws: ShapeError.self) { try ConcatGeometry(inputs: [[1, 2, 4, 4], [1, 2, 4, 5]]) }
        #expect(throws: ShapeError.self) { try ConcatGeometry(inputs: []) }
    }

    @Test func poolingOutputSizesFollowPyTorch() throws {
        func output(_ input: Int, kernel: Int, stride: Int, pad: Int, ceil: Bool) throws -> Int {
            try Pool2DGeometry(.max, input: [1, 1, input, input],
                               parameters: Pool2DParameters(kernel: Size2D(kernel), stride: Size2D(stride),
                                                            padding: Padding2D(pad), ceilMode: ceil)).output[2]
        }
        #expect(try output(112, kernel: 3, stride: 2, pad: 1, ceil: false) == 56)  // ResNet stem pool
        #expect(try output(13, kernel: 3, stride: 2, pad: 0, ceil: true) == 6)  // SqueezeNet
        #expect(try output(14, kernel: 3, stride: 2, pad: 0, ceil: true) == 7)
        #expect(try output(14, kernel: 3, stride: 2, pad: 0, ceil: false) == 6)
        #expect(try output(5, kernel: 2, stride: 2, pad: 1, ceil: true) == 3)  // last window would start in padding
    }

    @Test func costsCountEveryTap() throws {
        // VGG-16 conv3_1 at 56×56, batch 1: 128 → 256 channels, 3×3, padding 1: 3.7 GFLOP forward.
        let vgg = try Conv2DGeometry(input: [1, 128, 56, 56], weight: [256, 128, 3, 3],
                                     parameters: Conv2DParameters(padding: Padding2D(1)))
        #expect(vgg.forwardCost(hasBias: false).flops == 2 * 256 * 56 * 56 * 128 * 9)
        let pool = try Pool2DGeometry(.max, input: [1, 64, 112, 112],
                                      parameters: Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1)))
        #expect(pool.forwardCost.flops == 64 * 56 * 56 * 9)
        let linear = try LinearGeometry(input: [8, 512], weight: [10, 512])
        #expect(linear.backwardWeightCost(hasBias: true).flops == 2 * 8 * 512 * 10 + 80)
        let cam = try CAMGeometry(activation: [2, 512, 14, 14])
        #expect(cam.weightedSumCost.flops == 2 * 2 * 512 * 196 + 2 * 196)
        #expect(cam.channelWeightsCost(.gradCAM).flops == 2 * 512 * 196)
        #expect(try ResizeGeometry(input: [2, 1, 7, 7], output: [2, 1, 224, 224], mode: .bilinear(alignCorners: false)).cost.bytes == 4 * (98 + 2 * 224 * 224))
        #expect(OpCost.activation(count: 100, backward: true).bytes == 1200)
    }

    @Test func poolingRejectsImpossibleParameters() {
        #expect(throws: ShapeError.self) {
            try Pool2DGeometry(.max, input: [1, 1, 8, 8], parameters: Pool2DParameters(kernel: Size2D(2), padding: Padding2D(2)))
        }
        #expect(throws: ShapeError.self) {
            try Pool2DGeometry(.average, input: [1, 1, 8, 8],
                               parameters: Pool2DParameters(kernel: Size2D(2), dilation: Size2D(2)))
        }
        #expect(throws: ShapeError.self) {
            try Pool2DGeometry(.max, input: [1, 1, 2, 2], parameters: Pool2DParameters(kernel: Size2D(3)))
        }
        #expect(throws: ShapeError.self) {
            try Pool2DGeometry(.max, input: [1, 8, 8], parameters: Pool2DParameters(kernel: Size2D(2)))
        }
    }

    @Test func seededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        let first = (0..<100).map { _ in a.nextNormal() }
        #expect(first == (0..<100).map { _ in b.nextNormal() })
        #expect(first != (0..<100).map { _ in c.nextNormal() })
        let mean = first.reduce(0, +) / 100
        #expect(abs(mean) < 0.3)
    }
}
