/// Zero padding on each side of a 2-D plane, in elements. ONNX allows it to differ per side.
public struct Padding2D: Hashable, Sendable, CustomStringConvertible {
    public var top: Int
    public var left: Int
    public var bottom: Int
    public var right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }

    /// The same padding on all four sides.
    public init(_ all: Int) { self.init(top: all, left: all, bottom: all, right: all) }

    /// PyTorch-style symmetric padding: `vertical` on top and bottom, `horizontal` left and right.
    public init(vertical: Int, horizontal: Int) {
        self.init(top: vertical, left: horizontal, bottom: vertical, right: horizontal)
    }

    public static let zero = Padding2D(0)

    public var isSymmetric: Bool { top == bottom && left == right }
    /// Every side from 0 to `TensorShape.maximumExtent`.
    var isInRange: Bool { [top, left, bottom, right].allSatisfy { (0...TensorShape.maximumExtent).contains($0) } }

    public var description: String {
        if top == bottom && left == right && top == left { return "\(top)" }
        return "\(top),\(left),\(bottom),\(right)"
    }
}

/// A (vertical, horizontal) pair: kernel size, stride or dilation.
public struct Size2D: Hashable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    public init(_ both: Int) { self.init(both, both) }

    /// Both from 1 to `TensorShape.maximumExtent` (a kernel, stride or dilation).
    var isInRange: Bool { [height, width].allSatisfy { (1...TensorShape.maximumExtent).contains($0) } }
    public var description: String { height == width ? "\(height)" : "\(height)x\(width)" }
}
