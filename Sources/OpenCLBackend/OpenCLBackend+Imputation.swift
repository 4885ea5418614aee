import OpenCLRuntime
import TensorOps

/// ROAD's linear imputation (imputation.cl): the removed pixels of each image plane solved from their neighbours.
extension OpenCLBackend {
    public func linearImputation(
        _ checked: Checked<ImputationGeometry>, image: Tensor, known: Tensor, output: Tensor, scratch: Tensor
    ) throws {
        let g = checked.geometry
        // One work-group of 256 (imputation.cl's IMPUTE_MAX_GROUP) per plane: each conjugate-gradient iteration
        // synchronizes inside it. The runtime halves the group where the kernel allows fewer work-items.
        let group = 256
        try context.launch(
            try kernel("linear_impute", in: "imputation.cl"), global: [group, g.variants * g.channels], local: [group, 1],
            arguments: [.buffer(image.buffer), .buffer(known.buffer), .buffer(output.buffer), .buffer(scratch.buffer),
                        .int(g.variants), .int(g.channels), .int(g.height), .int(g.width), .int(g.sharesImage ? 1 : 0),
                        .int(g.iterationLimit), .float(ImputationGeometry.float32Tolerance)],
            annotation: LaunchAnnotation(flops: g.cost.flops, bytes: g.cost.bytes, detail: "known \(known.shape), image \(image.shape)"))
    }
}
