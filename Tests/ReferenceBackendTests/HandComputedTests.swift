import Foundation
import ReferenceBackend
import TensorOps
import Testing

/// Small cases worked out by hand, so the reference is pinned to arithmetic a person can check, not only to
/// other software.
@Suite("Reference forward on hand-computed cases")
struct HandComputedTests {
    let backend = ReferenceBackend()

    /// 1×1×3×3 input holding 1…9, row by row.
    func oneToNine() throws -> ReferenceBackend.Tensor {
        try backend.upload(HostTensor(shape: [1, 1, 3, 3], values: (1...9).map(Float.init)))
    }

    @Test func convolutionIsCrossCorrelationWithBias() throws {
        // w = [[1, 0], [0, -1]] computes x[i][j] − x[i+1][j+1] = −4 everywhere; the bias adds 0.5.
        let weight = try backend.upload(HostTensor(shape: [1, 1, 2, 2], values: [1, 0, 0, -1]))
        let bias = try backend.upload(HostTensor(shape: [1], values: [0.5]))
        let output = try backend.makeTensor([1, 1, 2, 2])
        try backend.conv2dForward(input: oneToNine(), weight: weight, bias: bias, output: output,
                                  parameters: Conv2DParameters())
        #expect(output.floats == [-3.5, -3.5, -3.5, -3.5])
    }

    @Test func convolutionStrideAndPaddingReadZerosOutside() throws {
        // A 3×3 box filter, stride 2, padding 1: each output sums the in-bounds part of its window.
        // (0,0): 1+2+4+5, (0,1): 2+3+5+6, (1,0): 4+5+7+8, (1,1): 5+6+8+9.
        let weight = try backend.upload(HostTensor(shape: [1, 1, 3, 3], values: [Float](repeating: 1, count: 9)))
        let output = try backend.makeTensor([1, 1, 2, 2])
        try backend.conv2dForward(input: oneToNine(), weight: weight, bias: nil, output: output,
                                  parameters: Conv2DParameters(stride: Size2D(2), padding: Padding2D(1)))
        #expect(output.floats == [12, 16, 24, 28])
    }

    @Test func convolutionGradientsOfASingleTap() throws {
        // With a 1×1 weight of 3, dx = 3·dy and dw = Σ x·dy.
        let weight = try backend.upload(HostTensor(shape: [1, 1, 1, 1], values: [3]))
        let gradOutput = try backend.upload(HostTensor(shape: [1, 1, 3, 3], values: [Float](repeating: 1, count: 9)))
        let gradInput = try backend.makeTensor([1, 1, 3, 3])
        try backend.conv2dBackwardInput(gradOutput: gradOutput, weight: weight, gradInput: gradInput,
                                        parameters: Conv2DParameters())
        #expect(gradInput.floats == [Float](repeating: 3, count: 9))
        let gradWeight = try backend.makeTensor([1, 1, 1, 1]), gradBias = try backend.makeTensor([1])
        try backend.conv2dBackwardWeight(gradOutput: gradOutput, input: oneToNine(), gradWeight: gradWeight,
                                         gradBias: gradBias, parameters: Conv2DParameters())
        #expect(gradWeight.floats == [45])
        #expect(gradBias.floats == [9])
    }

