internal import COpenCL

extension ComputeContext {
    /// Launches `kernel` over `global` work-items (1 to 3 dimensions) in work-groups of `local`; `annotation`
    /// (work and shapes) goes to the profiler when it records.
    ///
    /// The one launch shape every op uses: the local size is shrunk to what the kernel and device allow, the
    /// global size is rounded up to a multiple of it (kernels guard their indices), arguments are bound and the
    /// kernel is enqueued. Nothing waits; the returned event carries the profiling timestamps.
    /// - Throws: `OpenCLError` naming `clSetKernelArg` (with the argument index) or `clEnqueueNDRangeKernel`.
    @discardableResult
    public func launch(
        _ kernel: Kernel, global: [Int], local: [Int], arguments: [KernelArgument],
        annotation: LaunchAnnotation? = nil
    ) throws(OpenCLError) -> KernelEvent {
        precondition((1...3).contains(global.count) && global.count == local.count, "1-3 matching dimensions")
        let localSize = fittedLocalSize(local, kernel: kernel)
        let globalSize = zip(global, localSize).map { total, group in (total + group - 1) / group * group }
        let enqueued = KernelProfiler.hostNow()
        let event = try kernel.launchLock.withLock { _ throws(OpenCLError) in
            for (index, argument) in arguments.enumerated() {
                try bind(argument, at: index, of: kernel)
            }
            var event: cl_event?
            try check(
                clEnqueueNDRangeKernel(
                    queue, kernel.handle, cl_uint(global.count), nil, globalSize, localSize, 0, nil, &event),
                "clEnqueueNDRangeKernel", "kernel \(kernel.name), global \(globalSize), local \(localSize)")
            guard let event else {
                throw OpenCLError(call: "clEnqueueNDRangeKernel", code: CL_INVALID_EVENT, context: "no event returned")
            }
            return KernelEvent(handle: event, kernelName: kernel.name)
        }
        profiler.record(.kernel, kernel.name, global: global, annotation: annotation, event: event, hostEnqueued: enqueued)
        return event
    }

    /// Shrinks `requested` (halving the largest dimension) until it fits the kernel's and device's limits.
    private func fittedLocalSize(_ requested: [Int], kernel: Kernel) -> [Int] {
        var local = requested.enumerated().map { dimension, size in
            max(1, min(size, device.maxWorkItemSizes[dimension]))
        }
        let limit = min(kernel.maxWorkGroupSize, device.maxWorkGroupSize)
        while local.reduce(1, *) > limit, let largest = local.indices.max(by: { local[$0] < local[$1] }) {
            local[largest] = max(1, local[largest] / 2)
        }
        return local
    }

    private func bind(_ argument: KernelArgument, at index: Int, of kernel: Kernel) throws(OpenCLError) {
        let slot = cl_uint(index)
        let status: cl_int
        switch argument {
        case .buffer(let buffer):
            var memory: cl_mem? = buffer.memory
            status = clSetKernelArg(kernel.handle, slot, MemoryLayout<cl_mem>.size, &memory)
        case .null:
            var memory: cl_mem? = nil
            status = clSetKernelArg(kernel.handle, slot, MemoryLayout<cl_mem>.size, &memory)
        case .int(let value):
            guard var narrowed = Int32(exactly: value) else {
                throw OpenCLError(
                    call: "clSetKernelArg", code: CL_INVALID_ARG_VALUE,
                    context: "kernel \(kernel.name) argument \(index): \(value) does not fit an OpenCL int")
            }
            status = clSetKernelArg(kernel.handle, slot, MemoryLayout<Int32>.size, &narrowed)
        case .float(var value):
            status = clSetKernelArg(kernel.handle, slot, MemoryLayout<Float>.size, &value)
        case .localFloats(let count):
            status = clSetKernelArg(kernel.handle, slot, count * MemoryLayout<Float>.size, nil)
        }
        try check(status, "clSetKernelArg", "kernel \(kernel.name) argument \(index)")
    }
}
