import BackendParity
import Testing

/// Expects `actual` within `tolerance` of `expected` in relative L2 error (`ErrorMetrics`; NaN fails), reporting the
/// failure at the caller.
public func expectClose(
    _ actual: [Double], _ expected: [Double], relativeL2 tolerance: Double, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)",
            sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    let error = ErrorMetrics(actual: actual, expected: expected).relativeL2
    #expect(error <= tolerance, "\(what): rel L2 error \(error) > \(tolerance)", sourceLocation: sourceLocation)
}

/// Float32 overload, for results read back from a backend.
public func expectClose(
    _ actual: [Float], _ expected: [Float], relativeL2 tolerance: Double, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectClose(actual.map(Double.init), expected.map(Double.init), relativeL2: tolerance, what,
                sourceLocation: sourceLocation)
}
