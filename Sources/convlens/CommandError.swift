import Foundation

/// A failure found while a command runs (as opposed to a malformed command line): printed as one line, without
/// the usage text ArgumentParser adds to `ValidationError`.
struct CommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// A line on standard error (warnings that do not stop the command).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