    @Test func maxPoolKeepsTheWinnerAndRoutesGradientToIt() throws {
        let input = try backend.upload(HostTensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init)))
        let output = try backend.makeTensor([1, 1, 2, 2]), argmax = try backend.makeIndexTensor([1, 1, 2, 2])
        let parameters = Pool2DParameters(kernel: Size2D(2))
        try backend.maxPool2dForward(input: input, output: output, argmax: argmax, parameters: parameters)
        #expect(output.floats == [5, 7, 13, 15])
        #expect(argmax.values == [5, 7, 13, 15])

        let gradOutput = try backend.upload(HostTensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]))
        let gradInput = try backend.makeTensor([1, 1, 4, 4])
        try backend.maxPool2dBackward(gradOutput: gradOutput, argmax: argmax, gradInput: gradInput, parameters: parameters)
        #expect(gradInput.floats == [0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4])
    }

    @Test func averagePoolDivisorWithAndWithoutPadding() throws {
        // 3×3 window, stride 1, padding 1 over a 3×3 plane of ones.
        let ones = try backend.upload(HostTensor(shape: [1, 1, 3, 3], values: [Float](repeating: 1, count: 9)))
        let output = try backend.makeTensor([1, 1, 3, 3])
        var parameters = Pool2DParameters(kernel: Size2D(3), stride: Size2D(1), padding: Padding2D(1))
        try backend.avgPool2dForward(input: ones, output: output, parameters: parameters)
        // Padded zeros count: corners see 4 of 9 ones, edges 6, the centre 9.
        let corner: Float = 4 / 9, edge: Float = 6 / 9
        #expect(output.floats == [corner, edge, corner, edge, 1, edge, corner, edge, corner])

        parameters.countIncludePad = false
        try backend.avgPool2dForward(input: ones, output: output, parameters: parameters)
        #expect(output.floats == [Float](repeating: 1, count: 9))
    }

    @Test func ceilModeKeepsOnlyWindowsThatStartInside() throws {
        // 5×5, kernel 2, stride 2, padding 1, ceil mode: ceil((5 + 2 − 2) / 2) + 1 = 4, but the 4th window would
        // start at 6 ≥ 5 + 1 (in the bottom padding), so PyTorch keeps 3.
        let geometry = try Pool2DGeometry(
            .max, input: [1, 1, 5, 5],
            parameters: Pool2DParameters(kernel: Size2D(2), stride: Size2D(2), padding: Padding2D(1), ceilMode: true))
        #expect(geometry.output == [1, 1, 3, 3])
        // Without padding a 14-wide input with kernel 3, stride 2 gives 6 windows floored, 7 with ceil mode.
        let ceil = try Pool2DGeometry(
            .max, input: [1, 1, 14, 14], parameters: Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), ceilMode: true))
        #expect(ceil.output == [1, 1, 7, 7])
    }

    @Test func activationsAndTheirKinks() throws {
        let input = try backend.upload(HostTensor(shape: [5], values: [-2, 0, 3, 6, 7]))
        let output = try backend.makeTensor([5]), gradInput = try backend.makeTensor([5])
        let ones = try backend.upload(HostTensor(shape: [5], values: [1, 1, 1, 1, 1]))

        try backend.activationForward(.leakyReLU(alpha: 0.1), input: input, output: output)
        #expect(output.floats == [-0.2, 0, 3, 6, 7])
        try backend.activationForward(.clip(min: 0, max: 6), input: input, output: output)
        #expect(output.floats == [0, 0, 3, 6, 6])
        // ReLU's derivative at exactly 0 is 0, as in PyTorch; clip's is 0 at its bounds.
        try backend.activationBackward(.relu, input: input, gradOutput: ones, gradInput: gradInput)
        #expect(gradInput.floats == [0, 0, 1, 1, 1])
        try backend.activationBackward(.clip(min: 0, max: 6), input: input, gradOutput: ones, gradInput: gradInput)
        #expect(gradInput.floats == [0, 0, 1, 0, 0])
    }

    @Test func linearAndGlobalAveragePool() throws {
        let input = try backend.upload(HostTensor(shape: [1, 2], values: [1, 2]))
        let weight = try backend.upload(HostTensor(shape: [2, 2], values: [1, 1, 1, -1]))
        let bias = try backend.upload(HostTensor(shape: [2], values: [0, 1]))
        let output = try backend.makeTensor([1, 2])
        try backend.linearForward(input: input, weight: weight, bias: bias, output: output)
        #expect(output.floats == [3, 0])

        let plane = try backend.upload(HostTensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]))
        let mean = try backend.makeTensor([1, 1, 1, 1])
        try backend.globalAvgPool2dForward(input: plane, output: mean)
        #expect(mean.floats == [2.5])
    }

    @Test func broadcastingAddsABiasPerChannel() throws {
        let x = try backend.upload(HostTensor(shape: [1, 2, 1, 2], values: [1, 2, 3, 4]))
        let bias = try backend.upload(HostTensor(shape: [1, 2, 1, 1], values: [10, 20]))
        let y = try backend.makeTensor([1, 2, 1, 2])
        try backend.binaryForward(.add, x, bias, output: y)
        #expect(y.floats == [11, 12, 23, 24])
        // The bias gradient sums over the broadcast positions; Mul's gradient is the other operand.
        let dy = try backend.upload(HostTensor(shape: [1, 2, 1, 2], values: [1, 1, 1, 1]))
        let dBias = try backend.makeTensor([1, 2, 1, 1]), dx = try backend.makeTensor([1, 2, 1, 2])
        try backend.binaryBackward(.add, a: x, b: bias, gradOutput: dy, gradA: nil, gradB: dBias)
        #expect(dBias.floats == [2, 2])
        try backend.binaryBackward(.mul, a: x, b: bias, gradOutput: dy, gradA: dx, gradB: dBias)
        #expect(dx.floats == [10, 10, 20, 20])
        #expect(dBias.floats == [3, 7])
    }

    @Test func softmaxSigmoidPadAndAffine() throws {
        let logits = try backend.upload(HostTensor(shape: [1, 2], values: [0, Float(log(3.0))]))
        let probabilities = try backend.makeTensor([1, 2])
        try backend.softmaxForward(input: logits, output: probabilities)
        #expect(probabilities.floats == [0.25, 0.75])

        let zero = try backend.upload(HostTensor(shape: [1], values: [0]))
        let half = try backend.makeTensor([1])
        try backend.activationForward(.sigmoid, input: zero, output: half)
        #expect(half.floats == [0.5])

        let plane = try backend.upload(HostTensor(shape: [1, 1, 1, 2], values: [1, 2]))
        let padded = try backend.makeTensor([1, 1, 2, 3])
        try backend.pad2dForward(input: plane, output: padded, padding: Padding2D(top: 1, left: 0, bottom: 0, right: 1),
                                 value: 9)
        #expect(padded.floats == [9, 9, 9, 1, 2, 9])

        let scale = try backend.upload(HostTensor(shape: [1], values: [2])), shift = try backend.upload(HostTensor(shape: [1], values: [-1]))
        let affine = try backend.makeTensor([1, 1, 1, 2])
        try backend.channelAffineForward(input: plane, scale: scale, shift: shift, output: affine)
        #expect(affine.floats == [1, 3])
    }

    @Test func reshapedTensorsShareStorage() throws {
        let x = try backend.upload(HostTensor(shape: [1, 2, 2, 1], values: [1, 2, 3, 4]))
        let flat = try backend.reshaped(x, to: [1, 4])
        x.values[0] = 7
        #expect(flat.floats == [7, 2, 3, 4])
        #expect(throws: ShapeError.self) { try backend.reshaped(x, to: [3]) }
    }

    @Test func imputationIsTheStencilMeanOfTheNeighbours() throws {
        // 1…9 with a centre of 50 that the first mask removes: (2+4+6+8)/6 + (1+3+7+9)/12 = 5 over weights
        // summing to 1. The second removes the corner (0, 0): (2/6 + 4/6 + 50/12) / (1/6 + 1/6 + 1/12) = 12.4.
        let image = try backend.upload(HostTensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 50, 6, 7, 8, 9]))
        let known = try backend.upload(HostTensor(shape: [2, 1, 3, 3], values: [1, 1, 1, 1, 0, 1, 1, 1, 1,
                                                                                0, 1, 1, 1, 1, 1, 1, 1, 1]))
        let output = try backend.makeTensor([2, 1, 3, 3])
        try backend.linearImputation(image: image, known: known, output: output, scratch: try backend.makeTensor([3, 2, 1, 3, 3]))
        let expected: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12.4, 2, 3, 4, 50, 6, 7, 8, 9]
        #expect(zip(output.floats, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(output.floats)")
    }

    @Test func imputationRestoresARampAcrossAnInteriorHole() throws {
        // The stencil is symmetric, so a linear image satisfies every interior pixel's equation: a 4×5 hole
        // away from the border (a coupled system, solved by conjugate gradients) gets the ramp back.
        let (height, width) = (8, 9)
        let ramp = (0..<height * width).map { Float($0 / width) + 2 * Float($0 % width) }
        let known = (0..<height * width).map { index -> Float in
            (2..<6).contains(index / width) && (2..<7).contains(index % width) ? 0 : 1
        }
        // What the hole held before must not matter.
        let holed = zip(ramp, known).map { $1 == 0 ? 100 : $0 }
        let output = try backend.makeTensor([1, 1, height, width])
        try backend.linearImputation(image: try backend.upload(HostTensor(shape: [1, 1, height, width], values: holed)),
                                     known: try backend.upload(HostTensor(shape: [1, 1, height, width], values: known)),
                                     output: output, scratch: try backend.makeTensor([3, 1, 1, height, width]))
        #expect(zip(output.floats, ramp).allSatisfy { abs($0 - $1) <= 1e-4 }, "\(output.floats)")
    }
}

extension ReferenceTensor where Element == Double {
    /// The stored values as the float32 numbers the backend rounded them to.
    fileprivate var floats: [Float] { values.map(Float.init) }
}
