import TensorOps

extension Graph {
    /// Images of `imageShape` (any batch; one image counts) that fit in `1/share` of `capacity` bytes when each
    /// holds `copies` float32 copies of every value of the graph, at least 1 and at most `limit`; `fallback` when
    /// there is no capacity figure or the shapes cannot be inferred. How batched commands size their batches.
    public func imagesFitting(capacity: Int?, imageShape: TensorShape, copies: Int, share: Int, limit: Int,
                              fallback: Int) -> Int {
        guard let capacity,
            let shapes = try? inferShapes(input: TensorShape([1] + imageShape.dimensions.dropFirst()), through: nil)
        else { return fallback }
        let perImage = max(1, 4 * copies * shapes.values.reduce(0) { $0 + $1.count })
        return max(1, min(limit, capacity / share / perImage))
    }

    /// The shape of every activation when the input has `inputShape`, checking every node's shapes on the way;
    /// with a `target` value, only of the nodes it depends on (layers above it may not accept this input size).
    ///
    /// - Throws: `ModelError.shape` naming the node whose inputs do not fit (with the shapes involved).
    public func inferShapes(input inputShape: TensorShape, through target: String? = nil) throws -> [String: TensorShape] {
        if let plannedInput, plannedInput != inputShape, source != nil {
            return try planned(for: inputShape).inferShapes(input: inputShape, through: target)
        }
        var shapes: [String: TensorShape] = [input.name: inputShape]
        for (name, tensor) in constants { shapes[name] = tensor.shape }
        let needed = target.map(ancestors(of:))
        for node in nodes where needed?.contains(node.output) ?? true {
            do {
                shapes[node.output] = try node.outputShape(inputs: node.inputs.map { name in
                    guard let shape = shapes[name] else { throw ModelError.unknownValue(name, node: node.name) }
                    return shape
                })
            } catch let error as ShapeError {
                throw ModelError.shape(node: node.name, opType: node.opType, error)
            }
        }
        return shapes
    }
}

extension Node {
    /// The output shape given the input shapes, using the same geometry checks the backends run.
    /// - Throws: `ShapeError` when the inputs do not fit, or the output would hold more than
    ///   `TensorShape.maximumCount` elements (checked before anything is allocated for it).
    public func outputShape(inputs: [TensorShape]) throws -> TensorShape {
        let shape = try uncheckedOutputShape(inputs: inputs)
        guard shape.checkedCount != nil else {
            throw ShapeError(op: opType, message: "its output \(shape.dimensions) would hold more than "
                + "\(TensorShape.maximumCount) elements (2³¹ − 1: the kernels index with 32-bit integers)", isTooLarge: true)
        }
        return shape
    }

    private func uncheckedOutputShape(inputs: [TensorShape]) throws -> TensorShape {
        switch operation {
        case .conv(let parameters):
            let geometry = try Conv2DGeometry(input: inputs[0], weight: inputs[1], parameters: parameters)
            try geometry.requireBias(inputs.count > 2 ? inputs[2] : nil)
            return geometry.output
        case .convTranspose(let parameters, let outputPadding):
            return try Node.transposedConvolution(input: inputs[0], weight: inputs[1], parameters, outputPadding).input
        case .channelAffine:
            try inputs[0].requireChannels(inputs[1].count, of: "channel_affine")
            return inputs[0]
        case .activation, .identity:
            return inputs[0]
        case .softmax(let axis):
            return try SoftmaxGeometry(shape: inputs[0], axis: axis).shape
        case .standardize(let axis, _):
            return try StandardizeGeometry([inputs[0]], roles: ["input"], axis: axis < 0 ? axis + inputs[0].rank : axis)
                .shape
        case .maxPool(let parameters):
            return try Pool2DGeometry(.max, input: inputs[0], parameters: parameters).output
        case .averagePool(let parameters):
            return try Pool2DGeometry(.average, input: inputs[0], parameters: parameters).output
        case .reduce(_, let axes, let keep):
            return try ReduceGeometry(input: inputs[0], axes: axes, keepDimensions: keep).output
        case .globalAveragePool:
            try inputs[0].requireNCHW("input", of: "global_avg_pool2d")
            return [inputs[0][0], inputs[0][1], 1, 1]
        case .linear:
            let geometry = try LinearGeometry(input: inputs[0], weight: inputs[1])
            try geometry.requireBias(inputs.count > 2 ? inputs[2] : nil)
            return geometry.output
        case .binary(let op):
            return try BroadcastGeometry(a: inputs[0], b: inputs[1], op: op).output
        case .matmul:
            return try MatMulGeometry(a: inputs[0], b: inputs[1]).output
        case .concat(let axis):
            return try concatShape(inputs, axis: axis)
        case .reshape(let target):
            return try reshapedShape(inputs[0], target: target)
        case .flatten(let axis):
            let rank = inputs[0].rank
            let split = axis < 0 ? axis + rank : axis
            guard (0...rank).contains(split) else {
                throw ShapeError(op: "flatten", message: "axis \(axis) is outside rank \(rank) of \(inputs[0])")
            }
            let dims = inputs[0].dimensions
            return [dims[..<split].reduce(1, *), dims[split...].reduce(1, *)]
        case .resize(let mode, let height, let width):
            let output: TensorShape = [inputs[0][0], inputs[0].rank > 1 ? inputs[0][1] : 1, height, width]
            return try ResizeGeometry(input: inputs[0], output: output, mode: mode).output
        case .pad(let padding, _):
            return try Pad2DGeometry(input: inputs[0], padding: padding).output
        case .permute(let permutation):
            return try PermuteGeometry(input: inputs[0], permutation: permutation).output
        case .slice(let ranges):
            return try SliceGeometry(input: inputs[0], ranges: try Node.resolve(ranges, inputs[0])).output
        case .squeeze(let axes):
            return TensorShape(try Node.squeezedDimensions(inputs[0].dimensions, axes: axes))
        case .unsqueeze(let axes):
            return TensorShape(try Node.unsqueezedDimensions(inputs[0].dimensions, axes: axes))
        }
    }

