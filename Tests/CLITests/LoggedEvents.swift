import Foundation
@testable import TensorBoard
import Testing

/// The events of the one event file a command wrote to `folder`, after the file-version record (checked).
func loggedEvents(in folder: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Tensorboard_Event] {
    let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("events.out.tfevents.") }
    #expect(files.count == 1, "\(files)", sourceLocation: sourceLocation)
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(try #require(files.first))")))
    let events = try RecordFraming.records(in: bytes).map { try Tensorboard_Event(serializedBytes: $0) }
    #expect(events.first?.fileVersion == "brain.Event:2", sourceLocation: sourceLocation)
    return Array(events.dropFirst())
}
