import TensorOps

/// Turns activations and weights into normalized planes ready for a contact sheet.
public enum SheetTiles {
    /// Each channel of sample `sample` of an N×C×H×W activation, min–max normalized on its own to [0, 1]
    /// (a constant channel becomes 0).
    public static func featureMaps(_ activation: HostTensor, sample: Int = 0) -> [[Float]] {
        let (channels, plane) = (activation.shape[1], activation.shape[2] * activation.shape[3])
        return (0..<channels).map { channel in
            let start = (sample * channels + channel) * plane
            let values = Array(activation.values[start..<(start + plane)])
            let (low, high) = (values.min() ?? 0, values.max() ?? 0)
            return values.map { high > low ? ($0 - low) / (high - low) : 0 }
        }
    }

    /// Per-layer sparsity: the fraction of exact zeros and the mean of an activation.
    public static func statistics(_ activation: HostTensor) -> (zeroFraction: Double, mean: Double) {
        let zeros = activation.values.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        let total = activation.values.reduce(0.0) { $0 + Double($1) }
        let count = Double(max(activation.values.count, 1))
        return (Double(zeros) / count, total / count)
    }

    /// Convolution weights Cout×Cin×KH×KW normalized symmetrically around zero into [0, 1] (0.5 is zero, the
    /// layer's largest magnitude maps to 0 or 1). With 3 input channels each output channel is one RGB kernel
    /// (KH×KW×3 interleaved); otherwise every (output, input) pair is its own KH×KW plane.
    public static func kernels(_ weight: HostTensor) -> (planes: [[Float]], labels: [String], color: Bool) {
        let (outputs, inputs, plane) = (weight.shape[0], weight.shape[1], weight.shape[2] * weight.shape[3])
        let largest = weight.values.map(abs).max() ?? 0
        let scale: Float = largest > 0 ? 0.5 / largest : 0
        func value(_ o: Int, _ i: Int, _ p: Int) -> Float { 0.5 + weight.values[(o * inputs + i) * plane + p] * scale }
        if inputs == 3 {
            let planes = (0..<outputs).map { o in (0..<plane).flatMap { p in (0..<3).map { value(o, $0, p) } } }
            return (planes, (0..<outputs).map(String.init), true)
        }
        var planes: [[Float]] = [], labels: [String] = []
        for o in 0..<outputs {
            for i in 0..<inputs {
                planes.append((0..<plane).map { value(o, i, $0) })
                labels.append(inputs == 1 ? "\(o)" : "\(o)/\(i)")
            }
        }
        return (planes, labels, false)
    }
}
