import Foundation
import ImageIO
import TensorOps
import Testing
import TestSupport
@testable import TensorBoard

/// `convlens embed` as a user meets it on the bundled MNIST model: a map, its arrays and a Projector folder written
/// from folders of the bundled digits; every bad request refused with one line, a non-zero exit and no output file.
@Suite("convlens embed", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct EmbedCommandTests {
    let scratch: ScratchFolder
    /// The 64 channels of the last convolution, pooled: the features every happy path embeds.
    let layer = "/pool/GlobalAveragePool"
    /// The bundled digits, in label order (digit_<label>_<index>.png).
    let digits: [String]
    /// A t-SNE short enough for a test: 10 images take a perplexity of at most 3.
    let quickTSNE = ["--method", "tsne", "--perplexity", "2", "--iterations", "300"]

    init() throws {
        scratch = try ScratchFolder("convlens-embed")
        let folder = ConvLensProcess.repositoryRoot.appendingPathComponent("Sources/BundledModel/digits").path
        digits = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.sorted()
            .map { "\(folder)/\($0)" }
    }

    private func path(_ name: String) -> String { scratch.path(name) }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    // MARK: Inputs

    /// A folder holding the first `count` bundled digits (repeating them past 10, as `copy<k>-<name>`).
    private func flatFolder(_ name: String, count: Int = 10) throws -> String {
        let folder = path(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for index in 0..<count {
            let source = digits[index % digits.count], file = (source as NSString).lastPathComponent
            let copy = index < digits.count ? file : "copy\(index / digits.count)-\(file)"
            try FileManager.default.copyItem(atPath: source, toPath: "\(folder)/\(copy)")
        }
        return folder
    }

    /// A folder of class subfolders "0"…"9", each holding `copies` copies of its bundled digit.
    private func classFolders(_ name: String, copies: Int) throws -> String {
        let folder = path(name)
        for (label, source) in digits.enumerated() {
            let classFolder = "\(folder)/\(label)"
            try FileManager.default.createDirectory(atPath: classFolder, withIntermediateDirectories: true)
            for copy in 0..<copies { try FileManager.default.copyItem(atPath: source, toPath: "\(classFolder)/\(copy).png") }
        }
        return folder
    }

    // MARK: Reading the outputs back

    private func expectSuccess(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws
        -> ConvLensProcess.Result
    {
        let result = try ConvLensProcess.run(["embed"] + arguments)
        #expect(result.status == 0, "\(result.error)", sourceLocation: sourceLocation)
        return result
    }

    /// The map picture: a PNG that decodes, the plot area plus margins, title and legend.
    private func expectMap(_ file: String, plotSide: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let picture = try RasterImage(contentsOf: file)
        #expect(picture.width > plotSide && picture.height > plotSide, "\(picture.width)×\(picture.height)",
                sourceLocation: sourceLocation)
    }

    /// The Projector folder of an N-point export: its config names both embeddings, the metadata and the sprite;
    /// its metadata has the header and N rows (returned, as columns); its tensor files hold N×D values each.
    @discardableResult
    private func expectProjector(_ folder: String, points: Int, features: Int,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String]] {
        let config = try String(contentsOfFile: "\(folder)/projector_config.pbtxt", encoding: .utf8)
        for fragment in ["tensor_name: \"\(layer) features\"", "metadata_path: \"metadata.tsv\"", "image_path: \"sprite.png\"",
                         "tensor_shape: \(points)\n  tensor_shape: \(features)\n", "tensor_shape: \(points)\n  tensor_shape: 2\n"] {
            #expect(config.contains(fragment), "\(fragment) in \(config)", sourceLocation: sourceLocation)
        }
        #expect(config.components(separatedBy: "embeddings {").count - 1 == 2, "\(config)", sourceLocation: sourceLocation)
        #expect(config.contains("map\""), "the map's embedding in \(config)", sourceLocation: sourceLocation)

        let metadata = try String(contentsOfFile: "\(folder)/metadata.tsv", encoding: .utf8).split(separator: "\n")
        #expect(metadata.first == "label\tprediction\tfile", "\(metadata.first ?? "")", sourceLocation: sourceLocation)
        let rows = metadata.dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == points && rows.allSatisfy { $0.count == 3 }, "\(rows)", sourceLocation: sourceLocation)

        let sprite = try RasterImage(contentsOf: "\(folder)/sprite.png")
        #expect(sprite.width == sprite.height && sprite.width > 0, sourceLocation: sourceLocation)

        for (index, columns) in [features, 2].enumerated() {
            let binary = "\(folder)/tensor-\(index).bytes", text = "\(folder)/tensor-\(index).tsv"
            #expect(exists(binary) != exists(text), "one tensor file \(index)", sourceLocation: sourceLocation)
            if exists(binary) {
                let size = try FileManager.default.attributesOfItem(atPath: binary)[.size] as? Int
                #expect(size == points * columns * 4, "tensor-\(index).bytes", sourceLocation: sourceLocation)
            } else {
                let lines = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n")
                #expect(lines.count == points && lines.allSatisfy { $0.split(separator: "\t").count == columns },
                        "tensor-\(index).tsv", sourceLocation: sourceLocation)
            }
        }
        return rows
    }

    /// Nothing beside the scratch folder's own entries: no staging or set-aside export folder left behind.
    private func expectNoLeftovers(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
        #expect(!names.contains { $0.contains(".partial-") || $0.contains(".replaced-") }, "\(names)",
                sourceLocation: sourceLocation)
    }

    // MARK: Happy paths

    @Test func pcaOfClassFoldersWritesTheMapAndBothArrays() throws {
        let input = try classFolders("classes", copies: 2)
        let result = try expectSuccess(["--input", input, "--layer", layer, "--method", "pca", "--thumbnails", "--size", "256",
                                        "--out", path("map.png"), "--save-npy", path("embed")])
        #expect(result.output.contains("20 images, 64 features each; labels: class folders"), "\(result.output)")
        #expect(result.output.contains("PCA: PC1 ") && !result.output.contains("t-SNE:"), "\(result.output)")
        #expect(result.error.isEmpty, "\(result.error)")
        try expectMap(path("map.png"), plotSide: 256)

        let map = try NPYFile.read(path("embed-map.npy")), features = try NPYFile.read(path("embed-features.npy"))
        #expect(map.shape.dimensions == [20, 2] && features.shape.dimensions == [20, 64])
        #expect(map.values.allSatisfy(\.isFinite) && features.values.allSatisfy(\.isFinite))
        // PCA scores are centred, and the first component spreads the points more than the second.
        let (xs, ys) = (stride(from: 0, to: 40, by: 2).map { map.values[$0] }, stride(from: 1, to: 40, by: 2).map { map.values[$0] })
        let spread = xs.map(abs).max() ?? 0
        #expect(spread > 0 && abs(xs.reduce(0, +)) / 20 < 1e-3 * spread && abs(ys.reduce(0, +)) / 20 < 1e-3 * spread)
        #expect(xs.map { $0 * $0 }.reduce(0, +) >= ys.map { $0 * $0 }.reduce(0, +))
        // The two copies of each digit (rows 2k and 2k + 1, class folders in name order) have the same features.
        for digit in 0..<10 {
            let (first, second) = (features.values[(2 * digit * 64)..<((2 * digit + 1) * 64)],
                                   features.values[((2 * digit + 1) * 64)..<((2 * digit + 2) * 64)])
            #expect(zip(first, second).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) }, "digit \(digit)")
        }
    }

    @Test func tsneOnAFlatFolderUsesTheLabelsFile() throws {
        let input = try flatFolder("flat")
        let names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        try Data((names.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path("labels.txt")))
        let result = try expectSuccess(["--input", input, "--layer", layer] + quickTSNE
            + ["--labels", path("labels.txt"), "--size", "256", "--out", path("tsne.png"), "--save-npy", path("tsne"),
               "--projector", path("projector")])
        #expect(result.output.contains("10 images, 64 features each; labels: labels file"), "\(result.output)")
        #expect(result.output.contains("affinities: 7 neighbours each"), "\(result.output)")
        #expect(result.output.contains("t-SNE: 300 iterations, KL divergence "), "\(result.output)")
        try expectMap(path("tsne.png"), plotSide: 256)
        let map = try NPYFile.read(path("tsne-map.npy"))
        #expect(map.shape.dimensions == [10, 2] && map.values.allSatisfy(\.isFinite))
        #expect(Set(map.values).count > 2, "the points moved apart: \(map.values)")
        // The labels go to the Projector's metadata in image order, beside each file's name.
        let rows = try expectProjector(path("projector"), points: 10, features: 64)
        #expect(rows.map { $0[0] } == names)
        #expect(rows.map { $0[2] } == digits.map { ($0 as NSString).lastPathComponent })
    }

    @Test func projectorFolderIsWrittenAndReplacedByTheNextRun() throws {
        let input = try classFolders("classes", copies: 1)
        let arguments = ["--input", input, "--layer", layer, "--method", "pca", "--size", "256", "--out", path("map.png"),
                         "--projector", path("projector")]
        let result = try expectSuccess(arguments)
        #expect(result.output.contains("labels: class folders") && result.output.contains("wrote \(path("projector"))"),
                "\(result.output)")
        let rows = try expectProjector(path("projector"), points: 10, features: 64)
        #expect(rows.map { $0[0] } == (0...9).map(String.init))
        #expect(rows.map { $0[2] } == (0...9).map { "\($0)/0.png" })
        // The bundled model reads its own digits right.
        #expect(rows.map { $0[1] } == (0...9).map(String.init), "\(rows)")
        let written = Set(try FileManager.default.contentsOfDirectory(atPath: path("projector")))
        #expect(!written.contains { $0.hasPrefix("events.out.tfevents.") }, "\(written)")

        // A second run replaces the previous export in place.
        _ = try expectSuccess(arguments)
        try expectProjector(path("projector"), points: 10, features: 64)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: path("projector"))) == written)
        try expectNoLeftovers()
    }

    @Test func tensorboardFolderAddsTheKLDivergenceAndTheMap() throws {
        let input = try flatFolder("flat")
        let result = try expectSuccess(["--input", input, "--layer", layer] + quickTSNE
            + ["--size", "256", "--out", path("tsne.png"), "--tensorboard", path("tsne")])
        #expect(result.output.contains("labels: the model's predictions"), "\(result.output)")
        try expectProjector(path("tsne"), points: 10, features: 64)
        let logged = try loggedEvents(in: path("tsne"))
        let divergences = logged.flatMap { event in
            event.summary.value.filter { $0.tag == "embed/kl_divergence" }.map { (step: event.step, value: $0.simpleValue) }
        }
        #expect(divergences.map(\.step) == [50, 100, 150, 200, 250, 300])
        #expect(divergences.allSatisfy { $0.value.isFinite && $0.value >= 0 }, "\(divergences)")
        let maps = logged.filter { $0.summary.value.contains { $0.tag == "embed/map" } }
        #expect(maps.map(\.step) == [300])
        #expect(try #require(maps.first?.summary.value.first).image.width > 256)

        // PCA logs no divergence, and its map at step 0.
        _ = try expectSuccess(["--input", input, "--layer", layer, "--method", "pca", "--size", "256", "--out", path("pca.png"),
                               "--tensorboard", path("pca")])
        try expectProjector(path("pca"), points: 10, features: 64)
        let pca = try loggedEvents(in: path("pca"))
        #expect(pca.flatMap { $0.summary.value.map(\.tag) } == ["embed/map"])
        #expect(pca.map(\.step) == [0])
        // Again into the same folder: the previous export, event file included, is replaced.
        _ = try expectSuccess(["--input", input, "--layer", layer, "--method", "pca", "--size", "256", "--out", path("pca.png"),
                               "--tensorboard", path("pca")])
        #expect(try loggedEvents(in: path("pca")).map(\.step) == [0])
        try expectNoLeftovers()
    }

    // MARK: Refusals

    /// Expects `embed arguments…` (with a map, arrays and a Projector folder asked for) to fail with one line
    /// naming `fragment`, and none of those outputs to exist afterwards.
    private func expectRefusal(_ arguments: [String], mentioning fragment: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (out, stem, projector) = (path("refused.png"), path("refused"), path("refused-projector"))
        let given = arguments.contains("--projector") || arguments.contains("--tensorboard") ? [] : ["--projector", projector]
        try ConvLensProcess.expectRefusal(["embed"] + arguments + ["--out", out, "--save-npy", stem] + given,
                                          mentioning: fragment, sourceLocation: sourceLocation)
        for file in [out, stem + "-map.npy", stem + "-features.npy", projector] {
            #expect(!exists(file), "\(file) was written", sourceLocation: sourceLocation)
        }
        try expectNoLeftovers(sourceLocation: sourceLocation)
    }

    @Test func fewerThanThreeReadableImagesAreRefused() throws {
        let two = try flatFolder("two", count: 2)
        try expectRefusal(["--input", two, "--layer", layer, "--method", "pca"],
                          mentioning: "embedding needs at least 3 readable images; '\(two)' gave 2")
    }

    /// A corrupt image among too few readable ones: it is named as skipped, then the refusal, and nothing written.
    @Test func aCorruptImageIsSkippedAndNamedBeforeTheRefusal() throws {
        let folder = try flatFolder("broken", count: 2)
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(folder)/broken.png"))
        let (out, stem) = (path("broken.png"), path("broken"))
        let result = try ConvLensProcess.run(["embed", "--input", folder, "--layer", layer, "--method", "pca", "--out", out,
                                              "--save-npy", stem, "--projector", path("broken-projector")])
        #expect(result.status != 0)
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 2, "the skipped file, then the refusal: \(result.error)")
        #expect(lines.first?.hasPrefix("skipping \(folder)/broken.png: ") == true, "\(result.error)")
        #expect(lines.last?.contains("embedding needs at least 3 readable images; '\(folder)' gave 2") == true, "\(result.error)")
        for file in [out, stem + "-map.npy", stem + "-features.npy", path("broken-projector")] { #expect(!exists(file), "\(file)") }
    }

    @Test func perplexitiesOutsideTheRangeOrTheImagesAreRefused() throws {
        let input = try flatFolder("flat")
        try expectRefusal(["--input", input, "--layer", layer, "--perplexity", "0.5"],
                          mentioning: "--perplexity must be from 1 to 100, got 0.5")
        try expectRefusal(["--input", input, "--layer", layer, "--perplexity", "150"],
                          mentioning: "--perplexity must be from 1 to 100, got 150.0")
        let eight = try flatFolder("eight", count: 8)
        try expectRefusal(["--input", eight, "--layer", layer],
                          mentioning: "t-SNE needs more points than 3 × perplexity: 8 points take a perplexity of at most 2.3, got 30.0")
    }

    @Test func aLayerWithoutFeaturesIsRefusedWithItsShape() throws {
        let input = try flatFolder("flat")
        try expectRefusal(["--input", input, "--layer", "input", "--method", "pca"],
                          mentioning: "layer 'input' is 1×1×28×28: features need N×D, N×T×D tokens or N×C×H×W maps "
                              + "with at least 2 features")
    }

    @Test func aProjectorFolderHoldingOtherFilesIsRefusedBeforeAnyWork() throws {
        let input = try flatFolder("flat")
        let folder = path("notes")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let notes = Data("mine, not an export\n".utf8)
        try notes.write(to: URL(fileURLWithPath: "\(folder)/notes.txt"))
        for option in ["--projector", "--tensorboard"] {
            try expectRefusal(["--input", input, "--layer", layer, "--method", "pca", option, folder],
                              mentioning: "\(folder): exists and holds other files (notes.txt); give a new or empty folder")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["notes.txt"])
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/notes.txt")) == notes)
        }
    }

    @Test func aLabelsFileOfTheWrongLengthIsRefused() throws {
        let input = try flatFolder("flat")
        try Data("a\nb\nc\nd\n".utf8).write(to: URL(fileURLWithPath: path("labels.txt")))
        try expectRefusal(["--input", input, "--layer", layer, "--method", "pca", "--labels", path("labels.txt")],
                          mentioning: "--labels has 4 labels for 10 images (10 files); give one per line, in image order")
    }

    @Test func unknownLayersAndNonPNGMapsAreRefused() throws {
        let input = try flatFolder("flat")
        try expectRefusal(["--input", input, "--layer", "/pool/NoSuchPool", "--method", "pca"],
                          mentioning: "layer '/pool/NoSuchPool' not found; nearest: ")
        let jpeg = path("map.jpg")
        try ConvLensProcess.expectRefusal(["embed", "--input", input, "--layer", layer, "--method", "pca", "--out", jpeg],
                                          mentioning: "map.jpg: ConvLens writes PNG pictures; name the file .png (not .jpg)")
        #expect(!exists(jpeg))
    }
}
