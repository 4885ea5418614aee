import ModelGraph
import TensorOps
import TestSupport
import Testing
@testable import Visualization

/// Filter visualization on `RandomColourCNN`. Its last convolution's theoretical receptive field is 18 px; at 12 px
/// its output would have no positions.
@Suite("Filter visualization on an unnormalized colour model", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct UnnormalizedModelTests {
    let graph: Graph
    let layer = "conv3"

    init() {
        graph = RandomColourCNN.graph()
    }

    /// `--preprocess none` (mean 0, std 1): the image starts at mid-grey, where the sigmoid passes gradients, and
    /// every channel rises as it does under ImageNet normalization. (Centred on logit(0), the start was black and
    /// saturated: 128 pixel steps moved the objective by 1e-4.)
    @Test(arguments: [FilterVisualizationSettings.Parameterization.pixel, .fft])
    func everyChannelRisesWithoutNormalization(parameterization: FilterVisualizationSettings.Parameterization) throws {
        func gains(mean: [Float], std: [Float]) throws -> [Double] {
            var s = FilterVisualizationSettings(layer: layer, channels: Array(0..<6), mean: mean, std: std)
            (s.size, s.steps, s.parameterization) = (32, 64, parameterization)
            let result = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
            return zip(result.initialObjectives, result.finalObjectives).map { $1 - $0 }
        }
        let none = try gains(mean: [0, 0, 0], std: [1, 1, 1])
        let imagenet = try gains(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        for channel in 0..<6 {
            // ImageNet's std divides the image by about 0.22, so an equal ascent gains about 4.5× more there (measured:
            // 1.4–14× per channel); without normalization each channel gains at least a twentieth of that.
            #expect(none[channel] > imagenet[channel] / 20 && none[channel] > 0.1,
                    "channel \(channel): gain \(none[channel]) without normalization, \(imagenet[channel]) with")
        }
    }

    @Test func theStartColourIsMidGreyOnlyWithoutANormalization() {
        let none = FilterVisualizationSettings(layer: layer, channels: [0], mean: [0, 0, 0], std: [1, 1, 1])
        #expect(none.startColour == [0.5, 0.5, 0.5])
        let imagenet = FilterVisualizationSettings(layer: layer, channels: [0], mean: [0.485, 0.456, 0.406],
                                                   std: [0.229, 0.224, 0.225])
        #expect(imagenet.startColour == [0.485, 0.456, 0.406])
        let dark = FilterVisualizationSettings(layer: layer, channels: [0], mean: [0.01], std: [0.5])
        #expect(dark.startColour == [0.1])
    }

    /// Below the theoretical receptive field (18 px) the run goes ahead with a note; only a size that leaves a node
    /// without positions is refused.
    @Test func aSizeBelowTheReceptiveFieldRunsAndOnlyNoPositionsIsRefused() throws {
        let backend = try TestBackends.device()
        var s = FilterVisualizationSettings(layer: layer, channels: [0, 1], mean: [0, 0, 0], std: [1, 1, 1])
        (s.size, s.steps) = (16, 2)
        let visualizer = try FilterVisualizer(graph: graph, backend: backend, settings: s)
        #expect(visualizer.notes == ["note: 16 px is below the theoretical receptive field of 'conv3' (18 px); "
                                     + "the border's padding covers the rest"])
        #expect(try visualizer.run().images.shape == [2, 3, 16, 16])
        s.size = 18
        #expect(try FilterVisualizer(graph: graph, backend: backend, settings: s).notes.isEmpty)

        s.size = 12
        let empty = try #require(throws: VisualizationError.self) { try FilterVisualizer(graph: graph, backend: backend, settings: s) }
        #expect(empty.description.hasPrefix("image size 12 leaves node 'conv3' without positions ("))
        #expect(empty.description.hasSuffix("); use a larger --size"))
    }
}

/// A seeded random 3-channel CNN: conv 3→8 (3×3, pad 1), ReLU, max pool 2, conv 8→8 (3×3), ReLU, max pool 2,
/// conv 8→6 (3×3) named "conv3".
enum RandomColourCNN {
    static func graph() -> Graph {
        var random = SeededGenerator(seed: 2026)
        var constants: [String: HostTensor] = [:]
        var nodes: [Node] = []
        var last = "image"
        func conv(_ name: String, _ inputs: Int, _ outputs: Int, padding: Int) {
            constants["\(name).w"] = .randomNormal([outputs, inputs, 3, 3], scale: (2 / Float(9 * inputs)).squareRoot(),
                                                  using: &random)
            constants["\(name).b"] = .randomNormal([outputs], scale: 0.1, using: &random)
            nodes.append(Node(name: name, opType: "Conv",
                              operation: .conv(Conv2DParameters(padding: Padding2D(padding))),
                              inputs: [last, "\(name).w", "\(name).b"], output: name))
            last = name
        }
        func relu(_ name: String) {
            nodes.append(Node(name: name, opType: "Relu", operation: .activation(.relu), inputs: [last], output: name))
            last = name
        }
        func pool(_ name: String) {
            nodes.append(Node(name: name, opType: "MaxPool", operation: .maxPool(Pool2DParameters(kernel: Size2D(2))),
                              inputs: [last], output: name))
            last = name
        }
        conv("conv1", 3, 8, padding: 1); relu("relu1"); pool("pool1")
        conv("conv2", 8, 8, padding: 0); relu("relu2"); pool("pool2")
        conv("conv3", 8, 6, padding: 0)
        return Graph(input: ValueInfo(name: "image", dimensions: [nil, 3, nil, nil]), outputs: [last], nodes: nodes,
                      constants: constants, opsetVersion: 17)
    }
}