    /// Concatenation along `axis`: every input viewed as outer × extent × inner × 1 (`concatView`), which the
    /// channel concatenation kernels join on their channel axis.
    private func concatShape(_ inputs: [TensorShape], axis: Int) throws -> TensorShape {
        guard let first = inputs.first else { throw ShapeError(op: "concat", message: "needs at least one input") }
        let resolved = axis < 0 ? axis + first.rank : axis
        guard (0..<first.rank).contains(resolved), inputs.allSatisfy({ $0.rank == first.rank }) else {
            throw ShapeError(op: "concat", message: "axis \(axis) does not fit inputs "
                + inputs.map(\.description).joined(separator: ", "))
        }
        let output = try ConcatGeometry(inputs: inputs.map { Node.concatView($0, axis: resolved) }).output
        var dims = first.dimensions
        dims[resolved] = output[1]
        return TensorShape(dims)
    }

    /// The convolution a ConvTranspose of `input` transposes: its input is the ConvTranspose's output, its output
    /// the ConvTranspose's input.
    static func transposedConvolution(input: TensorShape, weight: TensorShape, _ p: Conv2DParameters,
                                      _ outputPadding: Size2D) throws(ShapeError) -> Conv2DGeometry {
        guard input.rank == 4, weight.rank == 4, input[1] == weight[0] else {
            throw ShapeError(op: "conv_transpose", message: "input \(input) and weight \(weight) must be N×Cin×H×W and "
                + "Cin×Cout/groups×kH×kW")
        }
        let numbers = [input[2], input[3], weight[2], weight[3], p.stride.height, p.stride.width, p.dilation.height,
                       p.dilation.width, p.padding.top, p.padding.left, p.padding.bottom, p.padding.right,
                       outputPadding.height, outputPadding.width]
        guard numbers.allSatisfy({ (0...TensorShape.maximumExtent).contains($0) }) else {
            throw ShapeError(op: "conv_transpose", message: "sizes, strides, dilations and pads must be from 0 to "
                + "\(TensorShape.maximumExtent) (input \(input), weight \(weight), stride \(p.stride), dilation "
                + "\(p.dilation), pads \(p.padding), output padding \(outputPadding))")
        }
        func extent(_ size: Int, _ stride: Int, _ padding: Int, _ dilation: Int, _ kernel: Int, _ extra: Int) -> Int {
            (size - 1) * stride - padding + dilation * (kernel - 1) + extra + 1
        }
        let height = extent(input[2], p.stride.height, p.padding.top + p.padding.bottom, p.dilation.height, weight[2],
                            outputPadding.height)
        let width = extent(input[3], p.stride.width, p.padding.left + p.padding.right, p.dilation.width, weight[3],
                           outputPadding.width)
        let geometry = try Conv2DGeometry(input: [input[0], weight[1] * p.groups, height, width], weight: weight,
                                          parameters: p)
        guard geometry.output == input else {
            throw ShapeError(op: "conv_transpose", message: "output padding \(outputPadding) does not fit stride "
                + "\(p.stride) for input \(input)")
        }
        return geometry
    }

    /// A slice's ranges with its untouched axes (nil) taken whole from `shape`.
    static func resolve(_ ranges: [AxisRange?], _ shape: TensorShape) throws(ShapeError) -> [AxisRange] {
        guard ranges.count == shape.rank else {
            throw ShapeError(op: "slice", message: "\(ranges.count) ranges for input \(shape)")
        }
        return ranges.enumerated().map { $1 ?? .whole(shape[$0]) }
    }

    /// `shape` as outer × extent × inner × 1 around `axis` (non-negative).
    static func concatView(_ shape: TensorShape, axis: Int) -> TensorShape {
        [shape.dimensions[..<axis].reduce(1, *), shape[axis], shape.dimensions[(axis + 1)...].reduce(1, *), 1]
    }

