import BackendParity
@testable import OpenCLBackend
import OpenCLRuntime
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
}
