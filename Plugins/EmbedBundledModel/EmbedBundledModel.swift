import Foundation
import PackagePlugin

/// Embeds the target's .onnx files base64-encoded (`embeddedModels`), so commands run on the bundled model from
/// any working directory and from a relocated binary.
@main
struct EmbedBundledModel: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "Sources/\(target.name)")
        let inputs = try FileManager.default.contentsOfDirectory(atPath: directory.path())
            .filter { $0.hasSuffix(".onnx") }
            .sorted()
            .map { directory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedModels.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) bundled models",
                executable: try context.tool(named: "EmbedFiles").url,
                arguments: [output.path(), "embeddedModels", "--base64"] + inputs.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
