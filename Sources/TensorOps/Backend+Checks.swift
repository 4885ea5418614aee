/// Shape checks of the memory operations, which each backend runs itself (the compute ops' checks run in their
/// front doors, beside each op family's descriptor).
extension Backend {
    /// Throws unless `shape` has the element count of `tensor` (a reshape changes the view, never the data).
    public func checkReshape(_ tensor: TensorShape, to shape: TensorShape) throws {
        try shape.requirePositive("shape", of: "reshape")
        guard shape.count == tensor.count else {
            throw ShapeError(op: "reshape", message: "cannot view \(tensor) (\(tensor.count) elements) as \(shape)")
        }
    }

    /// Throws unless both ranges of a `copyElements` lie inside their tensors.
    public func checkCopy(source: TensorShape, from sourceOffset: Int, destination: TensorShape, at destinationOffset: Int,
                          count: Int) throws {
        for (role, shape, offset) in [("source", source, sourceOffset), ("destination", destination, destinationOffset)]
        where offset < 0 || count < 0 || offset + count > shape.count {
            throw ShapeError(op: "copyElements",
                             message: "\(role) range \(offset)..<\(offset + count) is outside its \(shape.count) elements (\(shape))")
        }
    }
}
