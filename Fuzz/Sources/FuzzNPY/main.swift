import FuzzSupport
import ImageIO

/// Any bytes as a .npy array: every failure must be a thrown error.
@_cdecl("FuzzNPY_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv) { start, count in
        _ = try? NPYFile.read(bytes: bytes(start, count), source: "fuzz.npy")
        return 0
    }
}
