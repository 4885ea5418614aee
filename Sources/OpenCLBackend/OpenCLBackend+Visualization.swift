import Foundation
import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func affineResampleForward(
        _ checked: Checked<AffineResampleGeometry>, input: Tensor, maps: Tensor, output: Tensor, fill: Float
    ) throws {
        let g = checked.geometry
        try launch(
            try kernel("affine_resample_forward", in: "image.cl"), global: planeGrid(output.shape),
            arguments: [.buffer(input.buffer), .buffer(maps.buffer), .buffer(output.buffer)]
                + resampleSizes(g, planes: output.shape) + [.float(fill)],
            cost: OpCost.affineResample(g), detail: "\(input.shape) → \(output.shape)")
    }

    public func affineResampleBackward(
        _ checked: Checked<AffineResampleGeometry>, gradOutput: Tensor, maps: Tensor, gradInput: Tensor, reach: Int
    ) throws {
        let g = checked.geometry
        try launch(
            try kernel("affine_resample_backward", in: "image.cl"), global: planeGrid(gradInput.shape),
            arguments: [.buffer(gradOutput.buffer), .buffer(maps.buffer), .buffer(gradInput.buffer)]
                + resampleSizes(g, planes: gradInput.shape) + [.int(reach)],
            cost: OpCost.affineResample(g, reach: reach), detail: "\(gradOutput.shape) → \(gradInput.shape), reach \(reach)")
    }

    /// PLANES (of the shape the launch runs over), C, H, W, K, OH, OW.
    private func resampleSizes(_ g: AffineResampleGeometry, planes: TensorShape) -> [KernelArgument] {
        [planes[0] * planes[1], g.input[1], g.input[2], g.input[3], g.copies, g.output[2], g.output[3]].map { .int($0) }
    }

    /// Global size (W, H, N·C).
    private func planeGrid(_ shape: TensorShape) -> [Int] { [shape[3], shape[2], shape[0] * shape[1]] }

    /// PLANES, C, H, W.
    private func planeSizes(_ shape: TensorShape) -> [KernelArgument] {
        [.int(shape[0] * shape[1]), .int(shape[1]), .int(shape[2]), .int(shape[3])]
    }

    public func imagePenaltyBackward(
        _ checked: Checked<TensorShape>, image: Tensor, gradient: Tensor, output: Tensor, l2: Float, tv: Float
    ) throws {
        let shape = image.shape
        try launch(
            try kernel("image_penalty_backward", in: "image.cl"), global: planeGrid(shape),
            arguments: [.buffer(image.buffer), .buffer(gradient.buffer), .buffer(output.buffer),
                        .int(shape[0] * shape[1]), .int(shape[2]), .int(shape[3]), .float(l2), .float(tv)],
            cost: OpCost.elementwiseUpdate(count: shape.count, operations: 12, tensors: 3), detail: "\(shape)")
    }

    public func naturalPriorBackward(
        _ checked: Checked<TensorShape>, image: Tensor, center: Tensor, gradient: Tensor, output: Tensor,
        prior: NaturalImagePrior
    ) throws {
        let shape = image.shape
        let coefficients = prior.coefficients(height: shape[2], width: shape[3])
        try launch(
            try kernel("natural_prior_backward", in: "image.cl"), global: planeGrid(shape),
            arguments: [.buffer(image.buffer), .buffer(center.buffer), .buffer(gradient.buffer), .buffer(output.buffer),
                        .int(shape[0] * shape[1]), .int(shape[1]), .int(shape[2]), .int(shape[3]),
                        .float(Float(coefficients.alpha)), .float(prior.alpha), .float(Float(coefficients.tv)), .float(prior.beta)],
            cost: OpCost.elementwiseUpdate(count: shape.count, operations: 40, tensors: 3), detail: "\(shape)")
    }

    public func addSeededNormal(_ checked: Checked<TensorShape>, into tensor: Tensor, seed: UInt64, firstNormal: UInt64,
                                scale: Float) throws {
        // 64-bit values travel as two 32-bit halves: OpenCL's int arguments are what every launcher passes.
        func halves(_ value: UInt64) -> [KernelArgument] {
            [.int(Int(Int32(bitPattern: UInt32(truncatingIfNeeded: value)))), .int(Int(Int32(bitPattern: UInt32(value >> 32))))]
        }
        let count = tensor.shape.count
        try launch(
            try kernel("add_seeded_normal", in: "image.cl"), global: [count],
            arguments: [.buffer(tensor.buffer)] + halves(seed) + halves(firstNormal) + [.float(scale), .int(count)],
            cost: OpCost.elementwiseUpdate(count: count, operations: 60, tensors: 2), detail: "\(tensor.shape)")
    }

    public func adamStep(_ checked: Checked<TensorShape>, parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, step: Int,
                         _ h: AdamParameters) throws {
        let correction1 = Float(1 - pow(Double(h.beta1), Double(step)))
        let correction2 = Float(1 - pow(Double(h.beta2), Double(step)))
        try launch(
            try kernel("adam_step", in: "optim.cl"), global: [parameter.shape.count],
            arguments: [.buffer(parameter.buffer), .buffer(gradient.buffer), .buffer(firstMoment.buffer),
                        .buffer(secondMoment.buffer), .int(parameter.shape.count), .float(h.learningRate),
                        .float(h.beta1), .float(h.beta2), .float(h.epsilon), .float(correction1), .float(correction2)],
            // Reads the parameter, gradient and both moments; writes the parameter and both moments.
            cost: OpCost.elementwiseUpdate(count: parameter.shape.count, operations: 10, tensors: 7),
            detail: "\(parameter.shape)")
    }

    public func sgdStep(
        _ checked: Checked<TensorShape>, parameter: Tensor, gradient: Tensor, learningRate: Float
    ) throws {
        try launch(
            try kernel("sgd_step", in: "optim.cl"), global: [parameter.shape.count],
            arguments: [.buffer(parameter.buffer), .buffer(gradient.buffer), .int(parameter.shape.count),
                        .float(learningRate)],
            // Reads the parameter and gradient; writes the parameter.
            cost: OpCost.elementwiseUpdate(count: parameter.shape.count, operations: 2, tensors: 3),
            detail: "\(parameter.shape)")
    }
}

