import ReferenceBackend
import TensorOps
import Testing

/// Tests/ReferenceBackendTests/Fixtures/torch_ops.json, as Tools/make_op_fixtures.py writes it.
struct FixtureFile: Decodable {
    let generator: String
    let cases: [FixtureCase]
}

/// One op with PyTorch's inputs, seed gradient (`grad_output`), outputs and gradients, by role name.
struct FixtureCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Tensor: Decodable, Sendable {
        let shape: [Int]
        let data: [Float]
    }

    struct Parameters: Decodable, Sendable {
        let stride: [Int]?
        let padding: [Int]?
        let dilation: [Int]?
        let groups: Int?
        let kernel: [Int]?
        let ceil_mode: Bool?
        let count_include_pad: Bool?
        let alpha: Float?
        let min: Float?
        let max: Float?
        let perm: [Int]?
        /// (start, step, count) per axis.
        let ranges: [[Int]]?
        let axis: Int?
        let epsilon: Float?
        let reduction: String?
        let axes: [Int]?
    }

    let name: String
    let op: String
    let params: Parameters
    let tensors: [String: Tensor]

    var testDescription: String { name }

    struct UnknownOp: Error { let op: String }

    /// Runs the fixture's forward and backward on the reference backend; returns every result by fixture role.
    func runOnReference() throws -> [String: HostTensor] {
        let backend = ReferenceBackend()
        func input(_ role: String) throws -> ReferenceBackend.Tensor {
            let tensor = try #require(tensors[role], "fixture \(name) lacks \(role)")
            return try backend.upload(HostTensor(shape: TensorShape(tensor.shape), values: tensor.data))
        }
        func result(_ role: String) throws -> ReferenceBackend.Tensor {
            try backend.makeTensor(TensorShape(try #require(tensors[role], "fixture \(name) lacks \(role)").shape))
        }
        var results: [String: ReferenceBackend.Tensor] = [:]
        let dy = try input("grad_output")

        switch op {
        case "conv2d":
            let x = try input("input"), w = try input("weight")
            let b = tensors["bias"] == nil ? nil : try input("bias")
            let p = Conv2DParameters(
                stride: size(params.stride), padding: padding(params.padding), dilation: size(params.dilation),
                groups: params.groups ?? 1)
            let (y, dx, dw) = (try result("output"), try result("grad_input"), try result("grad_weight"))
            let db = b == nil ? nil : try result("grad_bias")
            try backend.conv2dForward(input: x, weight: w, bias: b, output: y, parameters: p)
            try backend.conv2dBackwardInput(gradOutput: dy, weight: w, gradInput: dx, parameters: p)
            try backend.conv2dBackwardWeight(gradOutput: dy, input: x, gradWeight: dw, gradBias: db, parameters: p)
            results = ["output": y, "grad_input": dx, "grad_weight": dw]
            results["grad_bias"] = db
        case "max_pool2d", "avg_pool2d":
            let x = try input("input")
            let p = Pool2DParameters(
                kernel: size(params.kernel), stride: size(params.stride), padding: padding(params.padding),
                dilation: size(params.dilation), ceilMode: params.ceil_mode ?? false,
                countIncludePad: params.count_include_pad ?? true)
            let (y, dx) = (try result("output"), try result("grad_input"))
            if op == "max_pool2d" {
                let argmax = try backend.makeIndexTensor(y.shape)
                try backend.maxPool2dForward(input: x, output: y, argmax: argmax, parameters: p)
                try backend.maxPool2dBackward(gradOutput: dy, argmax: argmax, gradInput: dx, parameters: p)
                // The fixture stores indices as floats; compare them in that form.
                results["argmax"] = try backend.upload(
                    HostTensor(shape: argmax.shape, values: argmax.values.map(Float.init)))
            } else {
                try backend.avgPool2dForward(input: x, output: y, parameters: p)
                try backend.avgPool2dBackward(gradOutput: dy, gradInput: dx, parameters: p)
            }
            results["output"] = y
            results["grad_input"] = dx
        case "global_avg_pool2d":
            let (x, y, dx) = (try input("input"), try result("output"), try result("grad_input"))
            try backend.globalAvgPool2dForward(input: x, output: y)
            try backend.globalAvgPool2dBackward(gradOutput: dy, gradInput: dx)
            results = ["output": y, "grad_input": dx]
        case "relu", "leaky_relu", "clip":
            let activation: Activation = switch op {
            case "relu": .relu
            case "leaky_relu": .leakyReLU(alpha: params.alpha ?? 0.01)
            default: .clip(min: params.min ?? 0, max: params.max ?? 6)
            }
            let (x, y, dx) = (try input("input"), try result("output"), try result("grad_input"))
            try backend.activationForward(activation, input: x, output: y)
            try backend.activationBackward(activation, input: x, gradOutput: dy, gradInput: dx)
            results = ["output": y, "grad_input": dx]
        case "linear":
            let (x, w, b) = (try input("input"), try input("weight"), try input("bias"))
            let (y, dx, dw, db) = (try result("output"), try result("grad_input"), try result("grad_weight"),
                                   try result("grad_bias"))
            try backend.linearForward(input: x, weight: w, bias: b, output: y)
            try backend.linearBackwardInput(gradOutput: dy, weight: w, gradInput: dx)
            try backend.linearBackwardWeight(gradOutput: dy, input: x, gradWeight: dw, gradBias: db)
            results = ["output": y, "grad_input": dx, "grad_weight": dw, "grad_bias": db]
        case "add":
            let (a, b, y) = (try input("a"), try input("b"), try result("output"))
            let (da, db) = (try result("grad_a"), try result("grad_b"))
            try backend.binaryForward(.add, a, b, output: y)
            try backend.binaryBackward(.add, a: a, b: b, gradOutput: dy, gradA: da, gradB: db)
            results = ["output": y, "grad_a": da, "grad_b": db]
        case "matmul":
            let (a, b, y) = (try input("a"), try input("b"), try result("output"))
            let (da, db) = (try result("grad_a"), try result("grad_b"))
            try backend.matmulForward(a: a, b: b, output: y)
            try backend.matmulBackward(a: a, b: b, gradOutput: dy, gradA: da, gradB: db)
            results = ["output": y, "grad_a": da, "grad_b": db]
        case "permute":
            let permutation = try #require(params.perm)
            let (x, y, dx) = (try input("input"), try result("output"), try result("grad_input"))
            try backend.permute(input: x, output: y, permutation: permutation)
            try backend.permuteBackward(gradOutput: dy, gradInput: dx, permutation: permutation)
            results = ["output": y, "grad_input": dx]
        case "slice":
            let ranges = try #require(params.ranges).map { AxisRange(start: $0[0], step: $0[1], count: $0[2]) }
            let (x, y, dx) = (try input("input"), try result("output"), try result("grad_input"))
            try backend.sliceForward(input: x, output: y, ranges: ranges)
            try backend.sliceBackward(gradOutput: dy, gradInput: dx, ranges: ranges)
            results = ["output": y, "grad_input": dx]
        case "standardize":
            let (axis, epsilon) = (try #require(params.axis), StandardizeEpsilon.variance(try #require(params.epsilon)))
            let (x, y, dx) = (try input("input"), try result("output"), try result("grad_input"))
            try backend.standardizeForward(input: x, output: y, axis: axis, epsilon: epsilon)
            try backend.standardizeBackward(input: x, gradOutput: dy, gradInput: dx, axis: axis, epsilon: epsilon)
            results = ["output": y, "grad_input": dx]
        case "reduce":
            let op = try #require(params.reduction.flatMap(Reduction.init(rawValue:)))
            let axes = try #require(params.axes)
            let (x, y, dx) = (try input("input"), try result("output"), try result("grad_input"))
            try backend.reduceForward(op, input: x, output: y, axes: axes.first!...axes.last!)
            try backend.reduceBackward(op, input: x, output: y, gradOutput: dy, gradInput: dx, axes: axes.first!...axes.last!)
            results = ["output": y, "grad_input": dx]
        case "concat":
            let count = tensors.keys.filter { $0.hasPrefix("input") }.count
            let inputs = try (0..<count).map { try input("input\($0)") }
            let grads = try (0..<count).map { try result("grad_input\($0)") }
            let y = try result("output")
            try backend.concatForward(inputs, output: y)
            try backend.concatBackward(gradOutput: dy, gradInputs: grads)
            results["output"] = y
            for (index, grad) in grads.enumerated() { results["grad_input\(index)"] = grad }
        default:
            throw UnknownOp(op: op)
        }
        return try results.mapValues { try backend.download($0) }
    }

    private func size(_ pair: [Int]?) -> Size2D { pair.map { Size2D($0[0], $0[1]) } ?? Size2D(1) }

    private func padding(_ sides: [Int]?) -> Padding2D {
        sides.map { Padding2D(top: $0[0], left: $0[1], bottom: $0[2], right: $0[3]) } ?? .zero
    }
}
