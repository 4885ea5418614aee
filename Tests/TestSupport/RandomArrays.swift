import TensorOps

extension SeededGenerator {
    /// `count` standard-normal Doubles.
    public mutating func normals(_ count: Int, scale: Double = 1) -> [Double] {
        (0..<count).map { _ in nextNormal() * scale }
    }

    /// Standard-normal Doubles, each at least `margin` away from every point in `kinks`, so a finite-difference
    /// step never crosses a point where the function is not differentiable.
    public mutating func normals(_ count: Int, scale: Double = 1, avoiding kinks: [Double], margin: Double = 1e-3)
        -> [Double]
    {
        normals(count, scale: scale).map { value in
            guard let kink = kinks.first(where: { abs(value - $0) < margin }) else { return value }
            return value < kink ? kink - margin : kink + margin
        }
    }
}