extension OpenCLBackend {
    public func diversityBackward(_ checked: Checked<DiversityGeometry>, activation: Tensor, gradient: Tensor, output: Tensor, weight: Float, scratch: Tensor)
        throws
    {
        let g = checked.geometry
        let (n, c, p, row) = (g.images, g.channels, g.positions, g.row)
        let detail = "\(activation.shape)"
        try launch(try kernel("diversity_gram", in: "diversity.cl"), global: [c, c, n],
                   arguments: [.buffer(activation.buffer), .buffer(scratch.buffer), .int(n), .int(c), .int(p),
                               .int(row)],
                   cost: g.gramCost, detail: detail)
        // The Gram and gradient kernels carry the FLOPs; these small reductions over the N Gram matrices are
        // bytes-only helpers (each reads the matrices and writes `global` values).
        for (name, global) in [("diversity_norms", n), ("diversity_sum", c * c), ("diversity_dots", n)] {
            try launch(try kernel(name, in: "diversity.cl"), global: [global],
                       arguments: [.buffer(scratch.buffer), .int(n), .int(c), .int(row)],
                       cost: OpCost(flops: 0, bytes: OpCost.traffic(n * c * c, global)), detail: "\(n)×\(c)×\(c)")
        }
        try launch(try kernel("diversity_backward", in: "diversity.cl"), global: [p, c, n],
                   arguments: [.buffer(activation.buffer), .buffer(gradient.buffer), .buffer(output.buffer),
                               .buffer(scratch.buffer), .int(n), .int(c), .int(p), .int(row), .float(weight)],
                   cost: g.gradientCost, detail: detail)
    }
}
