import ArgumentParser
import ImageIO
import TensorOps

/// Heat maps coloured and blended over their input images on the backend: the pictures of `cam` and `saliency`.
struct HeatMapPicture {
    let colormap: Colormap
    /// The heat map's weight; the image gets 1 − alpha.
    let alpha: Float

    /// From the `--colormap` and `--alpha` options.
    /// - Throws: `ValidationError` for a colormap that is not a heat map (gray, diverging) or alpha outside 0–1.
    init(colormapName: String, alpha: Float) throws {
        guard let map = Colormap(rawValue: colormapName), map != .gray, map != .diverging else {
            throw ValidationError("--colormap must be jet, turbo, viridis or inferno, got '\(colormapName)'")
        }
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be between 0 and 1") }
        (colormap, self.alpha) = (map, alpha)
    }

    /// `maps` (N×1×H×W, min-max normalized here per image) over the denormalized inputs (gray made RGB), laid out
    /// with `labels[i]` under image i; small inputs are enlarged (nearest neighbour) to 224 px.
    func render<B: Backend>(maps: B.Tensor, over tensor: HostTensor, preprocessing: ImagePreprocessing,
                            labels: [String], backend: B) throws -> RasterImage {
        ContactSheet.render(tiles: try tiles(maps: maps, over: tensor, preprocessing: preprocessing, backend: backend),
                            labels: labels, minimumTileSize: 224)
    }

    /// One blended RGB image per input image, at the input's size.
    func tiles<B: Backend>(maps: B.Tensor, over tensor: HostTensor, preprocessing: ImagePreprocessing,
                           backend: B) throws -> [RasterImage] {
        let (n, channels, h, w) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
        let image = try backend.makeTensor(tensor.shape)
        try backend.channelAffineForward(
            input: try backend.upload(tensor), scale: try backend.upload(HostTensor(shape: [channels], values: preprocessing.std)),
            shift: try backend.upload(HostTensor(shape: [channels], values: preprocessing.mean)), output: image)
        var rgb = image
        if channels == 1 {
            rgb = try backend.makeTensor([n, 3, h, w])
            try backend.concatForward([image, image, image], output: rgb)
        }
        let normalized = try backend.makeTensor(maps.shape)
        try backend.minMaxNormalize(input: maps, output: normalized, epsilon: 1e-7)
        let table = (0..<256).flatMap { level -> [Float] in
            let (r, g, b) = colormap.color(Float(level) / 255)
            return [Float(r) / 255, Float(g) / 255, Float(b) / 255]
        }
        let blended = try backend.makeTensor([n, 3, h, w])
        try backend.overlay(map: normalized, lut: try backend.upload(HostTensor(shape: [256, 3], values: table)), image: rgb,
                            alpha: alpha, output: blended)
        let host = try backend.download(blended)
        let unit = ImagePreprocessing.none(height: h, width: w, channels: 3)
        return (0..<n).map { unit.image(from: host, index: $0) }
    }
}
