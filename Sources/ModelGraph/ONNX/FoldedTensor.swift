import TensorOps

/// A constant as the ONNX graph holds it — its exact shape (rank 0 for a scalar) and element type — so shape
/// computations (`Shape`, `Gather`, `Slice`, `Concat`, arithmetic …) fold at load exactly as onnxruntime would run
/// them. Weights are `HostTensor`s for the backends; a float `FoldedTensor` shares their storage.
struct FoldedTensor: Equatable {
    enum Elements: Equatable {
        case floats([Float])
        case integers([Int])
        case booleans([Bool])
    }

    var shape: [Int]
    var elements: Elements

    init(shape: [Int], _ elements: Elements) {
        self.shape = shape
        self.elements = elements
    }

    init(integers: [Int], shape: [Int]? = nil) {
        self.init(shape: shape ?? [integers.count], .integers(integers))
    }

    var count: Int { shape.reduce(1, *) }

    var typeName: String {
        switch elements {
        case .floats: "float"
        case .integers: "int64"
        case .booleans: "bool"
        }
    }

    /// The values as integers (floats truncated, booleans 0/1), for operands such as axes and shapes.
    var integerValues: [Int]? {
        guard case .integers(let values) = elements else { return nil }
        return values
    }

    /// The same elements rearranged: element `i` of the result is element `sources[i]` of `self`.
    func gathering(_ sources: [Int], shape: [Int]) -> FoldedTensor {
        switch elements {
        case .floats(let v): FoldedTensor(shape: shape, .floats(sources.map { v[$0] }))
        case .integers(let v): FoldedTensor(shape: shape, .integers(sources.map { v[$0] }))
        case .booleans(let v): FoldedTensor(shape: shape, .booleans(sources.map { v[$0] }))
        }
    }
}

/// Row-major index arithmetic over small n-D shapes, for folding.
enum FoldedIndexing {
    /// The multi-index of flat position `flat` in `shape`.
    static func coordinates(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rest = flat
        var result = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            result[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return result
    }

    /// NumPy broadcasting of several shapes, or nil when they do not broadcast.
    static func broadcast(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            for (offset, extent) in shape.reversed().enumerated() {
                let axis = rank - 1 - offset
                if result[axis] == 1 { result[axis] = extent } else if extent != 1 && extent != result[axis] { return nil }
            }
        }
        return result
    }

    /// For each element of `output` (a broadcast shape), the flat index of the element of `shape` it reads.
    static func broadcastSources(from shape: [Int], to output: [Int]) -> [Int] {
        let strides = TensorShape(shape).strides
        let offset = output.count - shape.count
        return (0..<output.reduce(1, *)).map { flat in
            let position = coordinates(flat, output)
            var source = 0
            for axis in shape.indices where shape[axis] != 1 { source += position[axis + offset] * strides[axis] }
            return source
        }
    }
}
