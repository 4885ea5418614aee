import BackendParity
import TensorOps
import Testing

/// Every hand-written backward pass of the reference against central finite differences of its own forward pass,
/// all in float64: each op family's gradient cases (`OpRegistry.gradientCases`).
@Suite("Reference gradients match finite differences")
struct FiniteDifferenceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let opCase: any DifferentiableOpCase
        var testDescription: String { "\(opCase.op) \(opCase.shapeDescription)" }
    }

    @Test(arguments: OpRegistry.gradientCases.map(Case.init))
    func gradientsMatchFiniteDifferences(_ c: Case) throws {
        let results = try GradientCheck.check(c.opCase)
        #expect(!results.isEmpty, "no gradient was checked")
        for result in results {
            #expect(result.passed, "\(result)")
        }
    }

    /// Every family with a differentiable op has gradient cases, and every differentiable op of the parity catalog
    /// (every op with a backward pass that is a gradient) is among them.
    @Test func everyDifferentiableOpIsChecked() {
        let checked = Set(OpRegistry.gradientCases.map(\.op))
        let differentiable = Set(OpRegistry.parityCases.compactMap { ($0 as? any DifferentiableOpCase)?.op })
        #expect(differentiable.subtracting(checked).isEmpty, "unchecked: \(differentiable.subtracting(checked).sorted())")
    }
}
