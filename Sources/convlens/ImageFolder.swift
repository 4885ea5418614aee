import Foundation
import ImageIO
import TensorOps

/// The images a command explains: one file (a PNG, a JPEG or a preprocessed .npy batch), or every PNG and JPEG in
/// a folder, in name order, each preprocessed for the model. Unreadable files in a folder are skipped and named.
struct ImageFolder {
    /// (name for reports and output files, the 1×C×H×W tensor or a whole .npy batch).
    let images: [(name: String, tensor: HostTensor)]
    /// Files that could not be read, with why.
    let failures: [(path: String, reason: String)]
    let isFolder: Bool

    init(path: String, preprocessing: ImagePreprocessing) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandError("input '\(path)' does not exist")
        }
        isFolder = isDirectory.boolValue
        guard isFolder else {
            images = [((path as NSString).lastPathComponent, try ModelInputs.tensor(from: path, preprocessing: preprocessing))]
            failures = []
            return
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            .filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
        guard !names.isEmpty else { throw CommandError("folder '\(path)' holds no PNG or JPEG images") }
        var images: [(String, HostTensor)] = [], failures: [(String, String)] = []
        for name in names {
            let file = (path as NSString).appendingPathComponent(name)
            do {
                images.append((name, try preprocessing.tensor(from: [RasterImage(contentsOf: file)])))
            } catch {
                failures.append((file, "\(error)"))
            }
        }
        self.images = images
        self.failures = failures
    }

    /// The images stacked into batches of at most `size`.
    func batches(of size: Int) -> [(names: [String], tensor: HostTensor)] {
        stride(from: 0, to: images.count, by: size).map { start in
            let slice = images[start..<min(start + size, images.count)]
            let shape = slice.first?.tensor.shape ?? [0]
            return (slice.map(\.name), HostTensor(shape: TensorShape([slice.reduce(0) { $0 + $1.tensor.shape[0] }]
                                                       + shape.dimensions.dropFirst()),
                                                  values: slice.flatMap(\.tensor.values)))
        }
    }
}
