import TensorOps

/// A workload, one of its passes, and the seed of its random inputs: run once on the reference and, on the
/// candidate, once per algorithm in `algorithms` (every convolution algorithm that computes the pass), or once as
/// planned when there are none. Each run is one row of `convlens verify`.
public struct ParityCase: Sendable, CustomStringConvertible {
    public let opCase: any OpCase
    public let direction: Direction
    public let seed: UInt64
    public let algorithms: [ConvAlgorithm]

    public init(_ opCase: any OpCase, _ direction: Direction, seed: UInt64) {
        self.opCase = opCase
        self.direction = direction
        self.seed = seed
        algorithms = opCase.convAlgorithms(direction)
    }

    private init(_ parityCase: ParityCase, algorithms: [ConvAlgorithm]) {
        (opCase, direction, seed, self.algorithms) = (parityCase.opCase, parityCase.direction, parityCase.seed, algorithms)
    }

    /// This case with only the algorithms `keep` accepts.
    public func filteringAlgorithms(_ keep: (ConvAlgorithm) -> Bool) -> ParityCase {
        ParityCase(self, algorithms: algorithms.filter(keep))
    }

    /// Rows this case makes in `convlens verify`: one per algorithm, or one.
    public var runCount: Int { max(1, algorithms.count) }

    public var op: String { opCase.op }
    public var description: String { "\(op) \(direction.rawValue) \(opCase.shapeDescription)" }
}

/// How far one backend's results are from another's for one case (under one convolution algorithm).
public struct ParityReport: Sendable {
    public let parityCase: ParityCase
    /// The convolution algorithm the candidate was made to use; nil: its own choice.
    public let algorithm: ConvAlgorithm?
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
    /// Runs `parityCase` on `reference` once and on `candidate` under each of its algorithms (or once), and
    /// compares every output: float outputs by relative L2 error against `tolerance`, index outputs exactly. An
    /// error thrown by either backend is reported as a failure, never rethrown, so one broken case does not hide
    /// the others.
    public static func compare<Candidate: Backend, Reference: Backend>(
        _ parityCase: ParityCase, candidate: Candidate, reference: Reference,
        tolerance: Double = Tolerance.deviceVsReference
    ) -> [ParityReport] {
        func run<B: Backend>(_ backend: B) throws -> [ParityOutput] {
            try parityCase.opCase.run(parityCase.direction, on: backend, seed: parityCase.seed)
        }
        let variants: [ConvAlgorithm?] = parityCase.algorithms.isEmpty ? [nil] : parityCase.algorithms
        let expected: [ParityOutput]
        do {
            expected = try run(reference)
        } catch {
            return variants.map { failed(parityCase, $0, "reference: \(error)") }
        }
        return variants.map { algorithm in
            do {
                let actual = try algorithm.map { algorithm in
                    try candidate.withConvAlgorithm(algorithm) { try run(candidate) }
                } ?? run(candidate)
                return compare(actual, expected, parityCase, algorithm, tolerance: tolerance)
            } catch {
                return failed(parityCase, algorithm, "\(error)")
            }
        }
    }

    private static func failed(_ parityCase: ParityCase, _ algorithm: ConvAlgorithm?, _ reason: String) -> ParityReport {
        ParityReport(parityCase: parityCase, algorithm: algorithm, maxAbsoluteError: .nan, relativeL2Error: .nan,
                     failure: reason)
    }

    private static func compare(
        _ actual: [ParityOutput], _ expected: [ParityOutput], _ parityCase: ParityCase, _ algorithm: ConvAlgorithm?,
        tolerance: Double
    ) -> ParityReport {
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
            parityCase: parityCase, algorithm: algorithm, maxAbsoluteError: maxAbsolute, relativeL2Error: maxRelative,
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
