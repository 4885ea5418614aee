import ModelGraph
import TensorOps

/// What `convlens cam` asks of each batch of images: which classes to explain, how, and what to measure.
public struct CAMBatchSettings: Sendable {
    /// Explain this class in every image; nil: each image's best `top` classes.
    public var classIndex: Int?
    /// Maps per image: the best class, then the next, … (ignored with `classIndex`).
    public var top = 1
    /// pytorch-grad-cam's aug_smooth (flips and scales averaged).
    public var augSmooth = false
    public var metrics: [CAMMetric] = []
    /// Adebayo et al.'s cascading randomization.
    public var randomizationTest = false

    public init(classIndex: Int? = nil, top: Int = 1, augSmooth: Bool = false, metrics: [CAMMetric] = [],
                randomizationTest: Bool = false) {
        (self.classIndex, self.top, self.augSmooth, self.metrics, self.randomizationTest) =
            (classIndex, top, augSmooth, metrics, randomizationTest)
    }
}

/// One batch explained for one class rank: the maps on the device (for rendering) and on the host, and what was
/// measured on them.
public struct CAMBatchExplanation<B: Backend> {
    /// 0 for each image's best class (or the requested one), 1 for the next, …
    public let rank: Int
    public let result: ClassActivationMaps<B>
    public let maps: HostTensor
    /// Per image, when a torch-cam measure was asked for.
    public let faithfulness: [CAMFaithfulness]
    /// Per image, when ROAD was asked for.
    public let roads: [ROADResult]
    /// The randomization test's steps, when asked for.
    public let randomization: [CascadingRandomization.Step]
}

extension ClassActivationMapper {
    /// Explains a batch of images (`input` N×C×H×W) as `settings` asks: one explanation per class rank, each with
    /// its measures.
    public func explainBatch(_ input: HostTensor, settings: CAMBatchSettings) throws -> [CAMBatchExplanation<B>] {
        let device = try backend.upload(input)
        let torchCAMMeasures = settings.metrics.contains { $0.isTorchCAMMeasure }
        return try (0..<(settings.classIndex == nil ? settings.top : 1)).map { rank in
            let classes = try settings.classIndex.map { Array(repeating: $0, count: input.shape[0]) }
                ?? (rank == 0 ? nil : try classes(ofRank: rank, for: device))
            let result = settings.augSmooth
                ? try explainSmoothed(input, classes: classes) : try explain(device, classes: classes)
            let maps = try backend.download(result.maps)
            return CAMBatchExplanation(
                rank: rank, result: result, maps: maps,
                faithfulness: torchCAMMeasures ? try faithfulness(input: input, maps: maps, classes: result.classes) : [],
                roads: settings.metrics.contains(.road) ? try road(input: input, maps: maps, classes: result.classes) : [],
                randomization: settings.randomizationTest
                    ? try CascadingRandomization(graph: executor.graph, method: method, layers: requestedLayers)
                        .run(backend: backend, input: input, classes: result.classes, original: maps)
                    : [])
        }
    }

    /// Each image's class of `rank` (0: the top) by score.
    /// - Throws: `VisualizationError.badSetting` when the model has `rank` classes or fewer.
    public func classes(ofRank rank: Int, for input: B.Tensor) throws -> [Int] {
        let scores = try scores(input)
        let count = scores.shape[1]
        guard rank < count else {
            throw VisualizationError.badSetting(
                "the model has \(count) classes, so none of rank \(rank + 1); lower --top")
        }
        return (0..<scores.shape[0]).map { image in
            let row = Array(scores.values[image * count..<(image + 1) * count])
            return row.indices.sorted { row[$0] > row[$1] }[rank]
        }
    }

    /// The same explanation replayed on `reference` (the CPU reference): its maps, to report the drift of these.
    public func replay<R: Backend>(on reference: R, graph: Graph, input: HostTensor, classes: [Int]) throws -> HostTensor {
        let mapper = try ClassActivationMapper<R>(graph: graph, backend: reference, layers: requestedLayers, method: method,
                                                  inputShape: input.shape)
        (mapper.batch, mapper.sampling, mapper.finerTarget) = (batch, sampling, finerTarget)  // the same settings
        return try reference.download(try mapper.explain(try reference.upload(input), classes: classes).maps)
    }

    /// Images per batch from the device's memory: every activation and gradient of one image, three times over for
    /// buffers kept between calls, within half the device; at most 64. 16 without a memory figure.
    public static func batchSize(graph: Graph, imageShape: TensorShape, backend: B) -> Int {
        graph.imagesFitting(capacity: backend.memoryCapacity, imageShape: imageShape, copies: 3, share: 2, limit: 64,
                            fallback: 16)
    }
}
