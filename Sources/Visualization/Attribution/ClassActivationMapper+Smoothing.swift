import TensorOps

extension ClassActivationMapper {
    /// pytorch-grad-cam's `aug_smooth`: the mean of the maps of six variants of the input — mirrored left to right
    /// or not, times 0.9, 1 or 1.1 (ttach's HorizontalFlip × Multiply) — each mirrored back. The classes are fixed
    /// from the unchanged input (the top class when not given), so every variant explains the same class. The
    /// variants, the mirroring and the mean stay on the backend.
    public func explainSmoothed(_ input: HostTensor, classes requested: [Int]? = nil) throws -> ClassActivationMaps<B> {
        let original = try backend.upload(input)
        let plain = try explain(original, classes: requested)
        // The unchanged input is the (not mirrored, × 1) variant; the others are added to its map.
        let total = try backend.makeTensor(plain.maps.shape)
        try backend.copyElements(plain.maps, from: 0, into: total, at: 0, count: total.shape.count)
        let variant = try backend.makeTensor(input.shape)
        for mirrored in [false, true] {
            for factor: Float in [0.9, 1, 1.1] where mirrored || factor != 1 {
                try backend.binaryForward(.mul, mirrored ? try self.mirrored(original) : original,
                                          try scalar(factor), output: variant)
                let maps = try explain(variant, classes: plain.classes).maps
                try backend.binaryForward(.add, total, mirrored ? try self.mirrored(maps) : maps, output: total)
            }
        }
        try backend.binaryForward(.mul, total, try scalar(1 / 6), output: total)
        return ClassActivationMaps(maps: total, classes: plain.classes, scores: plain.scores)
    }

    /// Each row of every plane reversed (NCHW): an affine resample with x ↦ −x about the centre, which lands on
    /// pixel centres exactly, so every value is copied, not interpolated.
    func mirrored(_ tensor: B.Tensor) throws -> B.Tensor {
        let images = tensor.shape[0]
        let maps = try backend.upload(HostTensor(
            shape: [images, 6], values: Array(repeating: AffineMap(a: -1, b: 0, tx: 0, c: 0, d: 1, ty: 0).values, count: images).flatMap { $0 }))
        let output = try backend.makeTensor(tensor.shape)
        try backend.affineResampleForward(input: tensor, maps: maps, output: output, fill: 0)
        return output
    }

    private func scalar(_ value: Float) throws -> B.Tensor { try backend.upload(HostTensor(shape: [1], values: [value])) }
}
