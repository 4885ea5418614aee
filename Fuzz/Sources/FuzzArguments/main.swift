import ConvLensCLI
import FuzzSupport

/// Any bytes as a command line (arguments separated by NUL bytes), parsed and validated by every command's
/// `validate()` without running: every refusal must be an error, never a crash or a trap.
@_cdecl("FuzzArguments_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv) { start, count in
        let arguments = bytes(start, count).split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        try? ConvLens.validateCommandLine(arguments)
        return 0
    }
}
