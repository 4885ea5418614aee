import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func reduceForward(_ checked: Checked<ReduceGeometry>, _ op: Reduction, input: Tensor, output: Tensor) throws {
        let g = checked.geometry
        try launch(
            try kernel("reduce_forward", in: "reduce.cl", defines: ["REDUCE_OP": op.code]), global: [g.inner, g.outer],
            arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(g.outer), .int(g.reduced), .int(g.inner)],
            cost: g.cost(backward: false), detail: "\(op.rawValue) \(g.input) → \(g.output)")
    }

    public func reduceBackward(
        _ checked: Checked<ReduceGeometry>, _ op: Reduction, input: Tensor, output: Tensor, gradOutput: Tensor,
        gradInput: Tensor
    ) throws {
        let g = checked.geometry
        try launch(
            try kernel("reduce_backward", in: "reduce.cl", defines: ["REDUCE_OP": op.code]), global: [g.inner, g.outer],
            arguments: [.buffer(input.buffer), .buffer(output.buffer), .buffer(gradOutput.buffer), .buffer(gradInput.buffer),
                        .int(g.outer), .int(g.reduced), .int(g.inner)],
            cost: g.cost(backward: true), detail: "\(op.rawValue) \(g.output) → \(g.input)")
    }
}
