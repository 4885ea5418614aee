import TensorOps

/// The cases `convlens verify` and the parity tests run: every op family's parity cases (`OpRegistry`), each pass
/// with its own seed, in a fixed order.
public enum ParityCatalog {
    public static let cases: [ParityCase] = {
        var cases: [ParityCase] = []
        for opCase in OpRegistry.parityCases {
            for direction in opCase.directions {
                cases.append(ParityCase(opCase, direction, seed: 0xC0_4E15 &+ UInt64(cases.count)))
            }
        }
        return cases
    }()

    /// Every op name, in catalog order, for `--op` and its error message.
    public static var ops: [String] {
        var seen: Set<String> = []
        return OpRegistry.parityCases.map(\.op).filter { seen.insert($0).inserted }
    }
}
