import TensorOps

extension ClassActivationMapper {
    /// pytorch-grad-cam's `aug_smooth`: the mean of the maps of six variants of the input — mirrored left to right
    /// or not, times 0.9, 1 or 1.1 (ttach's HorizontalFlip × Multiply) — each mirrored back. The classes are fixed
    /// from the unchanged input (the top class when not given), so every variant explains the same class.
    public func explainSmoothed(_ input: HostTensor, classes requested: [Int]? = nil) throws -> ClassActivationMaps<B> {
        let plain = try explain(try backend.upload(input), classes: requested)
        // The unchanged input is the (not mirrored, × 1) variant.
        var total = try backend.download(plain.maps).values
        for mirrored in [false, true] {
            for factor: Float in [0.9, 1, 1.1] where mirrored || factor != 1 {
                let variant = HostTensor(shape: input.shape, values: (mirrored ? Self.mirrored(input) : input).values.map { $0 * factor })
                var maps = try backend.download(try explain(try backend.upload(variant), classes: plain.classes).maps)
                if mirrored { maps = Self.mirrored(maps) }
                total = zip(total, maps.values).map(+)
            }
        }
        let mean = try backend.upload(HostTensor(shape: plain.maps.shape, values: total.map { $0 / 6 }))
        return ClassActivationMaps(maps: mean, classes: plain.classes, scores: plain.scores)
    }

    /// Each row of every plane reversed (NCHW).
    static func mirrored(_ tensor: HostTensor) -> HostTensor {
        let width = tensor.shape[tensor.shape.rank - 1]
        let values = stride(from: 0, to: tensor.values.count, by: width).flatMap { tensor.values[$0..<$0 + width].reversed() }
        return HostTensor(shape: tensor.shape, values: values)
    }
}
