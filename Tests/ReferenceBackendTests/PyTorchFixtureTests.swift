import BackendParity
import Foundation
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The reference against PyTorch's own results for the same inputs (Tests/ReferenceBackendTests/Fixtures,
/// made by Tools/make_op_fixtures.py): forward outputs and every gradient.
@Suite("Reference matches PyTorch")
struct PyTorchFixtureTests {
    static let fixtures: [FixtureCase] = {
        guard let url = Bundle.module.url(forResource: "torch_ops", withExtension: "json", subdirectory: "Fixtures"),
            let data = try? Data(contentsOf: url),
            let file = try? JSONDecoder().decode(FixtureFile.self, from: data)
        else { return [] }
        return file.cases
    }()

    @Test func fixturesLoad() {
        #expect(Self.fixtures.count >= 30, "torch_ops.json missing or unreadable")
    }

    @Test(arguments: fixtures)
    func matchesPyTorch(_ fixture: FixtureCase) throws {
        let results = try fixture.runOnReference()
        #expect(!results.isEmpty)
        for (role, actual) in results {
            let expected = try #require(fixture.tensors[role], "fixture lacks \(role)")
            #expect(actual.shape == TensorShape(expected.shape), "\(role) shape")
            if role == "argmax" {
                #expect(actual.values == expected.data, "argmax indices")
            } else {
                expectClose(actual.values, expected.data, relativeL2: Tolerance.referenceVsPyTorch, role)
            }
        }
    }
}
