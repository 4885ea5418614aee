/// Reads a variable-length string from one of OpenCL's `clGet*Info` calls: first asks for the size, then for the
/// bytes. `query(size, buffer, sizeOut)` wraps the specific call (device, platform, build log …).
func infoString(
    _ call: String, _ what: String,
    _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> Int32
) throws(OpenCLError) -> String {
    var size = 0
    try check(query(0, nil, &size), call, what)
    var bytes = [CChar](repeating: 0, count: size + 1)
    try check(bytes.withUnsafeMutableBytes { query(size, $0.baseAddress, nil) }, call, what)
    return trimmedString(bytes)
}

/// A C string buffer as Swift text, without the terminating NUL and the trailing spaces and newlines some drivers
/// add.
func trimmedString(_ bytes: [CChar]) -> String {
    let text = String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(text.drop { $0 == " " }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
}
