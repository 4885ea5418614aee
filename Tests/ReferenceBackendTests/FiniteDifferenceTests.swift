import BackendParity
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// Every hand-written backward pass of the reference against central finite differences of its own forward pass,
/// all in Double.
@Suite("Reference gradients match finite differences")
struct FiniteDifferenceTests {
    struct ConvCase: Sendable, CustomTestStringConvertible {
        let input: TensorShape
        let weight: TensorShape
        let parameters: Conv2DParameters
        var testDescription: String { "x\(input) w\(weight) \(parameters)" }
    }

    static let convCases: [ConvCase] = [
        ConvCase(input: [2, 2, 5, 6], weight: [3, 2, 3, 3], parameters: Conv2DParameters(padding: Padding2D(1))),
        ConvCase(input: [1, 2, 7, 6], weight: [2, 2, 3, 2],
                 parameters: Conv2DParameters(stride: Size2D(2, 1), padding: Padding2D(top: 1, left: 0, bottom: 2, right: 1))),
        ConvCase(input: [1, 2, 7, 7], weight: [2, 2, 3, 3],
                 parameters: Conv2DParameters(stride: Size2D(2), padding: Padding2D(2), dilation: Size2D(2))),
        ConvCase(input: [1, 4, 5, 5], weight: [4, 2, 3, 3], parameters: Conv2DParameters(padding: Padding2D(1), groups: 2)),
        ConvCase(input: [2, 3, 5, 4], weight: [6, 1, 3, 3], parameters: Conv2DParameters(padding: Padding2D(1), groups: 3)),
    ]

    @Test(arguments: convCases)
    func conv2d(_ c: ConvCase) throws {
        let g = try Conv2DGeometry(input: c.input, weight: c.weight, parameters: c.parameters)
        var random = SeededGenerator(seed: 11)
        let x = random.normals(c.input.count), w = random.normals(c.weight.count), b = random.normals(c.weight[0])
        let dy = random.normals(g.output.count)

        let dx = ReferenceMath.conv2dBackwardInput(gradOutput: dy, weight: w, g)
        let (dw, db) = ReferenceMath.conv2dBackwardWeight(gradOutput: dy, input: x, g)
        expectClose(dx, FiniteDifference.gradient(at: x, outputWeights: dy) {
            ReferenceMath.conv2dForward(input: $0, weight: w, bias: b, g)
        }, relativeL2: Tolerance.finiteDifference, "grad input")
        expectClose(dw, FiniteDifference.gradient(at: w, outputWeights: dy) {
            ReferenceMath.conv2dForward(input: x, weight: $0, bias: b, g)
        }, relativeL2: Tolerance.finiteDifference, "grad weight")
        expectClose(db, FiniteDifference.gradient(at: b, outputWeights: dy) {
            ReferenceMath.conv2dForward(input: x, weight: w, bias: $0, g)
        }, relativeL2: Tolerance.finiteDifference, "grad bias")
    }

    struct PoolCase: Sendable, CustomTestStringConvertible {
        let kind: PoolKind
        let input: TensorShape
        let parameters: Pool2DParameters
        var testDescription: String { "\(kind.rawValue) x\(input) \(parameters)" }
    }

