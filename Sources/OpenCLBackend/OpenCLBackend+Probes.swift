import OpenCLRuntime
import TensorOps

/// The device's ceilings, measured by Kernels/probe.cl: what `convlens bench` compares every kernel with.
extension OpenCLBackend {
    /// One run of the FMA probe: device seconds (from the kernel's event) and the flops it did.
    public func fmaProbe() throws -> (seconds: Double, flops: Int) {
        let width = min(matmulTiling.vectorWidth, 16)
        // Enough work that launching is noise: ≈ 7 ms on a 2-core CPU, a few ms on a large GPU.
        let items = context.device.computeUnits * (context.device.isCPU ? 4096 : 65536)
        let output = try makeTensor([items])
        let event = try context.launch(
            try kernel("peak_fma", in: "probe.cl", defines: ["VW": width]), global: [items],
            local: [context.device.isCPU ? 16 : 256],
            arguments: [.buffer(output.buffer), .float(0.999), .float(0.001)])
        let (start, end) = try event.timing()
        // CHAINS · ITERATIONS FMAs of `width` lanes per work-item, 2 flops each.
        return (Double(end - start) / 1e9, items * 12 * 256 * width * 2)
    }

    /// One device-to-device copy of `floats` values by the copy probe: device seconds and bytes read + written.
    public func copyProbe(floats: Int = 1 << 26) throws -> (seconds: Double, bytes: Int) {
        let width = min(matmulTiling.vectorWidth, 16)
        let (source, destination) = (try makeTensor([floats]), try makeTensor([floats]))
        let event = try context.launch(
            try kernel("peak_copy", in: "probe.cl", defines: ["VW": width]), global: [floats / width],
            local: [64], arguments: [.buffer(source.buffer), .buffer(destination.buffer), .int(floats / width)])
        let (start, end) = try event.timing()
        return (Double(end - start) / 1e9, 2 * floats * MemoryLayout<Float>.stride)
    }
}
