import ImageIO
import TensorOps
import Testing

/// Float32 arithmetic on values in 0…1 (or a few std wide): a few ulps, far below one 8-bit level (0.0039).
private let tolerance: Float = 1e-6

@Suite("Image preprocessing")
struct ImagePreprocessingTests {
    @Test func upsamplesWithHalfPixelCentres() throws {
        // Per axis 2 → 4 reads [a, ¾a + ¼b, ¼a + ¾b, b]; these are that, done by hand, in 0…255.
        let image = RasterImage(width: 2, height: 2, channels: 1, pixels: [0, 100, 200, 255])
        let tensor = try ImagePreprocessing.none(height: 4, width: 4, channels: 1).tensor(from: [image])
        let expected: [Float] = [
            0, 25, 75, 100, 50, 72.1875, 116.5625, 138.75, 150, 166.5625, 199.6875, 216.25, 200, 213.75, 241.25, 255,
        ]
        #expect(tensor.shape == [1, 1, 4, 4])
        expectClose(tensor.values, expected.map { $0 / 255 })
    }

    /// PyTorch's `F.interpolate(x, size=…, mode="bilinear", align_corners=False, antialias=False)`, downscaling to
    /// a non-integer ratio and upscaling; expected values in `torchResized`.
    @Test(arguments: [[2, 3], [5, 7]])
    func resizesLikePyTorch(size: [Int]) throws {
        let image = RasterImage(
            width: 5, height: 3, channels: 1, pixels: [3, 250, 17, 90, 41, 128, 0, 255, 66, 12, 7, 199, 33, 180, 240])
        let tensor = try ImagePreprocessing.none(height: size[0], width: size[1], channels: 1).tensor(from: [image])
        #expect(tensor.shape == [1, 1, size[0], size[1]])
        expectClose(tensor.values, try #require(torchResized[size]).map { $0 / 255 })
    }

    @Test func convertsChannels() throws {
        let rgb = RasterImage(width: 1, height: 1, channels: 3, pixels: [10, 200, 30])
        let rgba = RasterImage(width: 1, height: 1, channels: 4, pixels: [10, 200, 30, 7])
        let gray = RasterImage(width: 1, height: 1, channels: 1, pixels: [77])
        let toGray = try ImagePreprocessing.none(height: 1, width: 1, channels: 1).tensor(from: [rgb, rgba, gray])
        let luma: Float = (0.299 * 10 + 0.587 * 200 + 0.114 * 30) / 255
        expectClose(toGray.values, [luma, luma, 77 / 255])
        let toRGB = try ImagePreprocessing.none(height: 1, width: 1, channels: 3).tensor(from: [rgb, rgba, gray])
        #expect(toRGB.shape == [3, 3, 1, 1])
        expectClose(toRGB.values, [10, 200, 30, 10, 200, 30, 77, 77, 77].map { $0 / 255 })
    }

    @Test func normalizesPerChannel() throws {
        let imagenet = ImagePreprocessing.imagenet
        #expect(imagenet.mean == [0.485, 0.456, 0.406] && imagenet.std == [0.229, 0.224, 0.225])
        #expect([imagenet.height, imagenet.width, imagenet.channels] == [224, 224, 3])
        // Different sizes in, one batch out; a flat color stays flat through the resize.
        let images = [
            RasterImage(
                width: 3, height: 2, channels: 3, pixels: Array(repeating: [255, 0, 128], count: 6).flatMap { $0 }),
            RasterImage(width: 300, height: 1, channels: 1, pixels: Array(repeating: 51, count: 300)),
        ]
        let tensor = try imagenet.tensor(from: images)
        #expect(tensor.shape == [2, 3, 224, 224])
        let plane = 224 * 224
        let expected: [Float] = [255, 0, 128, 51, 51, 51].enumerated().map { index, level in
            (level / 255 - imagenet.mean[index % 3]) / imagenet.std[index % 3]
        }
        for (planeIndex, value) in expected.enumerated() {
            let values = tensor.values[(planeIndex * plane)..<((planeIndex + 1) * plane)]
            #expect(values.allSatisfy { abs($0 - value) <= tolerance }, "plane \(planeIndex)")
        }
        let mnist = try ImagePreprocessing.mnist.tensor(from: [images[1]])
        #expect(mnist.shape == [1, 1, 28, 28])
        expectClose([mnist.values[0]], [(0.2 - 0.1307) / 0.3081])
    }

    @Test(arguments: [
        (ImagePreprocessing(mean: [0.5], std: [0.5, 0.5], height: 2, width: 2, channels: 1), "1 channels need"),
        (ImagePreprocessing(mean: [0.5], std: [0], height: 2, width: 2, channels: 1), "stds positive"),
        (ImagePreprocessing(mean: [0.5], std: [-1], height: 2, width: 2, channels: 1), "stds positive"),
        (ImagePreprocessing(mean: [.nan], std: [1], height: 2, width: 2, channels: 1), "means must be finite"),
        (.none(height: 0, width: 2, channels: 1), "output size must be positive"),
        (.none(height: 2, width: 2, channels: 2), "channels must be 1 or 3"),
    ])
    func invalidSettingsAreRefused(settings: ImagePreprocessing, reason: String) throws {
        let image = RasterImage(width: 1, height: 1, channels: 1, pixels: [0])
        let error = try #require(throws: ImagePreprocessingError.self) { try settings.tensor(from: [image]) }
        #expect(error.description.hasPrefix("preprocessing: ") && error.reason.contains(reason), "\(error)")
    }

    @Test func emptyBatchesAndImagesAreRefused() throws {
        let settings = ImagePreprocessing.none(height: 2, width: 2, channels: 3)
        #expect(throws: ImagePreprocessingError.self) { try settings.tensor(from: []) }
        let images = [
            RasterImage(width: 1, height: 1, channels: 1, pixels: [0]),
            RasterImage(width: 0, height: 3, channels: 3, pixels: []),
        ]
        let error = try #require(throws: ImagePreprocessingError.self) { try settings.tensor(from: images) }
        #expect(error.description == "preprocessing image 1: image is 0×3")
    }

    @Test(arguments: [1, 3])
    func theInverseRestoresThePixels(channels: Int) throws {
        let settings = ImagePreprocessing(
            mean: Array(ImagePreprocessing.imagenet.mean.prefix(channels)),
            std: Array(ImagePreprocessing.imagenet.std.prefix(channels)), height: 4, width: 5, channels: channels)
        let images = (0..<2).map { seed in
            RasterImage(
                width: 5, height: 4, channels: channels,
                pixels: (0..<(20 * channels)).map { UInt8(truncatingIfNeeded: $0 * 53 + seed * 101) })
        }
        let tensor = try settings.tensor(from: images)
        #expect(settings.image(from: tensor, index: 0) == images[0])
        #expect(settings.image(from: tensor, index: 1) == images[1])
    }

    @Test func theInverseClampsAndRounds() {
        let settings = ImagePreprocessing.none(height: 1, width: 5, channels: 1)
        let tensor = HostTensor(shape: [1, 1, 1, 5], values: [-3, 2, 0.5, 100.4 / 255, .nan])
        #expect(settings.image(from: tensor, index: 0).pixels == [0, 255, 128, 100, 0])
    }
}

/// `F.interpolate` of the 3×5 image in `resizesLikePyTorch` (PyTorch 2.15, float32, in 0…255), by output size.
private let torchResized: [[Int]: [Float]] = [
    [2, 3]: [85.33332824707031, 76.5, 50.50000762939453, 74.58332824707031, 88.5, 172.5],
    [5, 7]: [
        3.0, 144.1428680419922, 183.4285430908203, 17.0, 69.14286804199219, 69.0, 41.0,
        53.000003814697266, 108.42857360839844, 139.1999969482422, 112.20001220703125, 89.48571014404297,
        58.5428581237793, 29.399999618530273,
        128.0, 54.857139587402344, 72.85717010498047, 255.0, 119.9999771118164, 42.857139587402344, 12.0,
        55.39998245239258, 91.97144317626953, 120.08572387695312, 121.79996490478516, 130.8000030517578,
        140.5714569091797, 148.80003356933594,
        7.0, 116.71429443359375, 151.5714111328125, 33.0, 138.00001525878906, 205.7142791748047, 240.0,
    ],
]

private func expectClose(
    _ actual: [Float], _ expected: [Float], sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() where abs(a - e) > tolerance {
        Issue.record("value \(index): \(a), expected \(e)", sourceLocation: sourceLocation)
    }
}
