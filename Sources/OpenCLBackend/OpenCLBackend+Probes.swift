import OpenCLRuntime
import TensorOps

/// Device memory for the peak probes, allocated once: a fresh 256 MB pair per copy run made every run fault in
/// 512 MB of pages (1.6 million page faults and 5 s of system time in one `convlens bench --suite ops --layer`).
public struct PeakProbeBuffers {
    let fmaOutput: OpenCLTensor<Float>
    let copySource: OpenCLTensor<Float>
    let copyDestination: OpenCLTensor<Float>
}

/// The device's ceilings, measured by Kernels/probe.cl: what `convlens bench` compares every kernel with.
extension OpenCLBackend {
    /// Buffers for `fmaProbe` and `copyProbe`; the copy moves `copyFloats` values.
    public func makePeakProbeBuffers(copyFloats: Int = 1 << 26) throws -> PeakProbeBuffers {
        // Enough FMA work that launching is noise: ≈ 7 ms on a 2-core CPU, a few ms on a large GPU.
        let items = context.device.computeUnits * (context.device.isCPU ? 4096 : 65536)
        return PeakProbeBuffers(fmaOutput: try makeTensor([items]), copySource: try makeTensor([copyFloats]),
                                copyDestination: try makeTensor([copyFloats]))
    }

    /// One run of the FMA probe: device seconds (from the kernel's event) and the flops it did.
    public func fmaProbe(_ buffers: PeakProbeBuffers) throws -> (seconds: Double, flops: Int) {
        let width = min(matmulTiling.vectorWidth, 16)
        let items = buffers.fmaOutput.shape.count
        let event = try context.launch(
            try kernel("peak_fma", in: "probe.cl", defines: ["VW": width]), global: [items],
            local: [context.device.isCPU ? 16 : 256],
            arguments: [.buffer(buffers.fmaOutput.buffer), .float(0.999), .float(0.001)])
        let (start, end) = try event.timing()
        // CHAINS · ITERATIONS FMAs of `width` lanes per work-item, 2 flops each.
        return (Double(end - start) / 1e9, items * 12 * 256 * width * 2)
    }

    /// One device-to-device copy by the copy probe: device seconds and bytes read + written.
    public func copyProbe(_ buffers: PeakProbeBuffers) throws -> (seconds: Double, bytes: Int) {
        let width = min(matmulTiling.vectorWidth, 16)
        let floats = buffers.copySource.shape.count
        let event = try context.launch(
            try kernel("peak_copy", in: "probe.cl", defines: ["VW": width]), global: [floats / width],
            local: [64], arguments: [.buffer(buffers.copySource.buffer), .buffer(buffers.copyDestination.buffer),
                                     .int(floats / width)])
        let (start, end) = try event.timing()
        return (Double(end - start) / 1e9, 2 * floats * MemoryLayout<Float>.stride)
    }
}
