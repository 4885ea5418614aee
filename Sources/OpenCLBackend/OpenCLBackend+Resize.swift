import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func resizeForward(_ checked: Checked<ResizeGeometry>, input: Tensor, output: Tensor) throws {
        let g = checked.geometry
        try launch(try kernel("resize_forward", in: "resize.cl", defines: ["MODE": g.mode.code]),
                   global: [g.output[3], g.output[2], g.planes],
                   arguments: [.buffer(input.buffer), .buffer(output.buffer)] + sizes(g),
                   cost: g.cost, detail: "\(g.input) → \(g.output) \(g.mode)")
    }

    public func resizeBackward(_ checked: Checked<ResizeGeometry>, gradOutput: Tensor, gradInput: Tensor) throws {
        let g = checked.geometry
        try launch(try kernel("resize_backward", in: "resize.cl", defines: ["MODE": g.mode.code]),
                   global: [g.input[3], g.input[2], g.planes],
                   arguments: [.buffer(gradOutput.buffer), .buffer(gradInput.buffer)] + sizes(g),
                   cost: g.cost, detail: "\(g.output) → \(g.input) \(g.mode)")
    }

    /// planes, H, W, OH, OW.
    private func sizes(_ g: ResizeGeometry) -> [KernelArgument] {
        [g.planes, g.input[2], g.input[3], g.output[2], g.output[3]].map { .int($0) }
    }
}
