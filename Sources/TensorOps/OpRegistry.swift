/// Every op family, in the order `convlens verify` runs them. The parity tests, `convlens verify` and the
/// finite-difference tests iterate this list; a new family is added here once.
public enum OpRegistry {
    public static let families: [any OpFamily.Type] = [
        Conv2DOp.self, Pool2DOp.self, ActivationOp.self, LinearOp.self, ElementwiseOp.self, LayoutOp.self, ReduceOp.self,
        ResizeOp.self, InverseDFTOp.self, VisualizationOp.self, MaCoOp.self, CAMOp.self, ImputationOp.self,
        EmbeddingOp.self,
    ]

    public static var parityCases: [any OpCase] { families.flatMap { $0.parityCases } }
    public static var gradientCases: [any DifferentiableOpCase] { families.flatMap { $0.gradientCases } }
}
