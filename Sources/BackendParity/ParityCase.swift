import TensorOps

/// One row of `convlens verify`: a workload, one of its passes, and the seed of its random inputs.
public struct ParityCase: Sendable, CustomStringConvertible {
    public let workload: ParityWorkload
    public let direction: Direction
    public let seed: UInt64

    public init(_ workload: ParityWorkload, _ direction: Direction, seed: UInt64) {
        self.workload = workload
        self.direction = direction
        self.seed = seed
    }

    public var op: String { workload.op }
    public var description: String { "\(op) \(direction.rawValue) \(workload.shapeDescription)" }
}

/// How far one backend's results are from another's for one case.
public struct ParityReport: Sendable {
    public let parityCase: ParityCase
    /// Largest absolute difference over every output.
    public let maxAbsoluteError: Double
    /// Largest, over the outputs, of ‖a − b‖₂ / ‖b‖₂ (‖a − b‖₂ when b is all zeros).
    public let relativeL2Error: Double
    /// Why the case failed, when it did: an output over tolerance, an index mismatch, or a thrown error.
    public let failure: String?

    public var passed: Bool { failure == nil }
}

/// Runs parity cases on two backends and compares what they produce.
public enum ParityRunner {
    /// Runs `parityCase` on `candidate` and on `reference` and compares every output: float outputs by relative L2
    /// error against `tolerance`, index outputs exactly. An error thrown by either backend is reported as a failure,
    /// never rethrown, so one broken case does not hide the others.
    public static func compare<Candidate: Backend, Reference: Backend>(
        _ parityCase: ParityCase, candidate: Candidate, reference: Reference,
        tolerance: Double = Tolerance.deviceVsReference
    ) -> ParityReport {
        let expected: [ParityOutput]
        let actual: [ParityOutput]
        do {
            expected = try parityCase.workload.run(parityCase.direction, on: reference, seed: parityCase.seed)
            actual = try parityCase.workload.run(parityCase.direction, on: candidate, seed: parityCase.seed)
        } catch {
            return ParityReport(
                parityCase: parityCase, maxAbsoluteError: .nan, relativeL2Error: .nan, failure: "\(error)")
        }
        var maxAbsolute = 0.0
        var maxRelative = 0.0
        var failures: [String] = []
        for (a, b) in zip(actual, expected) {
            let error = ErrorMetrics(actual: a.values, expected: b.values)
            maxAbsolute = max(maxAbsolute, error.maxAbsolute)
            maxRelative = max(maxRelative, error.relativeL2)
            if a.exact && error.maxAbsolute != 0 {
                failures.append("\(a.name): \(error.mismatches) of \(a.values.count) differ")
            } else if !a.exact && !(error.relativeL2 <= tolerance) {
                failures.append("\(a.name): rel L2 \(error.relativeL2) > \(tolerance)")
            }
        }
        return ParityReport(
            parityCase: parityCase, maxAbsoluteError: maxAbsolute, relativeL2Error: maxRelative,
            failure: failures.isEmpty ? nil : failures.joined(separator: "; "))
    }
}

/// Distances between two equally long arrays, accumulated in Double.
public struct ErrorMetrics: Sendable {
    public let maxAbsolute: Double
    /// ‖actual − expected‖₂ / ‖expected‖₂, or ‖actual − expected‖₂ when `expected` is all zeros.
    public let relativeL2: Double
    /// Number of positions that differ at all.
    public let mismatches: Int

    public init(actual: [Float], expected: [Float]) {
        self.init(actual: actual.map(Double.init), expected: expected.map(Double.init))
    }

    public init(actual: [Double], expected: [Double]) {
        precondition(actual.count == expected.count, "comparing \(actual.count) values with \(expected.count)")
        var maxAbsolute = 0.0, difference = 0.0, norm = 0.0, mismatches = 0
        for (a, b) in zip(actual, expected) {
            let delta = a - b
            // NaN must fail, so it is counted as an infinite difference.
            let magnitude = delta.isNaN ? Double.infinity : abs(delta)
            maxAbsolute = max(maxAbsolute, magnitude)
            difference += magnitude * magnitude
            norm += b * b
            if magnitude != 0 { mismatches += 1 }
        }
        self.maxAbsolute = maxAbsolute
        self.relativeL2 = norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
        self.mismatches = mismatches
    }
}
