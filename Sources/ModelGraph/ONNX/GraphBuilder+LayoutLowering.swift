import Foundation
import TensorOps

/// Lowerings that move or resample data: Resize and Upsample, and Slice, Split and Gather on image data.
extension GraphBuilder {
    /// Resize (opset 10 on) and Upsample (before) of an NCHW tensor's planes, to `sizes` or by `scales`: linear with
    /// half-pixel centres (`half_pixel`, `pytorch_half_pixel`) or `align_corners`, and nearest wherever ONNX's index
    /// mapping (its coordinate transformation and rounding) picks the same source pixels as ⌊d · in / out⌋, which
    /// the importer checks output index by output index (PyTorch's `mode="nearest"`, and every integer scale).
    mutating func lowerResize(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let x = proto.input[0]
        guard let shape = shapes?[x], shape.rank == 4 else {
            throw a.unsupported("only NCHW inputs of a shape known at load can be resized")
        }
        guard a.ints("axes") == nil, a.int("antialias", default: 0) == 0 else {
            throw a.unsupported("axes and antialias are not supported")
        }
        func operand(_ index: Int) -> String? {
            index < proto.input.count && !proto.input[index].isEmpty ? proto.input[index] : nil
        }
        var size: [Int]
        var scales: [Float]?
        if proto.opType == "Resize", opset >= 11, let sizes = operand(3) {
            size = try integerOperand(sizes, a, role: "sizes")
        } else {
            let values = proto.opType == "Upsample" && opset < 9 ? a.floats("scales")
                : operand(proto.opType == "Resize" && opset >= 11 ? 2 : 1).flatMap { folded[$0] }.flatMap { tensor in
                    if case .floats(let values) = tensor.elements { values } else { nil }
                }
            guard let values, values.count == 4 else { throw a.unsupported("scales or sizes must be constants for NCHW") }
            scales = values
            let extents = zip(shape.dimensions, values).map { (Double($0) * Double($1)).rounded(.down) }
            guard extents.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= Double(TensorShape.maximumExtent) }) else {
                throw a.unsupported("scales \(values) of \(shape) give sizes outside 0…\(TensorShape.maximumExtent)")
            }
            size = extents.map { Int($0) }
            readsInputShape = true  // the output size follows the input's
        }
        guard size.count == 4, size[0] == shape[0], size[1] == shape[1],
              (1...TensorShape.maximumExtent).contains(size[2]), (1...TensorShape.maximumExtent).contains(size[3])
        else {
            throw a.unsupported("only the spatial axes of \(shape) can be resized (to \(size))")
        }
        let mode = a.string("mode", default: "nearest")
        let transformation = opset >= 11 ? a.string("coordinate_transformation_mode", default: "half_pixel") : "asymmetric"
        let resizeMode: ResizeMode
        switch mode {
        case "linear", "bilinear":
            switch transformation {
            case "half_pixel", "pytorch_half_pixel": resizeMode = .bilinear(alignCorners: false)
            case "align_corners": resizeMode = .bilinear(alignCorners: true)
            default: throw a.unsupported("linear resizing with coordinate_transformation_mode \(transformation) is not supported")
            }
            if let scales, transformation != "align_corners",
               (2...3).contains(where: { Float(size[$0]) / Float(shape[$0]) != scales[$0] }) {
                throw a.unsupported("scales \(scales) do not give whole output sizes; export with sizes")
            }
        case "nearest":
            let rounding = opset >= 11 ? a.string("nearest_mode", default: "round_prefer_floor") : "floor"
            for axis in 2...3 where !Self.nearestMatchesFloor(input: shape[axis], output: size[axis],
                                                               scale: scales?[axis], transformation, rounding) {
                throw a.unsupported("nearest resizing with \(transformation) and \(rounding) from \(shape[axis]) to "
                    + "\(size[axis]) picks other pixels than ⌊d · in / out⌋; only that mapping is supported")
            }
            resizeMode = .nearest
        default:
            throw a.unsupported("mode \(mode) is not supported (nearest, linear)")
        }
        try append(Node(name: name, opType: proto.opType, operation: .resize(resizeMode, height: size[2], width: size[3]),
                        inputs: [x], output: proto.output[0]))
    }

    /// Whether ONNX's nearest index for every output index equals ⌊d · in / out⌋.
    static func nearestMatchesFloor(input: Int, output: Int, scale: Float?, _ transformation: String, _ rounding: String)
        -> Bool
    {
        let factor = Double(scale ?? Float(output) / Float(input))
        return (0..<output).allSatisfy { d in
            let source: Double = switch transformation {
            case "half_pixel", "pytorch_half_pixel": (Double(d) + 0.5) / factor - 0.5
            case "align_corners": output > 1 ? Double(d) * Double(input - 1) / Double(output - 1) : 0
            case "asymmetric": Double(d) / factor
            default: .nan
            }
            let index: Double = switch rounding {
            case "floor": source.rounded(.down)
            case "ceil": source.rounded(.up)
            case "round_prefer_ceil": (source + 0.5).rounded(.down)
            default: (source - 0.5).rounded(.up)  // round_prefer_floor
            }
            return source.isFinite && min(max(Int(index), 0), input - 1) == d * input / output
        }
    }

    /// Slice, Split and Gather on image data, as strided slices (`Operation.slice`): ViT's class token (Gather of
    /// index 0 on the token axis), a channel split (ghost modules, partial convolutions), a Slice with any steps. A
    /// Gather's indices must be constants (or computed from shapes; one index drops the axis): evenly spaced ones
    /// are one slice, others (a channel shuffle, a permutation, repeats) runs of evenly spaced indices, each a
    /// slice, concatenated along the axis.
    mutating func lowerSelection(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let x = proto.input[0]
        guard let shape = shapes?[x]?.dimensions else {
            throw a.unsupported("the input's shape must be known at load (fix the model's input size)")
        }
        func axis(_ value: Int) throws -> Int {
            let resolved = value < 0 ? value + shape.count : value
            guard shape.indices.contains(resolved) else { throw a.unsupported("axis \(value) is outside rank \(shape.count)") }
            return resolved
        }
        func slice(_ ranges: [Int: AxisRange], output: String, nodeName: String) throws {
            for (axis, range) in ranges where range.count < 1 {
                throw a.unsupported("the slice of axis \(axis) (\(range)) is empty")
            }
            if ranges[0] != nil && ranges[0] != .whole(shape[0]) { readsInputShape = true }  // a slice of the batch
            try append(Node(name: nodeName, opType: proto.opType,
                            operation: .slice(shape.indices.map { ranges[$0] }), inputs: [x], output: output))
        }
        switch proto.opType {
        case "Slice":
            let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
            if opset >= 10 {
                let operands = proto.input.map { $0.isEmpty ? nil : $0 }
                func values(_ index: Int, _ role: String) throws -> [Int]? {
                    guard index < operands.count, let value = operands[index] else { return nil }
                    return try integerOperand(value, a, role: role)
                }
                guard let s = try values(1, "starts"), let e = try values(2, "ends") else {
                    throw a.unsupported("starts and ends are required")
                }
                (starts, ends, axes, steps) = (s, e, try values(3, "axes"), try values(4, "steps"))
            } else {
                guard let s = a.ints("starts"), let e = a.ints("ends") else { throw a.unsupported("starts and ends are required") }
                (starts, ends, axes, steps) = (s, e, a.ints("axes"), nil)
            }
            let listed = try (axes ?? Array(starts.indices)).map(axis)
            let all = try Node.sliceRanges(shape: shape, starts: starts, ends: ends, axes: listed,
                                           steps: steps ?? [Int](repeating: 1, count: starts.count))
            try slice(Dictionary(uniqueKeysWithValues: listed.map { ($0, all[$0]) }), output: proto.output[0],
                      nodeName: name)
        case "Gather":
            let along = try axis(a.int("axis", default: 0))
            guard proto.input.count > 1, let indices = folded[proto.input[1]], let positions = indices.integerValues,
                  !positions.isEmpty
            else { throw a.unsupported("indices must be constants (or computed from shapes)") }
            // torch.export writes `as_strided` as a Gather from the flattened tensor; when the indices read it in
            // order, that is a view.
            if shape.count == 1, positions == Array(0..<shape[0]) {
                return try append(Node(name: name, opType: proto.opType, operation: .reshape(indices.shape), inputs: [x],
                                       output: proto.output[0]))
            }
            guard indices.shape.count <= 1 else {
                throw a.unsupported("indices of shape \(indices.shape) are supported only when they read a flattened "
                    + "tensor in order (a view)")
            }
            let wrapped = try positions.map { index in
                let position = index < 0 ? index + shape[along] : index
                guard (0..<shape[along]).contains(position) else {
                    throw a.unsupported("index \(index) is outside axis \(along) of size \(shape[along])")
                }
                return position
            }
            let runs = Self.evenlySpacedRuns(wrapped)
            if runs.count > 1 {
                guard runs.count <= Self.maximumGatherRuns else {
                    throw a.unsupported("indices \(positions.prefix(8))… form \(runs.count) evenly spaced runs (at most "
                        + "\(Self.maximumGatherRuns) are supported)")
                }
                let parts = try runs.enumerated().map { index, run in
                    let part = "\(name)/run\(index)"
                    try slice([along: run], output: part, nodeName: part)
                    return part
                }
                return try append(Node(name: name, opType: proto.opType, operation: .concat(axis: along), inputs: parts,
                                       output: proto.output[0]))
            }
            let range = runs[0]
            guard indices.shape.isEmpty else {
                return try slice([along: range], output: proto.output[0], nodeName: name)
            }
            let selected = "\(name)/selected"
            try slice([along: range], output: selected, nodeName: "\(name)/select")
            try append(Node(name: name, opType: proto.opType, operation: .squeeze(axes: [along]), inputs: [selected],
                            output: proto.output[0]))
        default:  // Split
            let along = try axis(a.int("axis", default: 0))
            let outputs = Array(proto.output)
            var sizes = opset >= 13 ? (proto.input.count > 1 && !proto.input[1].isEmpty
                ? try integerOperand(proto.input[1], a, role: "split") : nil) : a.ints("split")
            if sizes == nil {
                let parts = opset >= 18 ? a.int("num_outputs", default: outputs.count) : outputs.count
                let size = (shape[along] + parts - 1) / parts  // the last part takes what is left
                sizes = (0..<parts).map { min(size, max(shape[along] - $0 * size, 0)) }
            }
            guard let sizes, sizes.count == outputs.count, sizes.reduce(0, +) == shape[along], sizes.allSatisfy({ $0 > 0 })
            else { throw a.unsupported("split sizes do not divide axis \(along) of size \(shape[along]) into \(outputs.count)") }
            var start = 0
            for (index, (output, size)) in zip(outputs, sizes).enumerated() {
                defer { start += size }
                guard !output.isEmpty else { continue }
                try slice([along: AxisRange(start: start, count: size)], output: output,
                          nodeName: index == 0 ? name : "\(name)/\(index)")
            }
        }
    }

    /// Expand and Tile on image data. Expand adds zeros of the broadcast shape (the binary add broadcasts, and its
    /// gradient sums over the repeated axes); Tile concatenates copies along each repeated axis (the gradients of
    /// the copies add up). The target shape or the repeats must be known at load.
    mutating func lowerRepetition(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let x = proto.input[0]
        guard proto.input.count > 1, let shape = shapes?[x]?.dimensions else {
            throw a.unsupported("the input's shape must be known at load (fix the model's input size)")
        }
        let operand = try integerOperand(proto.input[1], a, role: proto.opType == "Expand" ? "shape" : "repeats")
        if proto.opType == "Tile" {
            // Each copy is an input of a concatenation: a bound keeps a hostile count from building a huge node.
            guard operand.count == shape.count, operand.allSatisfy({ (1...Self.maximumTileRepeats).contains($0) }) else {
                throw a.unsupported("repeats \(operand) do not fit an input of rank \(shape.count) (one count from 1 to "
                    + "\(Self.maximumTileRepeats) per axis)")
            }
            var current = x
            let axes = operand.indices.filter { operand[$0] > 1 }
            for axis in axes {
                let output = axis == axes.last ? proto.output[0] : "\(name)/tile\(axis)"
                try append(Node(name: output == proto.output[0] ? name : output, opType: proto.opType,
                                operation: .concat(axis: axis), inputs: Array(repeating: current, count: operand[axis]),
                                output: output))
                current = output
            }
            if axes.isEmpty {
                try append(Node(name: name, opType: proto.opType, operation: .identity, inputs: [x], output: proto.output[0]))
            }
            return
        }
        // NumPy broadcasting of the input's shape with the target; the zeros keep 1 where the input already has
        // the result's size, so they hold only the repeated axes.
        let rank = max(shape.count, operand.count)
        let padded = [Int](repeating: 1, count: rank - shape.count) + shape
        let target = [Int](repeating: 1, count: rank - operand.count) + operand
        let result = try zip(padded, target).map { have, want in
            guard have == want || have == 1 || want == 1 else {
                throw a.unsupported("shape \(operand) does not broadcast with the input's \(shape)")
            }
            return max(have, want)
        }
        guard result != shape else {
            return try append(Node(name: name, opType: proto.opType, operation: .identity, inputs: [x], output: proto.output[0]))
        }
        let zerosShape = zip(padded, result).map { $0 == $1 ? 1 : $1 }
        try requireSize(zerosShape, a)
        let zeros = "\(name)/zeros"
        constants[zeros] = HostTensor(zeros: TensorShape(zerosShape))
        try append(Node(name: name, opType: proto.opType, operation: .binary(.add), inputs: [x, zeros],
                        output: proto.output[0]))
    }

    /// A Tile repeating an axis of image data more times than this is refused: each copy is a concat input.
    static let maximumTileRepeats = 1024

    /// A Gather with indices in more runs than this is refused: each run is a node.
    static let maximumGatherRuns = 64

    /// `positions` split, greedily from the front, into runs of evenly spaced indices (a repeated index ends a run:
    /// a strided slice needs a non-zero step).
    static func evenlySpacedRuns(_ positions: [Int]) -> [AxisRange] {
        var runs: [AxisRange] = []
        var start = 0
        while start < positions.count {
            let step = start + 1 < positions.count ? positions[start + 1] - positions[start] : 1
            var end = start + 1
            if step != 0 {
                while end < positions.count && positions[end] - positions[end - 1] == step { end += 1 }
            }
            runs.append(AxisRange(start: positions[start], step: step == 0 ? 1 : step, count: end - start))
            start = end
        }
        return runs
    }
}
