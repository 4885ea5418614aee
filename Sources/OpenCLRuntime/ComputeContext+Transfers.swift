internal import COpenCL

extension ComputeContext {
    /// Copies `values` into the start of `buffer` and waits until the copy is done.
    /// - Throws: `OpenCLError` from `clEnqueueWriteBuffer`, or a size error before any call when `values` does not
    ///   fit.
    public func write<Element: BitwiseCopyable>(_ values: [Element], to buffer: DeviceBuffer) throws(OpenCLError) {
        let bytes = values.count * MemoryLayout<Element>.stride
        try requireFits(bytes, buffer, "clEnqueueWriteBuffer")
        let enqueued = KernelProfiler.hostNow()
        var event: cl_event?
        let status = values.withUnsafeBytes { raw in
            clEnqueueWriteBuffer(queue, buffer.memory, cl_bool(CL_TRUE), 0, bytes, raw.baseAddress, 0, nil, &event)
        }
        try check(status, "clEnqueueWriteBuffer")
        recordTransfer(.write, bytes: bytes, event: event, enqueued: enqueued)
    }

    /// Reads the first `count` elements of `buffer`, after every command queued before it has finished.
    /// - Throws: `OpenCLError` from `clEnqueueReadBuffer`.
    public func read<Element: BitwiseCopyable>(_ buffer: DeviceBuffer, count: Int, as _: Element.Type)
        throws(OpenCLError) -> [Element]
    {
        let bytes = count * MemoryLayout<Element>.stride
        try requireFits(bytes, buffer, "clEnqueueReadBuffer")
        var status: cl_int = CL_SUCCESS
        let enqueued = KernelProfiler.hostNow()
        var event: cl_event?
        let values = [Element](unsafeUninitializedCapacity: count) { storage, initialized in
            status = clEnqueueReadBuffer(
                queue, buffer.memory, cl_bool(CL_TRUE), 0, bytes, storage.baseAddress, 0, nil, &event)
            initialized = status == CL_SUCCESS ? count : 0
        }
        try check(status, "clEnqueueReadBuffer")
        recordTransfer(.read, bytes: bytes, event: event, enqueued: enqueued)
        return values
    }

    /// Sets every byte of `buffer` to zero, in queue order (no wait).
    public func zero(_ buffer: DeviceBuffer) throws(OpenCLError) {
        var pattern: UInt8 = 0
        try check(
            clEnqueueFillBuffer(queue, buffer.memory, &pattern, 1, 0, buffer.byteCount, 0, nil, nil),
            "clEnqueueFillBuffer")
    }

    /// Copies `byteCount` bytes between buffers, in queue order (no wait).
    public func copy(
        _ byteCount: Int, from source: DeviceBuffer, offset sourceOffset: Int = 0,
        to destination: DeviceBuffer, offset destinationOffset: Int = 0
    ) throws(OpenCLError) {
        try requireFits(sourceOffset + byteCount, source, "clEnqueueCopyBuffer")
        try requireFits(destinationOffset + byteCount, destination, "clEnqueueCopyBuffer")
        try check(
            clEnqueueCopyBuffer(
                queue, source.memory, destination.memory, sourceOffset, destinationOffset, byteCount, 0, nil, nil),
            "clEnqueueCopyBuffer")
    }

    private func requireFits(_ bytes: Int, _ buffer: DeviceBuffer, _ call: String) throws(OpenCLError) {
        if bytes > buffer.byteCount {
            throw OpenCLError(
                call: call, code: CL_INVALID_VALUE,
                context: "\(bytes) bytes requested from a \(buffer.byteCount)-byte buffer")
        }
    }

    /// Hands a transfer's event to the profiler (which keeps it while recording), or releases it.
    private func recordTransfer(_ kind: DeviceCommandTiming.Kind, bytes: Int, event: cl_event?, enqueued: UInt64) {
        guard let event else { return }
        let command = KernelEvent(handle: event, kernelName: kind.rawValue)
        profiler.record(kind, kind.rawValue, global: [], annotation: LaunchAnnotation(bytes: bytes, detail: "\(bytes) bytes"),
                        event: command, hostEnqueued: enqueued)
    }
}
