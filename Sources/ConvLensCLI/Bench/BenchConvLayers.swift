import TensorOps

/// The convolution layers `convlens bench --suite ops` times, named as the issue and BENCHMARKS.md name them.
struct BenchConvLayer {
    let name: String
    let inChannels: Int
    let outChannels: Int
    /// Input height and width.
    let size: Int
    let kernel: Int
    let parameters: Conv2DParameters

    static let all: [BenchConvLayer] = [
        BenchConvLayer(name: "vgg16.conv1_2", inChannels: 64, outChannels: 64, size: 224, kernel: 3,
                       parameters: Conv2DParameters(padding: Padding2D(1))),
        BenchConvLayer(name: "vgg16.conv3_1", inChannels: 128, outChannels: 256, size: 56, kernel: 3,
                       parameters: Conv2DParameters(padding: Padding2D(1))),
        BenchConvLayer(name: "vgg16.conv5_1", inChannels: 512, outChannels: 512, size: 14, kernel: 3,
                       parameters: Conv2DParameters(padding: Padding2D(1))),
        BenchConvLayer(name: "resnet.1x1_256to64", inChannels: 256, outChannels: 64, size: 56, kernel: 1,
                       parameters: Conv2DParameters()),
        // 128 → 128 with stride 2: 56 px in, 28 px out.
        BenchConvLayer(name: "resnet.3x3s2_128", inChannels: 128, outChannels: 128, size: 56, kernel: 3,
                       parameters: Conv2DParameters(stride: Size2D(2), padding: Padding2D(1))),
        BenchConvLayer(name: "mobilenetv2.dw3x3_144", inChannels: 144, outChannels: 144, size: 56, kernel: 3,
                       parameters: Conv2DParameters(padding: Padding2D(1), groups: 144)),
    ]

    func geometry(batch: Int) throws -> Conv2DGeometry {
        try Conv2DGeometry(input: [batch, inChannels, size, size],
                           weight: [outChannels, inChannels / parameters.groups, kernel, kernel], parameters: parameters)
    }
}
