import BackendParity
import BundledModel
import Foundation
import ImageIO
import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing
@testable import Visualization

/// One model's pytorch-grad-cam and Captum results, made by Tools/cam_fixtures.py.
struct PeerFixture: CustomTestStringConvertible, Sendable {
    let name: String

    var testDescription: String { name }
    var folder: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/cam/\(name)") }

    func array(_ file: String) throws -> HostTensor { try NPYFile.read(folder.appendingPathComponent(file).path) }

    var json: [String: Any] {
        get throws {
            let data = try Data(contentsOf: folder.appendingPathComponent("fixture.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    func graph() throws -> Graph {
        if name == "mnist_cnn" { return try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name) }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        let path = repository.appendingPathComponent("Tests/ModelGraphTests/Fixtures/\(name)/model.onnx").standardized.path
        return try ONNXImporter.load(contentsOf: path)
    }

    func classes() throws -> [Int] { try #require(try json["target_classes"] as? [Int]) }

    /// Another generator's fixture of this model, in Fixtures/<kind>/<name>: its folder and its fixture.json.
    func companion(_ kind: String) throws -> (folder: URL, json: [String: Any]) {
        let folder = self.folder.appendingPathComponent("../../\(kind)/\(name)").standardized
        let data = try Data(contentsOf: folder.appendingPathComponent("fixture.json"))
        return (folder, try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
    }

    func layer(_ which: String) throws -> String {
        let layers = try #require(try json["layers"] as? [String: Any])
        return try #require((layers[which] as? [String: Any])?["value"] as? String)
    }

    static let all = ["mnist_cnn", "residual_bn", "concat_grouped"].map(PeerFixture.init)
}

/// ConvLens against pytorch-grad-cam and Captum on the bundled model and the two small test models.
@Suite("Peer fixtures", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct PeerFixtureTests {
    static let methods: [(CAMMethod, String)] = [
        (.gradCAM, "gradcam"), (.gradCAMPlusPlus, "gradcam++"), (.xGradCAM, "xgradcam"), (.layerCAM, "layercam"),
        (.hiResCAM, "hirescam"), (.scoreCAM, "scorecam"), (.ablationCAM, "ablationcam"),
    ]

    /// Every gradient CAM method, Score-CAM and Ablation-CAM, and Grad-CAM over two layers, within 1e-3 (max abs)
    /// of pytorch-grad-cam.
    @Test(arguments: PeerFixture.all)
    func camMapsMatchPytorchGradCam(fixture: PeerFixture) throws {
        let (graph, input, backend) = (try fixture.graph(), try fixture.array("input.npy"), try TestBackends.device())
        let (last, secondToLast) = (try fixture.layer("last"), try fixture.layer("second_to_last"))
        let cases = Self.methods.map { ($0.0, [last], "cam_\($0.1).npy") }
            + [(CAMMethod.gradCAM, [secondToLast, last], "cam_gradcam_two_layers.npy")]
        for (method, layers, file) in cases {
            let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: layers, method: method, inputShape: input.shape)
            let maps = try backend.download(try mapper.explain(try backend.upload(input), classes: try fixture.classes()).maps)
            try expectWithinCAMTolerance(maps, try fixture.array(file), "\(fixture.name) \(file)")
        }
        let smoothing = try ClassActivationMapper(graph: graph, backend: backend, layers: [last], method: .gradCAM,
                                                  inputShape: input.shape)
        let smoothed = try backend.download(try smoothing.explainSmoothed(input, classes: try fixture.classes()).maps)
        try expectWithinCAMTolerance(smoothed, try fixture.array("cam_gradcam_aug_smooth.npy"), "\(fixture.name) aug smooth")
    }

    /// SS-CAM, IS-CAM and Smooth Grad-CAM++ within 1e-3 (max abs) of torch-cam's (Tools/torchcam_fixtures.py), the
    /// noise drawn from the same seeded stream; the masked images in batches that split each image's channels unevenly.
    @Test(arguments: PeerFixture.all)
    func sampledCAMsMatchTorchCam(fixture: PeerFixture) throws {
        let (folder, json) = try fixture.companion("torchcam")
        let parameters = try #require(json["parameters"] as? [String: Any])
        let (graph, input, backend) = (try fixture.graph(), try fixture.array("input.npy"), try TestBackends.device())
        for (method, name) in [(CAMMethod.ssCAM, "sscam"), (.isCAM, "iscam"), (.smoothGradCAMPlusPlus, "smoothgradcampp")] {
            let settings = try #require(parameters[name] as? [String: Any])
            let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [try #require(json["layer"] as? String)],
                                                   method: method, inputShape: input.shape)
            mapper.batch = 5
            mapper.sampling = CAMSampling(samples: try #require(settings["num_samples"] as? Int),
                                          noise: Float(settings["std"] as? Double ?? 0),
                                          seed: UInt64(settings["seed"] as? Int ?? 0))
            let maps = try backend.download(try mapper.explain(try backend.upload(input), classes: try #require(json["target_classes"] as? [Int])).maps)
            try expectWithinCAMTolerance(maps, try NPYFile.read(folder.appendingPathComponent("cam_\(name).npy").path),
                                         "\(fixture.name) \(name)")
        }
    }

    /// FullGrad within 1e-3 (max abs) of pytorch-grad-cam's (Tools/fullgrad_fixtures.py), over the same layers with
    /// a bias, which the fixture lists.
    @Test(arguments: PeerFixture.all)
    func fullGradMatchesPytorchGradCam(fixture: PeerFixture) throws {
        let (folder, json) = try fixture.companion("fullgrad")
        let (graph, input, backend) = (try fixture.graph(), try fixture.array("input.npy"), try TestBackends.device())
        let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [], method: .fullGrad, inputShape: input.shape)
        let expectedLayers = try #require(json["bias_layers"] as? [String]).map { try graph.resolve($0) }
        #expect(mapper.layers == expectedLayers)
        let maps = try backend.download(try mapper.explain(try backend.upload(input), classes: try #require(json["target_classes"] as? [Int])).maps)
        try expectWithinCAMTolerance(maps, try NPYFile.read(folder.appendingPathComponent("cam_fullgrad.npy").path),
                                     "\(fixture.name) fullgrad")
    }

    /// Finer-CAM within 1e-3 of pytorch-grad-cam's (Tools/finercam_fixtures.py): the classes compared, the target's
    /// gradient with respect to the outputs (autograd's, within the input-gradient tolerance), and the map.
    @Test(arguments: PeerFixture.all)
    func finerCAMMatchesPytorchGradCam(fixture: PeerFixture) throws {
        let (folder, json) = try fixture.companion("finercam")
        let (logits, classes) = (try fixture.array("logits.npy"), try #require(json["target_classes"] as? [Int]))
        let expectedGradient = try NPYFile.read(folder.appendingPathComponent("target_gradient.npy").path)
        let compared = try #require(json["compared_classes"] as? [[Int]]), count = logits.shape[1]
        for (image, target) in classes.enumerated() {
            let row = Array(logits.values[image * count..<(image + 1) * count])
            #expect(FinerCAMTarget().comparedClasses(row, target: target) == compared[image])
            expectClose(FinerCAMTarget().gradient(row, target: target).map(Double.init),
                        expectedGradient.values[image * count..<(image + 1) * count].map(Double.init),
                        relativeL2: Tolerance.inputGradientVsPyTorch, "\(fixture.name) image \(image) target gradient")
        }
        let (graph, input, backend) = (try fixture.graph(), try fixture.array("input.npy"), try TestBackends.device())
        let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [try #require(json["layer"] as? String)],
                                               method: .finerCAM, inputShape: input.shape)
        let maps = try backend.download(try mapper.explain(try backend.upload(input), classes: classes).maps)
        try expectWithinCAMTolerance(maps, try NPYFile.read(folder.appendingPathComponent("cam_finercam.npy").path),
                                     "\(fixture.name) finercam")
    }

    private func expectWithinCAMTolerance(_ maps: HostTensor, _ expected: HostTensor, _ what: String) throws {
        #expect(maps.values.count == expected.values.count)
        let worst = zip(maps.values, expected.values).map { abs($0 - $1) }.max() ?? .infinity
        #expect(Double(worst) <= Tolerance.camVsPytorchGradCam, "\(what): max abs \(worst)")
    }

    /// Eigen-CAM against pytorch-grad-cam, whose principal component's sign is LAPACK's choice (recorded per image):
    /// the projection up to that sign, and the final map where the two signs agree.
    @Test(arguments: PeerFixture.all)
    func eigenCAMMatchesUpToTheComponentsSign(fixture: PeerFixture) throws {
        let activations = try fixture.array("activations.npy")
        let signs = try #require(try fixture.json["eigencam_vt0_sum_sign"] as? [Int])
        let expected = try fixture.array("eigencam_projection.npy")
        let (channels, positions) = (activations.shape[1], activations.shape[2] * activations.shape[3])
        for (image, sign) in signs.enumerated() {
            var x = [[Double]](repeating: [Double](repeating: 0, count: channels), count: positions)
            for k in 0..<channels {
                let plane = activations.values[(image * channels + k) * positions..<(image * channels + k + 1) * positions]
                let mean = plane.reduce(0) { $0 + Double($1) } / Double(positions)
                for (p, value) in plane.enumerated() { x[p][k] = Double(value) - mean }
            }
            expectClose(ReferenceMath.signedPrincipalProjection(x, channels: channels),
                        expected.values[image * positions..<(image + 1) * positions].map { Double(sign) * Double($0) },
                        relativeL2: Tolerance.inputGradientVsPyTorch, "\(fixture.name) image \(image) projection")
        }
        let (graph, input, backend) = (try fixture.graph(), try fixture.array("input.npy"), try TestBackends.device())
        let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [try fixture.layer("last")],
                                               method: .eigenCAM, inputShape: input.shape)
        let maps = try backend.download(try mapper.explain(try backend.upload(input)).maps)
        let camMaps = try fixture.array("cam_eigencam.npy"), plane = camMaps.values.count / signs.count
        for (image, sign) in signs.enumerated() where sign > 0 {
            let worst = zip(maps.values[image * plane..<(image + 1) * plane], camMaps.values[image * plane..<(image + 1) * plane])
                .map { abs($0 - $1) }.max() ?? .infinity
            #expect(Double(worst) <= Tolerance.camVsPytorchGradCam, "\(fixture.name) image \(image): max abs \(worst)")
        }
    }

    /// Deletion and insertion AUC, average drop and increase in confidence of pytorch-grad-cam's Grad-CAM maps, as
    /// torch-cam computes them (softmax scores, 20 steps, zero baseline), within 1e-4.
    @Test(arguments: PeerFixture.all)
    func faithfulnessMatchesTorchCam(fixture: PeerFixture) throws {
        let (graph, input, backend) = (try fixture.graph(), try fixture.array("input.npy"), try TestBackends.device())
        let maps = try fixture.array("cam_gradcam.npy")
        let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [try fixture.layer("last")],
                                               method: .gradCAM, inputShape: input.shape)
        let measured = try mapper.faithfulness(input: input, maps: HostTensor(shape: [maps.shape[0], 1, maps.shape[1], maps.shape[2]],
                                                                               values: maps.values),
                                               classes: try fixture.classes())
        let expected = try #require((try fixture.json["torchcam_metrics"] as? [String: Any])?["per_image"] as? [[String: Double]])
        for (image, (ours, theirs)) in zip(measured, expected).enumerated() {
            for (name, value, reference) in [("deletion", ours.deletionAUC, theirs["deletion_auc"]),
                                             ("insertion", ours.insertionAUC, theirs["insertion_auc"]),
                                             ("drop", ours.drop, theirs["avg_drop"]),
                                             ("increase", ours.increase ? 1 : 0, theirs["conf_increase"])] {
                let reference = try #require(reference)
                #expect(abs(value - reference) <= Tolerance.modelVsONNXRuntime * max(1, abs(reference)),
                        "\(fixture.name) image \(image) \(name): \(value) vs torch-cam \(reference)")
            }
        }
    }

    /// ROAD as pytorch-grad-cam computes it (its imputation's noise off, so both are deterministic): every
    /// percentile's logit change, most and least relevant first, and the combined score, within 1e-4.
    @Test(arguments: PeerFixture.all)
    func roadMatchesPytorchGradCam(fixture: PeerFixture) throws {
        let (graph, input, backend) = (try fixture.graph(), try fixture.array("input.npy"), try TestBackends.device())
        let maps = try fixture.array("cam_gradcam.npy")
        let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [try fixture.layer("last")],
                                               method: .gradCAM, inputShape: input.shape)
        let results = try mapper.road(input: input, maps: HostTensor(shape: [maps.shape[0], 1, maps.shape[1], maps.shape[2]],
                                                                     values: maps.values),
                                      classes: try fixture.classes(), noise: 0)
        let road = try #require((try fixture.json["torchcam_metrics"] as? [String: Any])?["road"] as? [String: Any])
        let (morf, lerf) = (try #require(road["morf"] as? [[Double]]), try #require(road["lerf"] as? [[Double]]))
        let combined = try #require(road["combined"] as? [Double])
        for (image, result) in results.enumerated() {
            let ours = result.mostRelevantFirst + result.leastRelevantFirst + [result.combined]
            let theirs = morf.map { $0[image] } + lerf.map { $0[image] } + [combined[image]]
            let pairs = Array(zip(ours, theirs))
            for (ours, theirs) in pairs {
                #expect(abs(ours - theirs) <= Tolerance.modelVsONNXRuntime * max(1, abs(theirs)),
                        "\(fixture.name) image \(image): \(ours) vs pytorch-grad-cam \(theirs)")
            }
        }
    }

    /// The raw signed attributions within 1e-4 (rel L2) of Captum's, image by image.
    @Test(arguments: PeerFixture.all)
    func attributionsMatchCaptum(fixture: PeerFixture) throws {
        let (graph, input, backend) = (try fixture.graph(), try fixture.array("input.npy"), try TestBackends.device())
        let methods: [(AttributionMethod, String)] = [
            (.gradient, "saliency_gradient.npy"), (.inputXGradient, "input_x_gradient.npy"),
            (.guidedBackprop, "guided_backprop.npy"), (.deconvnet, "deconvolution.npy"),
            (.integratedGradients, "integrated_gradients.npy"), (.occlusion, "occlusion.npy"),
        ]
        let imageSize = input.shape.count / input.shape[0]
        for (method, file) in methods {
            var settings = AttributionSettings(method: method)
            (settings.steps, settings.window, settings.stride) = (32, 4, 2)
            let attributor = try GradientAttributor(graph: graph, backend: backend, settings: settings)
            let expected = try fixture.array(file)
            for (image, target) in try fixture.classes().enumerated() {
                let one = HostTensor(shape: TensorShape([1] + input.shape.dimensions.dropFirst()),
                                     values: Array(input.values[image * imageSize..<(image + 1) * imageSize]))
                let (attribution, explained) = try attributor.attribute(one, target: target)
                #expect(explained == target)
                expectClose(attribution.values.map(Double.init),
                            expected.values[image * imageSize..<(image + 1) * imageSize].map(Double.init),
                            relativeL2: Tolerance.inputGradientVsPyTorch, "\(fixture.name) \(method.rawValue) image \(image)")
            }
        }
    }

    /// Attributions of one channel of the last convolution — summed over its positions, and at one position — within
    /// rel L2 1e-4 of Captum's neuron attributions (Tools/feature_saliency_fixtures.py), image by image.
    @Test(arguments: PeerFixture.all)
    func featureMapAttributionsMatchCaptum(fixture: PeerFixture) throws {
        let (folder, json) = try fixture.companion("feature_saliency")
        let (layer, channel) = (try #require(json["layer"] as? String), try #require(json["channel"] as? Int))
        let position = try #require(json["position"] as? [Int])
        let (graph, input, backend) = (try fixture.graph(), try fixture.array("input.npy"), try TestBackends.device())
        let imageSize = input.shape.count / input.shape[0]
        for (method, name) in [(AttributionMethod.gradient, "gradient"), (.guidedBackprop, "guided_backprop"),
                               (.deconvnet, "deconvolution"), (.integratedGradients, "integrated_gradients")] {
            for (unitName, at) in [("sum", nil), ("position", (y: position[0], x: position[1]))] {
                var settings = AttributionSettings(method: method)
                (settings.steps, settings.unit) = (32, FeatureUnit(layer: layer, channel: channel, position: at))
                let attributor = try GradientAttributor(graph: graph, backend: backend, settings: settings)
                let expected = try NPYFile.read(folder.appendingPathComponent("\(name)_\(unitName).npy").path)
                for image in 0..<input.shape[0] {
                    let one = HostTensor(shape: TensorShape([1] + input.shape.dimensions.dropFirst()),
                                         values: Array(input.values[image * imageSize..<(image + 1) * imageSize]))
                    expectClose(try attributor.attribute(one, target: nil).attribution.values.map(Double.init),
                                expected.values[image * imageSize..<(image + 1) * imageSize].map(Double.init),
                                relativeL2: Tolerance.inputGradientVsPyTorch, "\(fixture.name) \(name) \(unitName) image \(image)")
                }
            }
        }
    }

    /// SmoothGrad draws its noise from the seed: the same seed gives the same bytes, another seed other values.
    @Test func smoothGradIsReproducibleByteForByte() throws {
        let fixture = PeerFixture(name: "residual_bn")
        let (graph, input) = (try fixture.graph(), try fixture.array("input.npy"))
        let one = HostTensor(shape: [1, 3, 20, 18], values: Array(input.values[0..<(3 * 20 * 18)]))
        var settings = AttributionSettings(method: .smoothGrad)
        (settings.samples, settings.batch) = (6, 4)
        let run = { (settings: AttributionSettings) in
            try GradientAttributor(graph: graph, backend: try TestBackends.device(), settings: settings).attribute(one, target: 2).attribution
        }
        let (first, second) = (try run(settings), try run(settings))
        #expect(first.values.map(\.bitPattern) == second.values.map(\.bitPattern))
        settings.seed = 1
        #expect(try run(settings).values != first.values)
    }

    /// ROAD's imputation noise comes from the seed: the same seed gives the same scores bit for bit (batches of 4,
    /// so the variants span several imputation launches), another seed other scores.
    @Test func roadWithNoiseIsReproducibleByteForByte() throws {
        let fixture = PeerFixture(name: "mnist_cnn")
        let (graph, input) = (try fixture.graph(), try fixture.array("input.npy"))
        let maps = try fixture.array("cam_gradcam.npy")
        let mapper = try ClassActivationMapper(graph: graph, backend: try TestBackends.device(), layers: [try fixture.layer("last")],
                                               method: .gradCAM, inputShape: input.shape)
        mapper.batch = 4
        let run = { (seed: UInt64) in
            try mapper.road(input: input, maps: HostTensor(shape: [maps.shape[0], 1, maps.shape[1], maps.shape[2]], values: maps.values),
                            classes: try fixture.classes(), seed: seed)
                .flatMap { $0.mostRelevantFirst + $0.leastRelevantFirst }
        }
        let first = try run(0)
        #expect(first.map(\.bitPattern) == (try run(0)).map(\.bitPattern))
        #expect(try run(1) != first)
    }
}
