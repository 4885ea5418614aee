import TensorOps

/// ROAD's linear imputation on the reference (ReferenceMath+Imputation.swift).
extension ReferenceBackend {
    public func linearImputation(
        _ checked: Checked<ImputationGeometry>, image: Tensor, known: Tensor, output: Tensor, scratch: Tensor
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.linearImputation(image: image.doubles, known: known.doubles, g))
    }
}
