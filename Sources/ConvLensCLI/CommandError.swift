import Foundation
import TensorOps

/// A failure found while a command runs (as opposed to a malformed command line): printed as one line, without
/// the usage text ArgumentParser adds to `ValidationError`.
struct CommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// Refuses a result holding NaN or an infinity before it is drawn or saved: a NaN map rendered as a colour would
/// look like an explanation. `forward --check-finite` names the node that produced it.
func requireFinite(_ result: HostTensor, _ what: String, input: String) throws {
    guard let bad = result.values.first(where: { !$0.isFinite }) else { return }
    throw CommandError("the \(what) holds \(bad.isNaN ? "NaN" : "infinities"): the model's forward pass is not finite on "
        + "this input; `convlens forward MODEL --input \(input) --check-finite` names the node that makes it")
}

/// A line on standard error (warnings that do not stop the command).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
