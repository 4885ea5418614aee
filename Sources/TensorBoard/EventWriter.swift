import Foundation
import ImageIO
import SwiftProtobuf

/// A failure to write a TensorBoard log, naming the file.
public struct TensorBoardError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Writes one TensorBoard event file (`events.out.tfevents.<seconds>.<host>` in a log folder): scalars and PNG
/// images as `Summary` events in TFRecord framing, each event flushed as it is written so a running TensorBoard
/// follows the run. `tensorboard --logdir DIR` reads it.
public final class EventWriter {
    /// The event file.
    public let path: String
    private let handle: FileHandle
    private let clock: @Sendable () -> Double

    /// Creates `directory` when missing and a new event file in it, starting with the file-version event.
    /// - Parameter clock: seconds since 1970 for each event's wall time (tests fix it).
    /// - Throws: `TensorBoardError` when `directory` is a file or the event file cannot be created.
    public init(directory: String, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw TensorBoardError(path: directory, reason: "is a file; --tensorboard takes a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TensorBoardError(path: directory, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        self.clock = clock
        let host = ProcessInfo.processInfo.hostName.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        // Two writers started in the same second on one host must not share a file: the process id tells them apart.
        let name = "events.out.tfevents.\(Int(clock())).\(host.isEmpty ? "localhost" : host).\(ProcessInfo.processInfo.processIdentifier)"
        path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw TensorBoardError(path: path, reason: "cannot create the event file")
        }
        self.handle = handle
        var first = Tensorboard_Event()
        first.wallTime = clock()
        first.fileVersion = "brain.Event:2"
        try write(first)
    }

    deinit { try? handle.close() }

    /// Scalars at `step`, one event (TensorBoard's Scalars tab plots each tag over the steps).
    public func scalars(_ values: [(tag: String, value: Float)], step: Int) throws {
        try write(summary(step: step, values: values.map { tag, value in
            var entry = Tensorboard_Summary.Value()
            entry.tag = tag
            entry.simpleValue = value
            return entry
        }))
    }

    /// Images at `step`, PNG-encoded, one event (the Images tab shows each tag with a step slider).
    public func images(_ images: [(tag: String, image: RasterImage)], step: Int) throws {
        try write(summary(step: step, values: images.map { tag, image in
            var picture = Tensorboard_Summary.Image()
            (picture.height, picture.width) = (Int32(image.height), Int32(image.width))
            picture.colorspace = Int32(image.channels)
            do {
                picture.encodedImageString = Data(try image.pngData())
            } catch {
                throw TensorBoardError(path: path, reason: "cannot encode image '\(tag)': \(error)")
            }
            var entry = Tensorboard_Summary.Value()
            entry.tag = tag
            entry.image = picture
            return entry
        }))
    }

    private func summary(step: Int, values: [Tensorboard_Summary.Value]) -> Tensorboard_Event {
        var event = Tensorboard_Event()
        event.wallTime = clock()
        event.step = Int64(step)
        event.summary.value = values
        return event
    }

    private func write(_ event: Tensorboard_Event) throws {
        do {
            try handle.write(contentsOf: RecordFraming.frame(Array(try event.serializedBytes() as [UInt8])))
            try handle.synchronize()
        } catch {
            throw TensorBoardError(path: path, reason: "cannot write an event (\(error))")
        }
    }
}
