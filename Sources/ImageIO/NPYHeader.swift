import Foundation

/// The dictionary at the start of a `.npy` file: element type, memory order and shape.
///
/// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
struct NPYHeader {
    /// The array-protocol type string, such as `<f4`.
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// Every file starts with these six bytes, then the major and minor version bytes.
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// NumPy aligns the data to this many bytes (a cache line, and enough for any element type).
    static let alignment = 64
    /// NumPy leaves room to rewrite the first axis with up to this many digits (for appending in place).
    static let growthAxisDigits = 21

    /// Reads the header dictionary from its Python-literal text.
    /// - Throws: The reason, without the path.
    init(parsing text: String) throws(NPYFormatError) {
        let shown = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let literal: PythonLiteral
        do {
            literal = try PythonLiteral(parsing: text)
        } catch {
            throw NPYFormatError("malformed header at character \(error.offset): \(error.reason) in \(shown)")
        }
        guard case .dictionary(let items) = literal else {
            throw NPYFormatError("header is not a dictionary: \(shown)")
        }
        func entry(_ key: String) throws(NPYFormatError) -> PythonLiteral {
            let item = items.first { if case .string(let name) = $0.key { name == key } else { false } }
            guard let item else { throw NPYFormatError("header has no '\(key)' key") }
            return item.value
        }
        guard case .string(let descr) = try entry("descr") else {
            throw NPYFormatError("unsupported dtype: structured arrays are not tensors")
        }
        guard case .boolean(let fortranOrder) = try entry("fortran_order") else {
            throw NPYFormatError("header's 'fortran_order' is not True or False")
        }
        guard case .sequence(let axes) = try entry("shape") else {
            throw NPYFormatError("header's 'shape' is not a tuple")
        }
        var shape: [Int] = []
        for axis in axes {
            guard case .integer(let size) = axis, size >= 0 else {
                throw NPYFormatError("header's 'shape' holds something other than sizes: \(shown)")
            }
            shape.append(size)
        }
        self.init(descr: descr, fortranOrder: fortranOrder, shape: shape)
    }

    init(descr: String, fortranOrder: Bool, shape: [Int]) {
        self.descr = descr
        self.fortranOrder = fortranOrder
        self.shape = shape
    }

    /// The shape as Python writes the tuple: `()`, `(5,)`, `(2, 3)`.
    var shapeText: String {
        switch shape.count {
        case 0: "()"
        case 1: "(\(shape[0]),)"
        default: "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
    }

    /// The header as NumPy's `np.save` writes it for format version 1.0: keys sorted, trailing `, `, room to grow
    /// the first axis, then spaces and a newline so the data starts at a multiple of ``alignment``.
    func versionOneText() -> String {
        var text = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        if let growing = fortranOrder ? shape.last : shape.first {
            text += String(repeating: " ", count: max(0, Self.growthAxisDigits - String(growing).count))
        }
        // Magic, two version bytes, a two-byte length, the text, a newline: NumPy pads by 1...64, never 0.
        let used = Self.magic.count + 2 + 2 + text.utf8.count + 1
        return text + String(repeating: " ", count: Self.alignment - used % Self.alignment) + "\n"
    }
}

/// Why bytes are not a `.npy` file this reader accepts; ``NPYFile`` adds the path.
struct NPYFormatError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
