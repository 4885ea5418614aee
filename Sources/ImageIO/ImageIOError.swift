/// A file that could not be read or written: an image, an array, or the bytes under either.
///
/// `description` is one line a user can act on: `"photo.jpg: Premature end of JPEG file"`.
public struct ImageIOError: Error, CustomStringConvertible, Sendable {
    /// The file as the caller named it.
    public let path: String
    /// What went wrong, without the path.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
