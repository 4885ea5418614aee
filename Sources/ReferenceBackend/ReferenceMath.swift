import TensorOps

/// The specification of every op, in `Double`, written for clarity rather than speed.
///
/// `ReferenceBackend` runs these on float32 tensors (converting at op boundaries), and the finite-difference tests
/// run them directly, so the gradients they check are the ones the parity tests trust. Arrays are row-major with
/// the layouts the geometry types describe.
public enum ReferenceMath {}
