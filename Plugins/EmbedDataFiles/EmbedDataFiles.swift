import Foundation
import PackagePlugin

/// Embeds the target's data files (.onnx and .npy, in its folder or its Resources/ folder) base64-encoded
/// (`embeddedDataFiles`, by file name), so commands find the bundled model and tables from any working directory
/// and from a relocated binary.
@main
struct EmbedDataFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "Sources/\(target.name)")
        let inputs = [directory, directory.appending(path: "Resources")].flatMap { folder in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path())) ?? []
            return names.filter { $0.hasSuffix(".onnx") || $0.hasSuffix(".npy") }.sorted().map { folder.appending(path: $0) }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedDataFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) data files",
                executable: try context.tool(named: "EmbedFiles").url,
                arguments: [output.path(), "embeddedDataFiles", "--base64"] + inputs.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
