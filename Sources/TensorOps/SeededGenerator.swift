import Foundation

/// A small, fast, seedable random generator (SplitMix64), so seeded runs give the same numbers on every
/// platform and Swift version — `SystemRandomNumberGenerator` cannot be seeded.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The generator of `seed` after `draws` calls of `next()` (a normal takes two), in constant time: each draw
    /// only adds a constant to the state. Lets a chunk of a long stream be drawn on its own.
    public init(seed: UInt64, skippingDraws draws: UInt64) { state = seed &+ draws &* 0x9E37_79B9_7F4A_7C15 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal (Box–Muller); spelled out here so results do not depend on a library's algorithm.
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUniform(), .leastNonzeroMagnitude)
        let u2 = nextUniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

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
