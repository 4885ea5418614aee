import TensorOps

/// ROAD's linear imputation on the reference (ReferenceMath+Imputation.swift).
extension ReferenceBackend {
    public func linearImputation(image: Tensor, known: Tensor, output: Tensor, scratch: Tensor) throws {
        let g = try ImputationGeometry(image: image.shape, known: known.shape, output: output.shape, scratch: scratch.shape)
        output.store(ReferenceMath.linearImputation(image: image.doubles, known: known.doubles, g))
    }
}
