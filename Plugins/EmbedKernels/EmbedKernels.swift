import Foundation
import PackagePlugin

/// Turns every file in the package's top-level Kernels/ folder into a Swift string constant
/// (`embeddedKernelSources`), so the OpenCL sources travel inside the binary and a relocated `convlens` still
/// finds its kernels. Editing a file rebuilds as usual; a newly added file is seen when SwiftPM plans the build
/// again (after a change to Package.swift, or `touch Package.swift`).
@main
struct EmbedKernels: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "Kernels")
        let inputs = try FileManager.default.contentsOfDirectory(atPath: directory.path())
            .filter { $0.hasSuffix(".cl") || $0.hasSuffix(".h") }
            .sorted()
            .map { directory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedKernelSources.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) OpenCL sources",
                executable: try context.tool(named: "EmbedFiles").url,
                arguments: [output.path(), "embeddedKernelSources", "--text"] + inputs.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
