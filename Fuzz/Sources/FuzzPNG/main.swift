import FuzzSupport
import ImageIO

/// Any bytes as an image (the decoder chosen by the signature; the seeds are PNGs): every failure must be a
/// thrown error, and a decoded image must hold the pixels its size says.
@_cdecl("FuzzPNG_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv) { start, count in
        if let image = try? RasterImage(encoded: bytes(start, count), source: "fuzz") {
            precondition(image.pixels.count == image.width * image.height * image.channels)
        }
        return 0
    }
}