    static let poolCases: [PoolCase] = [
        PoolCase(kind: .max, input: [1, 2, 6, 6], parameters: Pool2DParameters(kernel: Size2D(2))),
        PoolCase(kind: .max, input: [1, 2, 7, 8],
                 parameters: Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true)),
        PoolCase(kind: .max, input: [1, 1, 7, 7],
                 parameters: Pool2DParameters(kernel: Size2D(3), stride: Size2D(1), padding: Padding2D(1), dilation: Size2D(2))),
        PoolCase(kind: .average, input: [1, 2, 6, 5], parameters: Pool2DParameters(kernel: Size2D(2))),
        PoolCase(kind: .average, input: [1, 2, 7, 6],
                 parameters: Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true)),
        PoolCase(kind: .average, input: [1, 2, 7, 6],
                 parameters: Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true,
                                              countIncludePad: false)),
    ]

    @Test(arguments: poolCases)
    func pool2d(_ c: PoolCase) throws {
        let g = try Pool2DGeometry(c.kind, input: c.input, parameters: c.parameters)
        var random = SeededGenerator(seed: 12)
        let x = random.normals(c.input.count), dy = random.normals(g.output.count)
        switch c.kind {
        case .max:
            // Random inputs have no ties, so each window's argmax is stable under the small finite-difference step.
            let argmax = ReferenceMath.maxPool2dForward(input: x, g).argmax
            expectClose(ReferenceMath.maxPool2dBackward(gradOutput: dy, argmax: argmax, g),
                        FiniteDifference.gradient(at: x, outputWeights: dy) { ReferenceMath.maxPool2dForward(input: $0, g).output },
                        relativeL2: Tolerance.finiteDifference, "grad input")
        case .average:
            expectClose(ReferenceMath.avgPool2dBackward(gradOutput: dy, g),
                        FiniteDifference.gradient(at: x, outputWeights: dy) { ReferenceMath.avgPool2dForward(input: $0, g) },
                        relativeL2: Tolerance.finiteDifference, "grad input")
        }
    }

    @Test func globalAvgPool2d() {
        let shape: TensorShape = [2, 3, 4, 5]
        var random = SeededGenerator(seed: 13)
        let x = random.normals(shape.count), dy = random.normals(6)
        expectClose(ReferenceMath.globalAvgPool2dBackward(gradOutput: dy, inputShape: shape),
                    FiniteDifference.gradient(at: x, outputWeights: dy) {
                        ReferenceMath.globalAvgPool2dForward(input: $0, shape: shape)
                    }, relativeL2: Tolerance.finiteDifference, "grad input")
    }

    @Test(arguments: [Activation.relu, .leakyReLU(alpha: 0.1), .clip(min: 0, max: 6), .sigmoid])
    func activation(_ activation: Activation) {
        var random = SeededGenerator(seed: 14)
        let x = random.normals(60, scale: 4, avoiding: [0, 6]), dy = random.normals(60)
        expectClose(ReferenceMath.activationBackward(activation, input: x, gradOutput: dy),
                    FiniteDifference.gradient(at: x, outputWeights: dy) { ReferenceMath.activationForward(activation, input: $0) },
                    relativeL2: Tolerance.finiteDifference, "grad input")
    }

    @Test func linear() throws {
        let g = try LinearGeometry(input: [3, 7], weight: [4, 7])
        var random = SeededGenerator(seed: 15)
        let x = random.normals(21), w = random.normals(28), b = random.normals(4), dy = random.normals(12)
        let (dw, db) = ReferenceMath.linearBackwardWeight(gradOutput: dy, input: x, g)
        expectClose(ReferenceMath.linearBackwardInput(gradOutput: dy, weight: w, g),
                    FiniteDifference.gradient(at: x, outputWeights: dy) {
                        ReferenceMath.linearForward(input: $0, weight: w, bias: b, g)
                    }, relativeL2: Tolerance.finiteDifference, "grad input")
        expectClose(dw, FiniteDifference.gradient(at: w, outputWeights: dy) {
            ReferenceMath.linearForward(input: x, weight: $0, bias: b, g)
        }, relativeL2: Tolerance.finiteDifference, "grad weight")
        expectClose(db, FiniteDifference.gradient(at: b, outputWeights: dy) {
            ReferenceMath.linearForward(input: x, weight: w, bias: $0, g)
        }, relativeL2: Tolerance.finiteDifference, "grad bias")
    }

    @Test func concat() throws {
        let shapes: [TensorShape] = [[2, 1, 3, 2], [2, 3, 3, 2], [2, 2, 3, 2]]
        let g = try ConcatGeometry(inputs: shapes)
        var random = SeededGenerator(seed: 16)
        let inputs = shapes.map { random.normals($0.count) }, dy = random.normals(g.output.count)
        let grads = ReferenceMath.concatBackward(gradOutput: dy, g)
        for index in inputs.indices {
            expectClose(grads[index], FiniteDifference.gradient(at: inputs[index], outputWeights: dy) { value in
                var varied = inputs
                varied[index] = value
                return ReferenceMath.concatForward(varied, g)
            }, relativeL2: Tolerance.finiteDifference, "grad input \(index)")
        }
    }

    struct BinaryCase: Sendable, CustomTestStringConvertible {
        let op: BinaryOp
        let a: TensorShape
        let b: TensorShape
        var testDescription: String { "\(op.rawValue) \(a) \(b)" }
    }

    @Test(arguments: [
        BinaryCase(op: .add, a: [2, 3, 4], b: [3, 1]), BinaryCase(op: .mul, a: [2, 3, 4], b: [2, 3, 4]),
        BinaryCase(op: .mul, a: [2, 1, 4], b: [3, 1]), BinaryCase(op: .mul, a: [5], b: [2, 3, 5]),
    ])
    func binary(_ c: BinaryCase) throws {
        let g = try BroadcastGeometry(a: c.a, b: c.b, op: c.op)
        var random = SeededGenerator(seed: 17)
        let a = random.normals(c.a.count), b = random.normals(c.b.count), dy = random.normals(g.output.count)
        let grads = ReferenceMath.binaryBackward(c.op, a, b, gradOutput: dy, g)
        expectClose(grads.a, FiniteDifference.gradient(at: a, outputWeights: dy) {
            ReferenceMath.binaryForward(c.op, $0, b, g)
        }, relativeL2: Tolerance.finiteDifference, "grad a")
        expectClose(grads.b, FiniteDifference.gradient(at: b, outputWeights: dy) {
            ReferenceMath.binaryForward(c.op, a, $0, g)
        }, relativeL2: Tolerance.finiteDifference, "grad b")
    }

    @Test func channelAffine() {
        let shape: TensorShape = [2, 3, 4, 2]
        var random = SeededGenerator(seed: 18)
        let x = random.normals(shape.count), scale = random.normals(3), shift = random.normals(3)
        let dy = random.normals(shape.count)
        // The backward pass is the forward pass of the gradient without the shift.
        let dx = ReferenceMath.channelAffineForward(input: dy, scale: scale, shift: [0, 0, 0], shape: shape)
        expectClose(dx, FiniteDifference.gradient(at: x, outputWeights: dy) {
            ReferenceMath.channelAffineForward(input: $0, scale: scale, shift: shift, shape: shape)
        }, relativeL2: Tolerance.finiteDifference, "grad input")
    }

    @Test func softmax() {
        let shape: TensorShape = [3, 7]
        var random = SeededGenerator(seed: 19)
        let x = random.normals(shape.count, scale: 2), dy = random.normals(shape.count)
        let y = ReferenceMath.softmaxForward(input: x, shape: shape)
        expectClose(ReferenceMath.softmaxBackward(output: y, gradOutput: dy, shape: shape),
                    FiniteDifference.gradient(at: x, outputWeights: dy) { ReferenceMath.softmaxForward(input: $0, shape: shape) },
                    relativeL2: Tolerance.finiteDifference, "grad input")
    }

    @Test func pad2dAndTranspose() throws {
        let g = try Pad2DGeometry(input: [1, 2, 3, 4], padding: Padding2D(top: 1, left: 0, bottom: 2, right: 1))
        var random = SeededGenerator(seed: 20)
        let x = random.normals(g.input.count), dy = random.normals(g.output.count)
        expectClose(ReferenceMath.pad2dBackward(gradOutput: dy, g),
                    FiniteDifference.gradient(at: x, outputWeights: dy) { ReferenceMath.pad2dForward(input: $0, value: 0.5, g) },
                    relativeL2: Tolerance.finiteDifference, "grad pad input")
        let matrix = random.normals(12), seed = random.normals(12)
        expectClose(ReferenceMath.transpose2d(input: seed, rows: 4, columns: 3),
                    FiniteDifference.gradient(at: matrix, outputWeights: seed) {
                        ReferenceMath.transpose2d(input: $0, rows: 3, columns: 4)
                    }, relativeL2: Tolerance.finiteDifference, "grad transpose input")
    }
}
