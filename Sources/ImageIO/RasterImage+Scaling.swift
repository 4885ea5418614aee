extension RasterImage {
    /// The image scaled so its longer side is `side` pixels (the shorter in proportion, rounded, at least 1). Each
    /// pixel is the rounded mean of the source pixels it covers, at least one, so shrinking averages (a box filter)
    /// and enlarging repeats pixels; integer arithmetic, so the same bytes everywhere. Channels are kept.
    public func scaled(toLongerSide side: Int) -> RasterImage {
        precondition(side > 0 && width > 0 && height > 0, "a positive side of a non-empty image")
        let longer = max(width, height)
        let outWidth = max(1, (width * side + longer / 2) / longer), outHeight = max(1, (height * side + longer / 2) / longer)
        if (outWidth, outHeight) == (width, height) { return self }
        let spans = (0..<outWidth).map { x in
            let start = x * width / outWidth
            return start..<max(start + 1, (x + 1) * width / outWidth)
        }
        var result = [UInt8](repeating: 0, count: outWidth * outHeight * channels)
        pixels.withUnsafeBufferPointer { source in
            for y in 0..<outHeight {
                let top = y * height / outHeight, rows = top..<max(top + 1, (y + 1) * height / outHeight)
                for (x, columns) in spans.enumerated() {
                    let count = rows.count * columns.count
                    for channel in 0..<channels {
                        var sum = 0
                        for sy in rows { for sx in columns { sum += Int(source[(sy * width + sx) * channels + channel]) } }
                        result[(y * outWidth + x) * channels + channel] = UInt8((sum + count / 2) / count)
                    }
                }
            }
        }
        return RasterImage(width: outWidth, height: outHeight, channels: channels, pixels: result)
    }

    /// The image as RGB: gray widened, an alpha channel composited over white.
    public func rgbOverWhite() -> RasterImage {
        if channels == 3 { return self }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for pixel in 0..<(width * height) {
            let alpha = channels == 4 ? Int(pixels[pixel * 4 + 3]) : 255
            for channel in 0..<3 {
                let value = Int(pixels[pixel * channels + (channels < 3 ? 0 : channel)])
                rgb[pixel * 3 + channel] = UInt8((value * alpha + 255 * (255 - alpha) + 127) / 255)
            }
        }
        return RasterImage(width: width, height: height, channels: 3, pixels: rgb)
    }
}
