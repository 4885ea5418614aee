import ArgumentParser
import Foundation
import ImageIO
import ModelGraph

/// How images become input tensors: from the model's `convlens.*` metadata when it has them, else from a preset,
/// with any explicit flag taking precedence.
struct PreprocessingOptions: ParsableArguments {
    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case imagenet, mnist
        /// Pixels scaled to [0, 1] only, resized to the model's input size.
        case unnormalized = "none"
    }

    @Option(help: "Preprocessing preset (overrides the model's metadata).")
    var preprocess: Preset?

    @Option(parsing: .unconditional, help: ArgumentHelp("Per-channel mean of pixels scaled to [0, 1], comma-separated.", valueName: "m1,m2,m3"))
    var mean: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Per-channel standard deviation, comma-separated.", valueName: "s1,s2,s3"))
    var std: String?

    @Flag(help: "Convert images to one gray channel.")
    var grayscale = false

    /// The preprocessing for `graph`'s input; `size` (N or HxW) overrides the size it would use.
    func resolve(for graph: Graph, size: String? = nil) throws -> ImagePreprocessing {
        let modelChannels = graph.input.dimensions.count == 4 ? graph.input.dimensions[1] : nil
        var result: ImagePreprocessing
        switch preprocess {
        case .imagenet: result = .imagenet
        case .mnist: result = .mnist
        case .unnormalized: result = try sizedToModel(graph, channels: modelChannels ?? 3)
        case nil: result = try fromMetadata(graph) ?? sizedToModel(graph, channels: modelChannels ?? 3)
        }
        if grayscale { result = try result.with(channels: 1) }
        if let size { (result.height, result.width) = try parseSize(size) }
        if let mean { result.mean = try parseFloats(mean, "--mean") }
        if let std { result.std = try parseFloats(std, "--std") }
        if result.mean.count == 1 && result.channels > 1 { result.mean = Array(repeating: result.mean[0], count: result.channels) }
        if result.std.count == 1 && result.channels > 1 { result.std = Array(repeating: result.std[0], count: result.channels) }
        try result.validate()
        return result
    }

    /// The model's own `convlens.mean/std/size/channels` metadata, when it has them.
    private func fromMetadata(_ graph: Graph) throws -> ImagePreprocessing? {
        let metadata = graph.metadata
        guard let sizeText = metadata["convlens.size"] else { return nil }
        let (height, width) = try parseSize(sizeText)
        let channels = Int(metadata["convlens.channels"] ?? "") ?? 3
        return ImagePreprocessing(
            mean: try parseFloats(metadata["convlens.mean"] ?? "0", "convlens.mean"),
            std: try parseFloats(metadata["convlens.std"] ?? "1", "convlens.std"),
            height: height, width: width, channels: channels)
    }

    /// No normalization, resized to the model's declared input size.
    private func sizedToModel(_ graph: Graph, channels: Int) throws -> ImagePreprocessing {
        let dims = graph.input.dimensions
        guard dims.count == 4, let height = dims[2], let width = dims[3] else {
            throw CommandError("the model does not fix its input size; give --size")
        }
        return .none(height: height, width: width, channels: channels)
    }

    private func parseSize(_ text: String) throws -> (Int, Int) {
        let parts = text.lowercased().split(separator: "x").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        switch parts.count {
        case 1: if let n = parts[0], n > 0 { return (n, n) }
        case 2: if let h = parts[0], let w = parts[1], h > 0, w > 0 { return (h, w) }
        default: break
        }
        throw CommandError("size '\(text)' must be N or HxW with positive integers")
    }

    private func parseFloats(_ text: String, _ what: String) throws -> [Float] {
        let values = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw CommandError("\(what) '\(text)' must be comma-separated numbers")
        }
        return values.compactMap { $0 }
    }
}

extension ImagePreprocessing {
    /// The same preprocessing for another channel count (per-channel statistics averaged when going to gray).
    func with(channels: Int) throws -> ImagePreprocessing {
        guard channels != self.channels else { return self }
        func fit(_ values: [Float]) -> [Float] {
            let average = values.reduce(0, +) / Float(values.count)
            return Array(repeating: average, count: channels)
        }
        return ImagePreprocessing(mean: fit(mean), std: fit(std), height: height, width: width, channels: channels)
    }
}
