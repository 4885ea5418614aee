import Foundation
import ImageIO
import TensorOps

/// The images a command explains: one file (a PNG, a JPEG or a preprocessed .npy batch), or every PNG and JPEG in
/// a folder, in name order, each preprocessed for the model. A folder without images of its own but with
/// subfolders that hold some is read as torchvision's ImageFolder layout, one subfolder per class (in name order).
/// Folder images are decoded a batch at a time, so a thousand of them never sit in memory together; unreadable
/// ones are skipped and named.
struct ImageFolder {
    let isFolder: Bool
    /// The folder's image files (full paths), or the one file.
    let files: [String]
    /// Each file's class, the subfolder it is in, for a folder of class subfolders.
    let classes: [String]?
    private let preprocessing: ImagePreprocessing

    init(path: String, preprocessing: ImagePreprocessing) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandError("input '\(path)' does not exist")
        }
        self.preprocessing = preprocessing
        isFolder = isDirectory.boolValue
        guard isFolder else {
            (files, classes) = ([path], nil)
            return
        }
        func images(in folder: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                .filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
                .map { (folder as NSString).appendingPathComponent($0) }
        }
        var files = try images(in: path), classes: [String]?
        if files.isEmpty {
            var labelled: [(file: String, label: String)] = []
            for entry in try FileManager.default.contentsOfDirectory(atPath: path).sorted() {
                let folder = (path as NSString).appendingPathComponent(entry)
                var isClass: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folder, isDirectory: &isClass), isClass.boolValue else { continue }
                labelled += try images(in: folder).map { ($0, entry) }
            }
            (files, classes) = (labelled.map(\.file), labelled.isEmpty ? nil : labelled.map(\.label))
        }
        guard !files.isEmpty else { throw CommandError("folder '\(path)' holds no PNG or JPEG images (nor class subfolders of them)") }
        (self.files, self.classes) = (files, classes)
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

    /// Calls `body` with the readable images stacked into batches of at most `size`, with their names (relative to
    /// the folder: `cat/1.png` in class subfolders), and returns the files that could not be read, with why (each
    /// also printed when met).
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
                pending.append((classes == nil ? (file as NSString).lastPathComponent
                                    : ((file as NSString).deletingLastPathComponent as NSString).lastPathComponent + "/"
                                        + (file as NSString).lastPathComponent, try tensor(file)))
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
