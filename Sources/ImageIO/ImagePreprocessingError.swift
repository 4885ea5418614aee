/// Preprocessing settings that cannot work, or an image they cannot take; `description` is one line.
public struct ImagePreprocessingError: Error, CustomStringConvertible, Sendable {
    /// The position of the offending image in the batch, when one image is at fault.
    public let imageIndex: Int?
    public let reason: String

    public init(imageIndex: Int? = nil, reason: String) {
        self.imageIndex = imageIndex
        self.reason = reason
    }

    public var description: String {
        imageIndex.map { "preprocessing image \($0): \(reason)" } ?? "preprocessing: \(reason)"
    }
}
