import FileAccess
import Foundation
import ImageIO

#if canImport(Glibc)
import Glibc
#endif

/// Embeddings for TensorBoard's Projector (the Embeddings tab), as a folder `tensorboard --logdir DIR` shows.
///
/// The folder holds `projector_config.pbtxt`, one tensor file per embedding, and one `metadata.tsv` and one
/// `sprite.png` that every embedding shares. Tools/check_projector.py loads it with the projector plugin's own code.
///
/// The projector's rules this follows, from its plugin (`projector_plugin.py`) and its front end:
/// - a tensor file is read as TSV first and as raw float32 only when that fails to decode as UTF-8, so a binary
///   tensor whose bytes happen to be valid UTF-8 (values such as 2, 3 and 0.5) would break every projector request;
///   such an embedding is written as TSV instead;
/// - `metadata.tsv` has a header row exactly when it has two or more columns (the front end takes a first line
///   with a tab as the header) and skips blank lines, so tabs and line breaks in values become spaces and a row
///   that would be blank gets `(blank)` in its first column;
/// - the sprite is a square grid (the front end takes a point's row from its index divided by the cells per
///   column), row-major in point order, at most 8192 px a side.
public struct ProjectorExport: Sendable {
    /// One embedding: `rows` points of `columns` values each.
    public struct Embedding: Sendable {
        /// The name the projector lists; distinct within an export.
        public var name: String
        public var rows: Int
        public var columns: Int
        /// `rows × columns` values, row-major (one point after another).
        public var values: [Float]

        public init(name: String, rows: Int, columns: Int, values: [Float]) {
            self.name = name
            self.rows = rows
            self.columns = columns
            self.values = values
        }
    }

    /// How the tensor files are written: raw little-endian float32 (`tensor-K.bytes`, a quarter of TSV's size
    /// and exact) or text (`tensor-K.tsv`, one point a line, values tab-separated).
    public enum TensorFormat: String, CaseIterable, Sendable {
        case binary, tsv
    }

    public var embeddings: [Embedding]
    /// Columns of labels, one value per point; none writes no `metadata.tsv`.
    public var metadata: [(header: String, values: [String])]
    /// One picture per point for the sprite (gray, RGB or RGBA, any sizes); `nil` writes no sprite.
    public var images: [RasterImage]?
    public var format: TensorFormat

    public init(
        embeddings: [Embedding], metadata: [(header: String, values: [String])], images: [RasterImage]?,
        format: TensorFormat = .binary
    ) {
        self.embeddings = embeddings
        self.metadata = metadata
        self.images = images
        self.format = format
    }

    /// The longest side the projector's front end accepts for the sprite, in pixels.
    static let maximumSpriteSide = 8192
    static let configName = "projector_config.pbtxt"
    static let metadataName = "metadata.tsv"
    static let spriteName = "sprite.png"
    /// What a row that would be blank (which the front end would skip, shifting every later label) shows instead.
    static let blankPlaceholder = "(blank)"

