import Foundation
import Testing

/// Runs the `convlens` binary that `swift build` / `swift test` put beside the test bundle.
struct ConvLensProcess {
    struct Result {
        let status: Int32
        let output: String
        let error: String
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The products folder holds the test bundle and the executables built with it.
    static var binary: URL {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // On Linux the test runner is `<products>/<Package>PackageTests.xctest`; on macOS it sits deeper in a bundle.
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("convlens").path),
            folder.pathComponents.count > 1
        {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("convlens")
    }

    /// Runs `convlens arguments…` from the repository root and collects its exit status and output.
    static func run(_ arguments: [String], environment: [String: String] = [:], unsetting: Set<String> = []) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            .filter { !unsetting.contains($0.key) }
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData, as: UTF8.self))
    }

    /// Expects failure with exactly one line on stderr containing `fragment`.
    static func expectRefusal(_ arguments: [String], mentioning fragment: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try run(arguments)
        #expect(result.status != 0, "exit status", sourceLocation: sourceLocation)
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1, "one-line error, got: \(result.error)", sourceLocation: sourceLocation)
        #expect(result.error.contains(fragment), "\(result.error)", sourceLocation: sourceLocation)
    }
}

/// A fresh temporary folder for one test's outputs.
struct ScratchFolder {
    let url: URL

    init(_ prefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the folder.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}
