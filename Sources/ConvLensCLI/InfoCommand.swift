import ArgumentParser
import Foundation
import ModelGraph
import TensorOps

/// `convlens info`: the model's layers, shapes, parameters, cost and receptive fields.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show every node of a model: output value, shape, parameters, MFLOPs, receptive field.",
        discussion: """
            Shapes and costs are for one sample. The receptive field is the window of input pixels one output \
            position sees, and its stride the distance between neighbouring windows; "-" once spatial structure \
            is gone. Node names and output value names are what --layer options accept.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Print the ONNX opsets and ops ConvLens reads (from the importer itself) and exit.")
    var supportedOps = false

    func run() throws {
        if supportedOps {
            let opsets = ONNXImporter.supportedOpsets
            print("ai.onnx opsets \(opsets.lowerBound)–\(opsets.upperBound); ops:")
            print(ONNXImporter.loweredOps.joined(separator: ", "))
            print("folded at load when they compute on shapes and constants (the input's size fixed):")
            print(ONNXImporter.foldedOps.joined(separator: ", "))
            return
        }
        let graph = try modelOptions.load()
        guard let inputShape = graph.exampleInputShape else {
            throw CommandError("input '\(graph.input.name)' is not N×C×H×W and has symbolic dimensions other than the batch")
        }
        let rows = try graph.summary(input: inputShape)
        let dynamic = graph.input.shape(batch: 1) == nil
            ? "(batch, height and width are dynamic: shown for this size)" : "(batch is dynamic)"
        print("model: \(modelOptions.modelName)")
        if let description = graph.metadata["convlens.description"] { print("       \(description)") }
        print("opset \(graph.opsetVersion); input '\(graph.input.name)' \(inputShape) \(dynamic); "
              + "outputs \(graph.outputs.map { "'\($0)'" }.joined(separator: ", "))")
        if graph.foldedNodeCount > 0 {
            let basis = graph.plannedInput.map { "for input \($0), planned again for other input shapes" }
                ?? "(constants only)"
            print("\(graph.foldedNodeCount) shape-computation and constant nodes folded at load \(basis)")
        }
        print()

        let cells = rows.map { row -> [String] in
            [
                "\(row.index)", row.node.name, row.node.opType, row.node.output, row.outputShape.description,
                row.parameters == 0 ? "-" : "\(row.parameters)", String(format: "%.2f", row.megaFLOPs),
                row.receptiveField.map { "\($0.size) / \($0.stride)" } ?? "-",
            ]
        }
        let table = TextTable(
            columns: [
                .init("#", alignRight: true), .init("node"), .init("op"), .init("output"), .init("shape"),
                .init("params", alignRight: true), .init("MFLOPs", alignRight: true), .init("receptive field / stride"),
            ], fitting: cells)
        table.printHeader()
        cells.forEach(table.printRow)
        let parameters = graph.constants.values.reduce(0) { $0 + $1.shape.count }
        let megaFLOPs = rows.reduce(0) { $0 + $1.megaFLOPs }
        print("\n\(rows.count) nodes, \(parameters) parameters (\(formatBytes(parameters * 4)) float32), "
              + String(format: "%.2f MFLOPs per sample", megaFLOPs))
        let memory = try graph.activationMemory(input: inputShape)
        print("activations at \(inputShape): \(formatBytes(memory.kept)) kept for gradients, "
              + "\(formatBytes(memory.shared)) in an output-only pass (epilogues folded, buffers shared by lifetime)")
    }
}