    /// Squeeze's output dimensions: the listed axes (each of size 1) removed, or every size-1 axis without a list.
    static func squeezedDimensions(_ shape: [Int], axes: [Int]?) throws(ShapeError) -> [Int] {
        guard let axes else { return shape.filter { $0 != 1 } }
        let resolved = Set(axes.map { $0 < 0 ? $0 + shape.count : $0 })
        for axis in resolved where !shape.indices.contains(axis) || shape[axis] != 1 {
            throw ShapeError(op: "squeeze", message: "cannot squeeze axis \(axis) of \(shape)")
        }
        return shape.indices.filter { !resolved.contains($0) }.map { shape[$0] }
    }

    /// Unsqueeze's output dimensions: a size-1 axis inserted at each listed position of the output.
    static func unsqueezedDimensions(_ shape: [Int], axes: [Int]) throws(ShapeError) -> [Int] {
        let rank = shape.count + axes.count
        let resolved = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
        guard resolved.count == axes.count, resolved.allSatisfy({ (0..<rank).contains($0) }) else {
            throw ShapeError(op: "unsqueeze", message: "axes \(axes) do not fit an output of rank \(rank)")
        }
        var remaining = shape.makeIterator()
        return (0..<rank).map { resolved.contains($0) ? 1 : remaining.next()! }
    }

    /// ONNX Reshape: 0 keeps the input's dimension at that position, one −1 takes what is left.
    func reshapedShape(_ input: TensorShape, target: [Int]) throws -> TensorShape {
        TensorShape(try Node.reshapedDimensions(input.dimensions, target: target, allowZero: false))
    }

    /// ONNX Reshape of `input` dimensions to `target`: 0 keeps the input's dimension at that position (or is a
    /// zero-size dimension with `allowZero`), one −1 takes what is left; the element counts must agree.
    static func reshapedDimensions(_ input: [Int], target: [Int], allowZero: Bool) throws(ShapeError) -> [Int] {
        func refuse(_ message: String) -> ShapeError { ShapeError(op: "reshape", message: message) }
        var dims: [Int] = []
        var inferred: Int?
        for (axis, value) in target.enumerated() {
            switch value {
            case 0 where !allowZero:
                guard axis < input.count else { throw refuse("0 at axis \(axis) but input \(input) has rank \(input.count)") }
                dims.append(input[axis])
            case -1:
                guard inferred == nil else { throw refuse("more than one -1 in target shape \(target)") }
                inferred = axis
                dims.append(1)
            case 0...:
                dims.append(value)
            default:
                throw refuse("invalid dimension \(value) in target shape \(target)")
            }
        }
        guard let known = checkedProduct(dims), let count = checkedProduct(input) else {
            throw refuse("target shape \(target) is too large")
        }
        if let inferred {
            guard known > 0, count % known == 0 else { throw refuse("cannot reshape \(input) to \(target)") }
            dims[inferred] = count / known
        }
        guard checkedProduct(dims) == count else {
            throw refuse("cannot reshape \(input) (\(count) elements) to \(target)")
        }
        return dims
    }

    /// The product of `dims`, or nil when it overflows.
    static func checkedProduct(_ dims: [Int]) -> Int? {
        var product = 1
        for extent in dims {
            let (next, overflow) = product.multipliedReportingOverflow(by: extent)
            if overflow { return nil }
            product = next
        }
        return product
    }

    /// ONNX Slice's ranges over every axis of `shape`, starts and ends clamped as the operator defines (negative
    /// values count from the end; INT64_MAX-style ends mean "to the end"); unlisted axes are taken whole.
    static func sliceRanges(shape: [Int], starts: [Int], ends: [Int], axes: [Int], steps: [Int]) throws(ShapeError)
        -> [AxisRange]
    {
        func refuse(_ message: String) -> ShapeError { ShapeError(op: "slice", message: message) }
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw refuse("starts \(starts), ends \(ends), axes \(axes) and steps \(steps) differ in length")
        }
        var ranges = shape.map(AxisRange.whole)
        var seen = Set<Int>()
        for index in starts.indices {
            let axis = axes[index] < 0 ? axes[index] + shape.count : axes[index]
            guard shape.indices.contains(axis), seen.insert(axis).inserted else {
                throw refuse("axis \(axes[index]) is outside rank \(shape.count) or repeated")
            }
            let extent = shape[axis], step = steps[index]
            guard step != 0 else { throw refuse("step 0 on axis \(axis)") }
            func resolve(_ value: Int) -> Int { value < 0 ? max(value, Int.min / 2) + extent : value }
            var start = resolve(starts[index]), end = resolve(ends[index])
            if step > 0 {
                start = min(max(start, 0), extent)
                end = min(max(end, 0), extent)
            } else {
                start = min(max(start, 0), extent - 1)
                end = min(max(end, -1), extent - 1)
            }
            let span = step > 0 ? end - start : start - end
            let count = span > 0 ? (span + abs(step) - 1) / abs(step) : 0
            ranges[axis] = AxisRange(start: start, step: step, count: count)
        }
        return ranges
    }
}
