import Foundation
import TensorOps

/// MaCo's random crops and noise for one step (`MacoSettings` has the schedule), drawn on the host from the run's
/// seeded generator, so a seeded run repeats byte for byte.
struct MacoCrops {
    let settings: MacoSettings
    let imageSize: Int
    let cropSize: Int
    let steps: Int

    /// The crop side's mean at `step` (1-based): linear from the largest to the smallest over the run.
    func meanSide(step: Int) -> Float {
        let progress = steps > 1 ? Float(step - 1) / Float(steps - 1) : 0
        return settings.cropScale.upperBound + progress * (settings.cropScale.lowerBound - settings.cropScale.upperBound)
    }

    /// `settings.crops` maps per image, image by image: each reads a square of side N(mean, 0.05) of the image
    /// (clipped to [0.05, 1]), centred at 0.5 + N(0, 0.15) of it in each axis, resized corner-aligned to the crop
    /// size (tf.image.crop_and_resize's sampling).
    func draw(step: Int, images: Int, random: inout SeededGenerator) -> [AffineMap] {
        let mean = meanSide(step: step)
        let span = Float(imageSize - 1)
        return (0..<(images * settings.crops)).map { _ in
            let centreX = 0.5 + 0.15 * Float(random.nextNormal()), centreY = 0.5 + 0.15 * Float(random.nextNormal())
            let side = min(max(mean + 0.05 * Float(random.nextNormal()), 0.05), 1)
            let scale = side * span / Float(max(cropSize - 1, 1))
            return AffineMap(a: scale, b: 0, tx: (centreX - 0.5) * span, c: 0, d: scale, ty: (centreY - 0.5) * span)
        }
    }

    /// N(0, σ) + U(−σ/2, σ/2) per value, σ = `settings.noise` (xplique's noise, on the [0, 1] image scale).
    func noise(shape: TensorShape, random: inout SeededGenerator) -> HostTensor {
        let sigma = settings.noise
        return HostTensor(shape: shape, values: (0..<shape.count).map { _ in
            sigma * (Float(random.nextNormal()) + Float(random.nextUniform()) - 0.5)
        })
    }
}
