import BackendParity
@testable import OpenCLBackend
import OpenCLRuntime
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The matrix product on its own, where the convolutions' shapes do not reach: more terms than one launch sums.
@Suite("Matrix product", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct MatmulTests {
    /// 13 × 37 results (partial tiles both ways) of 9000 terms, which a CPU splits into launches of 4096, 4096 and
    /// 808 that add to the result: with A as stored and transposed, and a bias, against the product in Double.
    @Test(arguments: [false, true])
    func productsLongerThanOneLaunchAddUp(transposedA: Bool) throws {
        let backend = try TestBackends.device()
        let (m, n, k) = (13, 37, 9000)
        var random = SeededGenerator(seed: transposedA ? 0x5A : 0x5B)
        let a = HostTensor.randomNormal([m * k], using: &random), b = HostTensor.randomNormal([k * n], using: &random)
        let bias = HostTensor.randomNormal([m], using: &random)
        let (aDevice, bDevice, biasDevice) = (try backend.upload(a), try backend.upload(b), try backend.upload(bias))
        let c = try backend.makeTensor([m * n])
        try backend.matmul(
            MatrixView(buffer: aDevice.buffer, rowStride: transposedA ? m : k), transposedA: transposedA,
            MatrixView(buffer: bDevice.buffer, rowStride: n), into: MatrixView(buffer: c.buffer, rowStride: n),
            bias: biasDevice.buffer, m: m, n: n, k: k)

        var expected = [Double](repeating: 0, count: m * n)
        for row in 0..<m {
            for column in 0..<n {
                var sum = Double(bias.values[row])
                for term in 0..<k {
                    let aValue = transposedA ? a.values[term * m + row] : a.values[row * k + term]
                    sum += Double(aValue) * Double(b.values[term * n + column])
                }
                expected[row * n + column] = sum
            }
        }
        expectClose(try backend.download(c).values.map(Double.init), expected,
                    relativeL2: Tolerance.deviceVsReference, "matmul m \(m) n \(n) k \(k) Aᵀ \(transposedA)")
    }

    /// A linear layer with enough rows for the tiled product reads a constant weight through its transposed copy,
    /// made once: the copy gives what a weight uploaded as any tensor gives, bit for bit, and a weight rewritten
    /// with `write(_:into:)` is transposed afresh.
    @Test func aConstantWeightsTransposedCopyFollowsItsContents() throws {
        let backend = try TestBackends.device()
        let (rows, inFeatures, outFeatures) = (40, 24, 19)
        var random = SeededGenerator(seed: 0x5C)
        let x = try backend.upload(HostTensor.randomNormal([rows, inFeatures], using: &random))
        let weights = (0..<2).map { _ in HostTensor.randomNormal([outFeatures, inFeatures], using: &random) }
        let constant = try backend.uploadConstant(weights[0])
        #expect(constant.buffer.isConstant)
        for weight in weights {
            try backend.write(weight, into: constant)
            let (cached, plain) = (try backend.makeTensor([rows, outFeatures]), try backend.makeTensor([rows, outFeatures]))
            // Twice through the copy: the second call finds it made.
            for _ in 0..<2 { try backend.linearForward(input: x, weight: constant, bias: nil, output: cached) }
            try backend.linearForward(input: x, weight: try backend.upload(weight), bias: nil, output: plain)
            #expect(try backend.download(cached).values == backend.download(plain).values)
            let g = try LinearGeometry(input: [rows, inFeatures], weight: weight.shape)
            expectClose(try backend.download(cached).values.map(Double.init),
                        ReferenceMath.linearForward(input: try backend.download(x).values.map(Double.init),
                                                    weight: weight.values.map(Double.init), bias: nil, g),
                        relativeL2: Tolerance.deviceVsReference, "linear through a constant's transposed copy")
        }
    }
}
