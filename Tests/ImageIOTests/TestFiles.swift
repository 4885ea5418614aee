import Foundation
import Testing

/// A fresh directory under the system's temporary directory, one per test suite instance.
func makeTemporaryDirectory(_ label: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-\(label)-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// The path of a committed fixture (see Fixtures/README.md).
func fixturePath(_ name: String) throws -> String {
    let folder = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures")
    return folder.appendingPathComponent(name).path
}

/// The bytes of a committed fixture.
func fixtureBytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: try fixturePath(name))))
}

/// Writes `bytes` to `name` inside `directory` and returns the path.
func writeFile(_ bytes: [UInt8], named name: String, in directory: URL) throws -> String {
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}
