import ArgumentParser
import Foundation
import ImageIO
import ModelGraph
import TensorOps

/// `convlens forward`: classify an image (or a preprocessed tensor) and optionally save outputs and gradients.
struct ForwardCommand: BackendCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run a model on an image or a .npy tensor and print the top classes.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessingOptions

    @Option(help: "A PNG or JPEG image, or a .npy float32 N×C×H×W tensor already preprocessed.")
    var input: String

    @Option(help: ArgumentHelp("Resize images to N×N (or H×W given as HxW).", valueName: "N|HxW"))
    var size: String?

    @Option(parsing: .unconditional, help: "How many classes to print per sample.")
    var top = 5

    @Option(help: "A text file with one class label per line (overrides the model's labels).")
    var labels: String?

    @Option(help: "Write the model's output tensor to this .npy file.")
    var saveNpy: String?

    @Option(help: "Write the gradient of one class score with respect to the input (N×C×H×W) to this .npy file.")
    var saveInputGradient: String?

    @Option(parsing: .unconditional, help: "The class whose score --save-input-gradient differentiates (default: each sample's top class).")
    var gradientClass: Int?

    @Option(help: ArgumentHelp(
        "Write the activations of the forward pass into this folder, one .npy per value, with values.tsv naming "
            + "each one's node, op and role.", valueName: "folder"))
    var saveValues: String?

    @Option(help: ArgumentHelp(
        "With --save-values: only the inputs and outputs of nodes of these ONNX op types.", valueName: "Op,Op…"))
    var valuesFor: String?

    @Flag(help: ArgumentHelp("Check every node's output for NaN and infinities, not only the model's output, and name "
        + "the first node that produces one (like PyTorch's anomaly mode; downloads every activation)."))
    var checkFinite = false

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1") }
        if gradientClass != nil && saveInputGradient == nil {
            throw ValidationError("--gradient-class needs --save-input-gradient")
        }
        if valuesFor != nil && saveValues == nil { throw ValidationError("--values-for needs --save-values") }
    }

    func run<B: Backend>(on backend: B) throws {
        let graph = try modelOptions.load()
        // The op types are checked before the forward pass, so a typo costs no model run.
        let valueDump = ValueDump(opTypes: Set((valuesFor ?? "").split(separator: ",").map { String($0) }))
        if saveValues != nil { _ = try valueDump.selectedNodes(of: graph) }
        let input = try ModelInputs.tensor(from: input, preprocessing: try preprocessing.resolve(for: graph, size: size))
        let executor = try GraphExecutor(graph: graph, backend: backend)
        // Only the output is read unless values are saved, checked node by node or differentiated: activations
        // and residual sums then fold into the convolutions before them.
        executor.outputOnly = saveValues == nil && !checkFinite && saveInputGradient == nil
        let start = Date()
        let output = try backend.download(try executor.forward(input))
        let milliseconds = Date().timeIntervalSince(start) * 1000
        // A NaN or an infinity is never printed as a class: the error names the node that made it.
        try executor.requireFinite(output, everyNode: checkFinite)
        print("model: \(modelOptions.modelName); backend: \(backend.name)")
        print("input: \(self.input) → \(input.shape); output '\(graph.outputs[0])' \(output.shape); "
              + String(format: "forward %.1f ms", milliseconds))

        let labelNames = try ModelInputs.labels(for: graph, file: labels)
        if output.shape.rank == 2 {
            printTopClasses(output, labels: labelNames)
        }
        if let saveNpy {
            try NPYFile.write(output, to: saveNpy)
            print("wrote \(saveNpy)")
        }
        if let saveValues {
            let count = try valueDump.write(executor, into: saveValues)
            print("wrote \(count) values into \(saveValues)")
        }
        if let saveInputGradient {
            let gradient = try inputGradient(executor, output: output)
            try NPYFile.write(gradient, to: saveInputGradient)
            print("wrote \(saveInputGradient)")
        }
    }

    /// ∂ score[n, c_n] / ∂ input for every sample n, with c_n the chosen or top class.
    private func inputGradient<B: Backend>(_ executor: GraphExecutor<B>, output: HostTensor) throws -> HostTensor {
        guard output.shape.rank == 2 else {
            throw CommandError("--save-input-gradient needs a model whose output is N×classes, got \(output.shape)")
        }
        let (batch, classes) = (output.shape[0], output.shape[1])
        if let gradientClass, !(0..<classes).contains(gradientClass) {
            throw CommandError("--gradient-class \(gradientClass) is outside the model's \(classes) classes")
        }
        var seed = HostTensor(zeros: output.shape)
        for sample in 0..<batch {
            let row = Array(output.values[(sample * classes)..<((sample + 1) * classes)])
            let chosen = gradientClass ?? row.indices.max { row[$0] < row[$1] } ?? 0
            seed.values[sample * classes + chosen] = 1
        }
        let backend = executor.backend
        let inputName = executor.graph.input.name
        let gradients = try executor.backward(
            from: executor.graph.outputs[0], seed: try backend.upload(seed), to: [inputName])
        guard let gradient = gradients[inputName] else { throw ExecutionError.missingValue(inputName) }
        return try backend.download(gradient)
    }

    private func printTopClasses(_ output: HostTensor, labels: [String]?) {
        let (batch, classes) = (output.shape[0], output.shape[1])
        for sample in 0..<batch {
            let scores = Array(output.values[(sample * classes)..<((sample + 1) * classes)])
            let largest = scores.max() ?? 0
            let exponents = scores.map { exp(Double($0 - largest)) }
            let total = exponents.reduce(0, +)
            if batch > 1 { print("\nsample \(sample)") }
            print("  rank  class  label                 score   softmax")
            let ranked = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(top)
            for (rank, index) in ranked.enumerated() {
                let label = labels.flatMap { index < $0.count ? $0[index] : nil } ?? "-"
                print(String(format: "  %4d  %5d  %@  %9.4f  %7.2f%%", rank + 1, index,
                             label.padding(toLength: 18, withPad: " ", startingAt: 0), scores[index],
                             100 * exponents[index] / total))
            }
        }
    }
}
