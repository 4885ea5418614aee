import Foundation
import ImageIO
import TensorOps

/// The images a command explains: one file (a PNG, a JPEG or a preprocessed .npy batch), or every PNG and JPEG in
/// a folder, in name order, each preprocessed for the model. Folder images are decoded a batch at a time, so a
/// thousand of them never sit in memory together; unreadable ones are skipped and named.
struct ImageFolder {
    let isFolder: Bool
    /// The folder's image files (full paths), or the one file.
    let files: [String]
    private let preprocessing: ImagePreprocessing

    init(path: String, preprocessing: ImagePreprocessing) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandError("input '\(path)' does not exist")
        }
        self.preprocessing = preprocessing
        isFolder = isDirectory.boolValue
        guard isFolder else {
            files = [path]
            return
        }
        files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            .filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
            .map { (path as NSString).appendingPathComponent($0) }
        guard !files.isEmpty else { throw CommandError("folder '\(path)' holds no PNG or JPEG images") }
    }

    /// One file's tensor: 1×C×H×W for an image, the whole batch for a .npy file.
    func tensor(_ file: String) throws -> HostTensor {
        isFolder ? try preprocessing.tensor(from: [RasterImage(contentsOf: file)])
            : try ModelInputs.tensor(from: file, preprocessing: preprocessing)
    }

    /// The first readable file's tensor, for the shapes a run is set up for.
    /// - Throws: `CommandError` when no file is readable (a single file's own error when there is one file).
    func firstTensor() throws -> HostTensor {
        if !isFolder { return try tensor(files[0]) }
        for file in files { if let tensor = try? tensor(file) { return tensor } }
        throw CommandError("no readable image among the \(files.count) in the folder")
    }

    /// Calls `body` with the readable images stacked into batches of at most `size`, with their file names, and
    /// returns the files that could not be read, with why (each also printed when met).
    func forEachBatch(of size: Int, _ body: (_ names: [String], _ tensor: HostTensor) throws -> Void) throws
        -> [(path: String, reason: String)]
    {
        var failures: [(String, String)] = []
        var pending: [(String, HostTensor)] = []
        func flush() throws {
            guard let first = pending.first?.1 else { return }
            let count = pending.reduce(0) { $0 + $1.1.shape[0] }
            try body(pending.map(\.0), HostTensor(shape: TensorShape([count] + first.shape.dimensions.dropFirst()),
                                                  values: pending.flatMap(\.1.values)))
            pending.removeAll()
        }
        for file in files {
            do {
                pending.append(((file as NSString).lastPathComponent, try tensor(file)))
            } catch where isFolder {
                printError("skipping \(file): \(error)")
                failures.append((file, "\(error)"))
            }
            if pending.count == size { try flush() }
        }
        try flush()
        return failures
    }
}
