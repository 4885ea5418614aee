import Foundation
import ModelGraph
import OpenCLBackend
import TensorOps
import Visualization

extension Bench {
    /// The classic CNNs, then the models of the newer ops (squeeze-excitation and hard-swish, SiLU, LayerNorm and
    /// channels-last blocks, attention).
    static let modelNames = [
        "alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0",
        "convnext_tiny", "vit_b_16",
    ]

    /// Each model at 224 px and each of `batches`: forward, and forward + backward to the input from class 0 of
    /// every image (the gradient of each image's logit, as a batched saliency map takes it, epilogues folded).
    mutating func models(folder: String, batches: [Int]) throws {
        for name in Self.modelNames {
            guard let graph = try load(name, folder: folder) else { continue }
            let executor = try GraphExecutor(graph: graph, backend: backend)
            executor.foldsEpilogues = []
            for batch in batches {
                let input = try random([batch, 3, 224, 224], seed: 4)
                let flops = Int(try graph.summary(input: input.shape).reduce(0) { $0 + $1.megaFLOPs } * 1e6)
                add(name, "forward", batch: batch, try time { try executor.forwardOutput(input) }, flops: flops)
                let seed = try backend.upload(HostTensor(shape: [batch, 1000], values: (0..<batch * 1000).map {
                    $0 % 1000 == 0 ? 1 : 0
                }))
                add(name, "forward_backward", batch: batch, try time {
                    try executor.forward(input)
                    _ = try executor.backward(from: graph.outputs[0], seed: seed, to: [graph.input.name])
                })
            }
        }
    }

    /// Grad-CAM on one 224 px image (VGG-16, ResNet-50: forward, backward, map, normalized, resized, read back),
    /// Score-CAM and Ablation-CAM on ResNet-50 (`channelScoringCAMs`), FullGrad, SS-CAM and IS-CAM
    /// (`fullGradAndSampledScoreCAMs`) and one filter-visualization step on VGG-16 to
    /// conv3_1 (16 channels × 128 px) and on EfficientNet-Lite0 to block 10's projection (8 channels × 128 px).
    mutating func visualizations(folder: String) throws {
        for name in ["vgg16", "resnet50"] {
            guard let graph = try load(name, folder: folder) else { continue }
            let input = try random([1, 3, 224, 224], seed: 5)
            let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [], method: .gradCAM,
                                                   inputShape: input.shape)
            let backend = self.backend
            add("gradcam.\(name)", "forward_backward", batch: 1, try time {
                _ = try backend.download(try mapper.explain(input).maps)
            })
        }
        try channelScoringCAMs(folder: folder)
        try fullGradAndSampledScoreCAMs(folder: folder)
        if let vgg = try load("vgg16", folder: folder) {
            try filterStep(vgg, workload: "filters.vgg16.conv3_1", layer: "/features/features.10/Conv", channels: 16)
        }
        // EfficientNet-Lite0 with its ImageNet weights (Tools/export_pretrained.py), the layer Lucent is timed on
        // in Tools/bench_peers.py.
        if let lite0 = try load("lite0", folder: folder, maker: "Tools/export_pretrained.py \(folder)") {
            try filterStep(lite0, workload: "filters.lite0.blocks10_project", layer: "/_blocks.10/_project_conv/Conv",
                           channels: 8)
        }
    }

    /// Score-CAM and Ablation-CAM on one 224 px image of ResNet-50, over every one of layer4's 2,048 channels, at
    /// pytorch-grad-cam's batches. Score-CAM lays each channel's normalized, upsampled activation over the image as a
    /// mask and scores the masked images 16 per forward: one call takes minutes, so one timed run after none
    /// untimed, whatever --runs and --warmup say. Ablation-CAM zeroes each channel in turn, 32 copies per pass
    /// through the layers after layer4 (pytorch-grad-cam runs the whole model on each copy).
    private mutating func channelScoringCAMs(folder: String) throws {
        guard let graph = try load("resnet50", folder: folder) else { return }
        let input = try random([1, 3, 224, 224], seed: 5)
        let backend = self.backend
        for (method, batch, workload) in [(CAMMethod.scoreCAM, 16, "masked_forwards"), (.ablationCAM, 32, "ablated_forwards")] {
            let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [], method: method,
                                                   inputShape: input.shape)
            mapper.batch = batch
            let explain = { _ = try backend.download(try mapper.explain(input).maps) }
            add("\(method.rawValue).resnet50", workload, batch: 1,
                method == .scoreCAM ? try time(runs: 1, warmup: 0, explain) : try time(explain))
        }
    }

    /// FullGrad on one 224 px image of ResNet-50 (one forward and backward pass, 53 layers with a bias), and SS-CAM
    /// and IS-CAM on ResNet-18's layer4 (512 channels) at torch-cam's batch of 32: IS-CAM with its 10 steps, SS-CAM
    /// with 4 noisy samples instead of its 35 (2,048 masked images, as Score-CAM on ResNet-50 takes). The two take a
    /// minute or more per call: one timed run after none untimed.
    private mutating func fullGradAndSampledScoreCAMs(folder: String) throws {
        let input = try random([1, 3, 224, 224], seed: 5)
        let backend = self.backend
        if let graph = try load("resnet50", folder: folder) {
            let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [], method: .fullGrad,
                                                   inputShape: input.shape)
            add("fullgrad.resnet50", "forward_backward", batch: 1, try time { _ = try backend.download(try mapper.explain(input).maps) })
        }
        guard let graph = try load("resnet18", folder: folder) else { return }
        for (method, samples) in [(CAMMethod.ssCAM, 4), (.isCAM, 10)] {
            let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [], method: method,
                                                   inputShape: input.shape)
            (mapper.batch, mapper.sampling) = (32, CAMSampling(samples: samples))
            add("\(method.rawValue).resnet18", "masked_forwards_\(samples)x512", batch: 1,
                try time(runs: 1, warmup: 0) { _ = try backend.download(try mapper.explain(input).maps) })
        }
    }

    /// One filter-visualization step at 128 px, one image per channel 0..<channels of `layer`, the model's own
    /// preprocessing and Lucid's defaults otherwise (FFT, decorrelated colour, every transform).
    private mutating func filterStep(_ graph: Graph, workload: String, layer: String, channels: Int) throws {
        let preprocessing = try PreprocessingOptions.parse([]).resolve(for: graph)
        var settings = FilterVisualizationSettings(layer: layer, channels: Array(0..<channels), mean: preprocessing.mean,
                                                   std: preprocessing.std)
        settings.size = 128
        // Each step reports (reportInterval 1), reading one objective: the time between reports is a step, so
        // warmup + runs + 1 steps give runs intervals after the warm-up.
        settings.steps = warmup + runs + 1
        var stamps: [UInt64] = []
        _ = try FilterVisualizer(graph: graph, backend: backend, settings: settings).run(reportInterval: 1) { _ in
            stamps.append(DispatchTime.now().uptimeNanoseconds)
        }
        let steps = zip(stamps.dropFirst(), stamps).map { Double($0 - $1) / 1e6 }
        add(workload, "step_\(channels)x128", batch: channels, Timing(milliseconds: Array(steps.suffix(runs))))
    }

    /// The model `name` from `folder`, or nil (named on the console, with the command that makes it) when the file
    /// is not there.
    private func load(_ name: String, folder: String, maker: String? = nil) throws -> Graph? {
        let path = "\(folder)/\(name).onnx"
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipped \(name): \(path) not found (make it with \(maker ?? "Tools/export_torchvision.py \(folder) \(name)"))")
            return nil
        }
        return try ONNXImporter.load(contentsOf: path)
    }
}