    /// Writes the export into `folder`, all or nothing.
    ///
    /// Every file goes into a new sibling folder (`<folder>.partial-<pid>-<uuid>`), `extra` adds its own, and the
    /// sibling is renamed into place: over a missing or empty `folder` in one rename; over a previous export (only
    /// files an export writes, `events.out.tfevents.*` included) by renaming that aside first and deleting it after.
    /// Any other folder is refused before anything is written; on any failure the sibling is removed.
    /// - Parameters:
    ///   - folder: The export's folder; its parent is created when missing.
    ///   - extra: Called with the staging folder before it moves into place (to add an event file, say).
    /// - Throws: `TensorBoardError` naming the path, for inconsistent inputs or a file-system failure; whatever
    ///   `extra` throws, unchanged.
    public func write(to folder: String, alsoWriting extra: ((_ stagingFolder: String) throws -> Void)? = nil) throws {
        try validate(shownAs: folder)
        let target = URL(fileURLWithPath: folder).standardizedFileURL.path
        guard target != "/" else {
            throw TensorBoardError(path: folder, reason: "is the root folder; give a new or empty folder")
        }
        _ = try Self.inspect(target, shownAs: folder)  // refuses a foreign folder before anything is written
        let files = try contents(shownAs: folder)
        let parent = (target as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw TensorBoardError(path: parent, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        // A sibling, so the final rename stays on one file system; pid and UUID keep concurrent writers apart.
        let staging = target + ".partial-\(getpid())-\(UUID().uuidString)"
        guard mkdir(staging, 0o777) == 0 else { throw TensorBoardError(path: staging, reason: Self.systemReason()) }
        do {
            for (name, bytes) in files {
                do throws(FileAccessError) {
                    try FileAccess.writeAtomically(bytes, to: staging + "/" + name)
                } catch {
                    throw TensorBoardError(path: error.path, reason: error.reason)
                }
            }
            try extra?(staging)
            try Self.move(staging, into: target, shownAs: folder)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    // MARK: Checks

    /// Refuses inputs the projector would misread, before anything touches the disk.
    func validate(shownAs folder: String) throws(TensorBoardError) {
        func refuse(_ reason: String) -> TensorBoardError { TensorBoardError(path: folder, reason: reason) }
        guard let points = embeddings.first?.rows else { throw refuse("no embeddings to export") }
        var names = Set<String>()
        for (index, embedding) in embeddings.enumerated() {
            let (name, rows, columns) = (embedding.name, embedding.rows, embedding.columns)
            guard !name.isEmpty else { throw refuse("embedding \(index) has an empty name") }
            guard names.insert(name).inserted else {
                throw refuse("two embeddings are named '\(name)'; the projector tells them apart by name")
            }
            guard rows > 0, columns > 0 else {
                throw refuse("embedding '\(name)' is \(rows)×\(columns); it needs values")
            }
            guard embedding.values.count == rows * columns else {
                throw refuse(
                    "embedding '\(name)' has \(embedding.values.count) values; \(rows) rows × \(columns) columns "
                        + "need \(rows * columns)")
            }
            guard rows == points else {
                throw refuse(
                    "embedding '\(name)' has \(rows) rows and '\(embeddings[0].name)' has \(points); the "
                        + "embeddings share one metadata file and sprite, so they need the same points")
            }
        }
        for column in metadata where column.values.count != points {
            throw refuse("metadata column '\(column.header)' has \(column.values.count) values for \(points) points")
        }
        if metadata.count > 1 {
            var headers = Set<String>()
            for header in metadata.map({ Self.cleaned($0.header) }) {
                guard !Self.isBlank(header) else { throw refuse("a metadata column has a blank header") }
                guard headers.insert(header).inserted else {
                    throw refuse("two metadata columns are headed '\(header)'")
                }
            }
        }
        guard let images else { return }
        guard images.count == points else { throw refuse("\(images.count) images for \(points) points") }
        if let index = images.firstIndex(where: { $0.width == 0 || $0.height == 0 }) {
            throw refuse("image \(index) is \(images[index].width)×\(images[index].height) pixels")
        }
        let longest = images.map { max($0.width, $0.height) }.max() ?? 0
        guard Self.spriteLayout(count: points, longestSide: longest).cell > 0 else {
            throw refuse("\(points) images do not fit a \(Self.maximumSpriteSide) px sprite even at 1 px each")
        }
    }

    /// Refuses `folder` as `write` would (a foreign folder, a file, a link), for commands to check before their
    /// work rather than after it.
    public static func requireWritable(_ folder: String) throws(TensorBoardError) {
        _ = try inspect(URL(fileURLWithPath: folder).standardizedFileURL.path, shownAs: folder)
    }

    /// What a path holds before an export replaces it.
    enum Occupant: Equatable { case nothing, emptyFolder, previousExport }

    /// Says what `target` holds, refusing anything but nothing, an empty folder or a previous export.
    static func inspect(_ target: String, shownAs folder: String) throws(TensorBoardError) -> Occupant {
        var status = stat()
        guard lstat(target, &status) == 0 else {
            if errno == ENOENT { return .nothing }
            throw TensorBoardError(path: folder, reason: systemReason())
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            let kind = status.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "not a folder"
            throw TensorBoardError(path: folder, reason: "exists and is \(kind); give a new or empty folder")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: target)
        } catch {
            throw TensorBoardError(path: folder, reason: "cannot list the folder (\(error.localizedDescription))")
        }
        if names.isEmpty { return .emptyFolder }
        let foreign = names.filter { name in
            var entry = stat()
            return !isExportFile(name) || lstat(target + "/" + name, &entry) != 0 || entry.st_mode & S_IFMT != S_IFREG
        }.sorted()
        guard foreign.isEmpty else {
            let more = foreign.count > 3 ? " and \(foreign.count - 3) more" : ""
            throw TensorBoardError(
                path: folder,
                reason: "exists and holds other files "
                    + "(\(foreign.prefix(3).joined(separator: ", "))\(more)); give a new or empty folder")
        }
        return .previousExport
    }

    /// Whether `name` is a file some export writes, which a new export may delete.
    static func isExportFile(_ name: String) -> Bool {
        let fixedName = [configName, metadataName, spriteName].contains(name) || name.hasPrefix("events.out.tfevents.")
        if fixedName { return true }
        for suffix in [".bytes", ".tsv"] where name.hasPrefix("tensor-") && name.hasSuffix(suffix) {
            let digits = name.dropFirst("tensor-".count).dropLast(suffix.count)
            return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
        }
        return false
    }

    /// Renames the finished staging folder to `target`, looking again at what `target` holds now.
    private static func move(_ staging: String, into target: String, shownAs folder: String) throws(TensorBoardError) {
        switch try inspect(target, shownAs: folder) {
        case .nothing, .emptyFolder:
            // rename(2) replaces an empty folder in one step, and fails if files appeared in it meanwhile.
            guard rename(staging, target) == 0 else {
                throw TensorBoardError(path: folder, reason: "cannot move the export into place (\(systemReason()))")
            }
        case .previousExport:
            let aside = target + ".replaced-\(getpid())-\(UUID().uuidString)"
            guard rename(target, aside) == 0 else {
                throw TensorBoardError(
                    path: folder, reason: "cannot move the previous export aside (\(systemReason()))")
            }
            guard rename(staging, target) == 0 else {
                let reason = systemReason()
                _ = rename(aside, target)
                throw TensorBoardError(path: folder, reason: "cannot move the export into place (\(reason))")
            }
            // The new export is in place; an old file that cannot be deleted is left beside it, never in it.
            try? FileManager.default.removeItem(atPath: aside)
        }
    }

    // MARK: Contents

    /// Every file of the export, by name, in the order written.
    func contents(shownAs folder: String) throws(TensorBoardError) -> [(name: String, bytes: [UInt8])] {
        var files = embeddings.enumerated().map { index, embedding -> (name: String, bytes: [UInt8]) in
            let binary = format == .binary ? Self.binaryTensor(embedding.values) : nil
            // The plugin reads a tensor as UTF-8 text first; bytes that decode would be misparsed as TSV.
            if let binary, String(validating: binary, as: UTF8.self) == nil { return ("tensor-\(index).bytes", binary) }
            return ("tensor-\(index).tsv", Array(Self.tsvTensor(embedding).utf8))
        }
        let tensorFiles = files.map(\.name)
        var cell: Int?
        if let images {
            let sprite = Self.sprite(images)
            cell = sprite.cell
            do throws(ImageIOError) {
                files.append((Self.spriteName, try sprite.picture.pngData(source: folder + "/" + Self.spriteName)))
            } catch {
                throw TensorBoardError(path: error.path, reason: error.reason)
            }
        }
        if !metadata.isEmpty { files.append((Self.metadataName, Array(Self.metadataTSV(metadata).utf8))) }
        let config = configText(tensorFiles: tensorFiles, spriteCell: cell)
        files.append((Self.configName, Array(config.utf8)))
        return files
    }

    /// The `ProjectorConfig` text protobuf, fields in field-number order as `text_format.MessageToString` prints.
    func configText(tensorFiles: [String], spriteCell: Int?) -> String {
        var text = ""
        for (embedding, file) in zip(embeddings, tensorFiles) {
            text += "embeddings {\n  tensor_name: \(Self.quoted(embedding.name))\n"
            if !metadata.isEmpty { text += "  metadata_path: \(Self.quoted(Self.metadataName))\n" }
            text += "  tensor_shape: \(embedding.rows)\n  tensor_shape: \(embedding.columns)\n"
            if let spriteCell {
                text += "  sprite {\n    image_path: \(Self.quoted(Self.spriteName))\n"
                text += "    single_image_dim: \(spriteCell)\n    single_image_dim: \(spriteCell)\n  }\n"
            }
            text += "  tensor_path: \(Self.quoted(file))\n}\n"
        }
        return text
    }

    /// A text-protobuf string literal, escaped as protobuf's `CEscape` does (non-ASCII stays UTF-8).
    static func quoted(_ string: String) -> String {
        var text = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\t": text += "\\t"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\"", "'", "\\": text += "\\" + String(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let octal = String(scalar.value, radix: 8)
                text += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }

    static func binaryTensor(_ values: [Float]) -> [UInt8] {
        values.map(\.bitPattern.littleEndian).withUnsafeBytes { Array($0) }
    }

    /// One point a line; `Float.description` is the shortest text that reads back to the same float.
    static func tsvTensor(_ embedding: Embedding) -> String {
        var text = ""
        for row in 0..<embedding.rows {
            let start = row * embedding.columns
            text += embedding.values[start..<(start + embedding.columns)].map(\.description).joined(separator: "\t")
            text += "\n"
        }
        return text
    }

    /// The metadata file: a header row only with two or more columns, then one row per point.
    static func metadataTSV(_ columns: [(header: String, values: [String])]) -> String {
        var text = columns.count > 1 ? columns.map { cleaned($0.header) }.joined(separator: "\t") + "\n" : ""
        for point in 0..<(columns.first?.values.count ?? 0) {
            var row = columns.map { cleaned($0.values[point]) }
            if row.allSatisfy(isBlank) { row[0] = blankPlaceholder }
            text += row.joined(separator: "\t") + "\n"
        }
        return text
    }

    /// `text` with tabs and line breaks (which would split cells or rows) as spaces.
    static func cleaned(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            result.append(scalar == "\t" || scalar == "\n" || scalar == "\r" ? " " : scalar)
        }
        return String(result)
    }

    /// Whether the front end's `trim()` would leave nothing of `text` (it also trims the byte-order mark).
    static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.properties.isWhitespace || $0 == "\u{FEFF}" }
    }

    // MARK: Sprite

    /// The sprite's grid: the fewest columns whose square holds `count` cells, and the cell side, the longest
    /// image side shrunk so the sprite stays within `maximumSide` (0 when not even 1 px fits).
    static func spriteLayout(count: Int, longestSide: Int, maximumSide: Int = maximumSpriteSide)
        -> (columns: Int, cell: Int)
    {
        var columns = Int(Double(count).squareRoot())
        while columns * columns < count { columns += 1 }
        while columns > 1 && (columns - 1) * (columns - 1) >= count { columns -= 1 }
        return (columns, min(longestSide, maximumSide / max(columns, 1)))
    }

    /// The sprite as RGB on white: image k in cell (k / columns, k % columns), scaled so its longer side fills the
    /// cell (`RasterImage.scaled`, deterministic) and centred; RGBA is composited over white.
    static func sprite(_ images: [RasterImage], maximumSide: Int = maximumSpriteSide) -> (
        picture: RasterImage, cell: Int
    ) {
        let longest = images.map { max($0.width, $0.height) }.max() ?? 0
        let (columns, cell) = spriteLayout(count: images.count, longestSide: longest, maximumSide: maximumSide)
        let side = columns * cell
        var pixels = [UInt8](repeating: 255, count: side * side * 3)
        for (index, image) in images.enumerated() {
            let drawn = image.scaled(toLongerSide: cell).rgbOverWhite()
            let left = (index % columns) * cell + (cell - drawn.width) / 2
            let top = (index / columns) * cell + (cell - drawn.height) / 2
            for y in 0..<drawn.height {
                let target = ((top + y) * side + left) * 3, source = y * drawn.width * 3
                pixels[target..<(target + drawn.width * 3)] = drawn.pixels[source..<(source + drawn.width * 3)]
            }
        }
        return (RasterImage(width: side, height: side, channels: 3, pixels: pixels), cell)
    }

    private static func systemReason() -> String { String(cString: strerror(errno)) }
}
