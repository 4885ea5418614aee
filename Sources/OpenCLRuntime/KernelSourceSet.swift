import Foundation

/// The OpenCL C files a program can be built from: embedded in the binary at build time, or read from a folder
/// (CONVLENS_KERNEL_DIR) while working on kernels. Both go through the same include resolution.
public struct KernelSourceSet: Sendable {
    /// File name (e.g. `conv2d.cl`) to contents.
    public let files: [String: String]
    /// Where the files came from, for messages: `embedded` or a folder path.
    public let origin: String

    public init(files: [String: String], origin: String) {
        self.files = files
        self.origin = origin
    }

    /// Reads every `.cl` and `.h` file in `directory`.
    /// - Throws: `KernelSourceError` when the folder cannot be read or holds no kernels.
    public static func directory(_ directory: String) throws(KernelSourceError) -> KernelSourceSet {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .unreadable(path: directory, reason: "\(error.localizedDescription)")
        }
        var files: [String: String] = [:]
        for name in names where name.hasSuffix(".cl") || name.hasSuffix(".h") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw .unreadable(path: path, reason: "not readable as UTF-8 text")
            }
            files[name] = text
        }
        if files.isEmpty { throw .unreadable(path: directory, reason: "no .cl files in it") }
        return KernelSourceSet(files: files, origin: directory)
    }

    /// The program source for `file` with every `#include "name"` replaced by that file's text (each file
    /// included once), ready for `clCreateProgramWithSource`. Resolving here rather than with `-I` keeps the
    /// program cache key (the source hash) honest about headers and works with embedded sources.
    public func source(_ file: String) throws(KernelSourceError) -> KernelSource {
        var included: Set<String> = []
        let text = try resolve(file, included: &included)
        return KernelSource(name: file, text: text)
    }

    private func resolve(_ file: String, included: inout Set<String>) throws(KernelSourceError) -> String {
        guard let text = files[file] else { throw .missing(file: file, origin: origin) }
        included.insert(file)
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let header = includedFile(line) {
                if !included.contains(header) { lines.append(try resolve(header, included: &included)) }
            } else {
                lines.append(String(line))
            }
        }
        return lines.joined(separator: "\n")
    }

    private func includedFile(_ line: Substring) -> String? {
        let trimmed = line.drop { $0 == " " }
        guard trimmed.hasPrefix("#include \"") else { return nil }
        let rest = trimmed.dropFirst("#include \"".count)
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

/// One resolved program source and the hash the program cache keys it by.
public struct KernelSource: Sendable, Hashable {
    public let name: String
    public let text: String
    /// FNV-1a 64 of `text`: stable across runs, so it can also name on-disk caches.
    public let hash: UInt64

    public init(name: String, text: String) {
        self.name = name
        self.text = text
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        self.hash = hash
    }
}

public enum KernelSourceError: Error, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    case missing(file: String, origin: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read kernel sources at \(path): \(reason)"
        case .missing(let file, let origin): "kernel source \(file) not found in \(origin)"
        }
    }
}
