/// The subset of Python literal syntax that `.npy` headers use (`repr` of a dict of strings, booleans and
/// tuples of integers), parsed the way `ast.literal_eval` would: any spacing, trailing commas, either quote.
enum PythonLiteral {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case none
    /// A tuple or a list; `.npy` files never depend on the difference.
    case sequence([PythonLiteral])
    case dictionary([(key: PythonLiteral, value: PythonLiteral)])

    /// Parses `text`, which must hold exactly one literal (surrounding whitespace allowed).
    /// - Throws: `PythonLiteralError` with the character offset and what was expected there.
    init(parsing text: String) throws(PythonLiteralError) {
        var parser = Parser(characters: Array(text.unicodeScalars))
        self = try parser.value()
        parser.skipWhitespace()
        guard parser.position == parser.characters.count else { throw parser.error("expected the end of the header") }
    }
}

/// Where and why a header's literal could not be parsed.
struct PythonLiteralError: Error {
    /// Offset in characters from the start of the header text.
    let offset: Int
    let reason: String
}

private struct Parser {
    let characters: [Unicode.Scalar]
    var position = 0

    mutating func value() throws(PythonLiteralError) -> PythonLiteral {
        skipWhitespace()
        guard position < characters.count else { throw error("unexpected end of the header") }
        switch characters[position] {
        case "{":
            return .dictionary(
                try items(closing: "}") { (parser) throws(PythonLiteralError) in
                    let key = try parser.value()
                    try parser.expect(":")
                    return (key, try parser.value())
                })
        case "(", "[":
            let closing: Unicode.Scalar = characters[position] == "(" ? ")" : "]"
            return .sequence(try items(closing: closing) { (parser) throws(PythonLiteralError) in try parser.value() })
        case "'", "\"": return .string(try string())
        case "-", "0"..."9": return .integer(try integer())
        default:
            let word = String(String.UnicodeScalarView(characters[position...].prefix { $0.properties.isAlphabetic }))
            position += word.unicodeScalars.count
            switch word {
            case "True": return .boolean(true)
            case "False": return .boolean(false)
            case "None": return .none
            default: throw error("expected a value")
            }
        }
    }

    /// Comma-separated items up to `closing`, after the opening bracket at `position`; a trailing comma is fine.
    mutating func items<Item>(
        closing: Unicode.Scalar, _ item: (inout Parser) throws(PythonLiteralError) -> Item
    ) throws(PythonLiteralError) -> [Item] {
        position += 1
        var result: [Item] = []
        while true {
            skipWhitespace()
            if position < characters.count, characters[position] == closing {
                position += 1
                return result
            }
            result.append(try item(&self))
            skipWhitespace()
            if position < characters.count, characters[position] == "," {
                position += 1
            } else if position >= characters.count || characters[position] != closing {
                throw error("expected ',' or '\(closing)'")
            }
        }
    }

    /// A quoted string without escapes (NumPy's keys and dtype strings never need them).
    mutating func string() throws(PythonLiteralError) -> String {
        let quote = characters[position]
        let start = position + 1
        guard let end = characters[start...].firstIndex(of: quote) else { throw error("unterminated string") }
        guard !characters[start..<end].contains("\\") else { throw error("escapes in strings are not supported") }
        position = end + 1
        return String(String.UnicodeScalarView(characters[start..<end]))
    }

    /// A decimal integer; Python 2's `L` suffix (old NumPy shapes like `(3L,)`) is accepted.
    mutating func integer() throws(PythonLiteralError) -> Int {
        let start = position
        if characters[position] == "-" { position += 1 }
        let digits = characters[position...].prefix { ("0"..."9").contains($0) }
        position += digits.count
        guard let value = Int(String(String.UnicodeScalarView(characters[start..<position]))) else {
            throw PythonLiteralError(offset: start, reason: "expected an integer that fits in 64 bits")
        }
        if position < characters.count, characters[position] == "L" { position += 1 }
        return value
    }

    mutating func expect(_ character: Unicode.Scalar) throws(PythonLiteralError) {
        skipWhitespace()
        guard position < characters.count, characters[position] == character else {
            throw error("expected '\(character)'")
        }
        position += 1
    }

    mutating func skipWhitespace() {
        while position < characters.count, characters[position].properties.isWhitespace { position += 1 }
    }

    func error(_ reason: String) -> PythonLiteralError { PythonLiteralError(offset: position, reason: reason) }
}
