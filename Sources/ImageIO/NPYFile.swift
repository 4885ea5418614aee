import TensorOps

/// Reads and writes NumPy `.npy` files as ``HostTensor``s (float32, C order), the exchange format with the
/// Python side: fixtures, reference outputs, saved activations.
public enum NPYFile {
    /// Reads a `.npy` file of format version 1.0, 2.0 or 3.0 holding little-endian `float32` (`<f4`) or
    /// `float64` (`<f8`, rounded to `Float`) in C order, of any rank: `()` gives a scalar tensor of shape `[]`.
    /// - Parameter path: The file to read.
    /// - Returns: The array with its shape and values in row-major order.
    /// - Throws: `ImageIOError` naming the file and why it was refused: unreadable, bad magic, truncated,
    ///   malformed header, another dtype (`<i8`, `>f4` …), Fortran order, or data that does not match the shape.
    public static func read(_ path: String) throws(ImageIOError) -> HostTensor {
        try read(bytes: try readFileBytes(path), source: path)
    }

    /// Reads `.npy` bytes held in memory (an embedded table), as `read(_:)` reads a file; `source` names them in
    /// errors.
    public static func read(bytes: [UInt8], source: String) throws(ImageIOError) -> HostTensor {
        do {
            return try decode(bytes)
        } catch {
            throw ImageIOError(path: source, reason: error.reason)
        }
    }

    /// Writes `tensor` as a format 1.0 `.npy` file of little-endian `float32` in C order, byte for byte as
    /// `np.save` would (header padded so the data starts at a multiple of 64 bytes).
    ///
    /// Writes a temporary file beside `path` and renames it, so a failure leaves no partial file.
    /// - Parameters:
    ///   - tensor: The array; its shape becomes the file's shape.
    ///   - path: The file to create or replace.
    /// - Throws: `ImageIOError` naming the file and the system's reason.
    public static func write(_ tensor: HostTensor, to path: String) throws(ImageIOError) {
        let header = NPYHeader(descr: "<f4", fortranOrder: false, shape: tensor.shape.dimensions).versionOneText()
        guard header.utf8.count <= Int(UInt16.max) else {
            throw ImageIOError(path: path, reason: "a rank-\(tensor.shape.rank) header does not fit format 1.0")
        }
        var bytes = NPYHeader.magic + [1, 0]
        bytes += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + 4 * tensor.values.count)
        for value in tensor.values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
        }
        try writeFileAtomically(bytes, to: path)
    }

    /// The tensor in `bytes`, or the reason they are refused.
    static func decode(_ bytes: [UInt8]) throws(NPYFormatError) -> HostTensor {
        guard bytes.starts(with: NPYHeader.magic) else {
            let isPrefix = bytes.count < NPYHeader.magic.count && NPYHeader.magic.starts(with: bytes)
            throw NPYFormatError(isPrefix ? "truncated inside the magic string" : "not a .npy file (bad magic)")
        }
        guard bytes.count >= 8 else { throw NPYFormatError("truncated before the format version") }
        let (major, minor) = (bytes[6], bytes[7])
        let lengthSize: Int
        switch major {
        case 1: lengthSize = 2
        case 2, 3: lengthSize = 4
        default: throw NPYFormatError("unsupported format version \(major).\(minor) (1.0, 2.0 and 3.0 are read)")
        }
        guard bytes.count >= 8 + lengthSize else { throw NPYFormatError("truncated inside the header length") }
        let headerLength = bytes[8..<(8 + lengthSize)].reversed().reduce(0) { $0 << 8 | Int($1) }
        let dataStart = 8 + lengthSize + headerLength
        guard bytes.count >= dataStart else {
            throw NPYFormatError(
                "truncated inside the header: it ends at byte \(dataStart), the file has \(bytes.count)")
        }
        let headerBytes = bytes[(8 + lengthSize)..<dataStart]
        // Versions 1 and 2 are latin-1, where every byte is the code point of the same number; version 3 is UTF-8.
        let text =
            major == 3
            ? String(decoding: headerBytes, as: UTF8.self)
            : String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))
        let header = try NPYHeader(parsing: text)
        return try values(of: header, in: bytes[dataStart...])
    }

    /// The elements after the header, checked against the header's dtype, order and shape.
    private static func values(of header: NPYHeader, in data: ArraySlice<UInt8>) throws(NPYFormatError) -> HostTensor {
        let elementSize: Int
        switch header.descr {
        case "<f4": elementSize = 4
        case "<f8": elementSize = 8
        default:
            throw NPYFormatError(
                "unsupported dtype '\(header.descr)': only little-endian float32 '<f4' and float64 '<f8' are read")
        }
        guard !header.fortranOrder else {
            throw NPYFormatError("Fortran-ordered arrays are not supported; save np.ascontiguousarray(a) instead")
        }
        var expectedBytes = elementSize
        for size in header.shape {
            let (product, overflow) = expectedBytes.multipliedReportingOverflow(by: size)
            guard !overflow else { throw NPYFormatError("shape \(header.shapeText) is too large") }
            expectedBytes = product
        }
        guard data.count == expectedBytes else {
            let problem = data.count < expectedBytes ? "truncated" : "data size does not match the shape"
            throw NPYFormatError(
                "\(problem): shape \(header.shapeText) of '\(header.descr)' needs \(expectedBytes) bytes of data, "
                    + "the file has \(data.count)")
        }
        let count = expectedBytes / elementSize
        let values: [Float] = data.withUnsafeBytes { raw in
            func element<Bits: FixedWidthInteger>(_ index: Int, as _: Bits.Type) -> Bits {
                Bits(littleEndian: raw.loadUnaligned(fromByteOffset: index * MemoryLayout<Bits>.size, as: Bits.self))
            }
            return elementSize == 4
                ? (0..<count).map { Float(bitPattern: element($0, as: UInt32.self)) }
                : (0..<count).map { Float(Double(bitPattern: element($0, as: UInt64.self))) }
        }
        return HostTensor(shape: TensorShape(header.shape), values: values)
    }
}
