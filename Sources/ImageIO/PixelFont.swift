/// A 3×5 pixel font for the labels under sheet tiles: digits and the few symbols labels use.
enum PixelFont {
    static let glyphWidth = 3
    static let glyphHeight = 5

    /// Rows of each glyph, top to bottom, three bits each (most significant bit on the left).
    private static let glyphs: [Character: [UInt8]] = [
        "0": [0b111, 0b101, 0b101, 0b101, 0b111], "1": [0b010, 0b110, 0b010, 0b010, 0b111],
        "2": [0b111, 0b001, 0b111, 0b100, 0b111], "3": [0b111, 0b001, 0b111, 0b001, 0b111],
        "4": [0b101, 0b101, 0b111, 0b001, 0b001], "5": [0b111, 0b100, 0b111, 0b001, 0b111],
        "6": [0b111, 0b100, 0b111, 0b101, 0b111], "7": [0b111, 0b001, 0b010, 0b010, 0b010],
        "8": [0b111, 0b101, 0b111, 0b101, 0b111], "9": [0b111, 0b101, 0b111, 0b001, 0b111],
        "-": [0b000, 0b000, 0b111, 0b000, 0b000], "/": [0b001, 0b001, 0b010, 0b100, 0b100],
        ":": [0b000, 0b010, 0b000, 0b010, 0b000], ".": [0b000, 0b000, 0b000, 0b000, 0b010],
    ]

    /// Whether pixel (x, y) of `character`'s glyph is ink; unknown characters are blank.
    static func isInk(_ character: Character, x: Int, y: Int) -> Bool {
        guard let rows = glyphs[character] else { return false }
        return rows[y] & (1 << (glyphWidth - 1 - x)) != 0
    }

    /// Width in pixels of `text` drawn at `scale`, one blank column between glyphs.
    static func width(of text: String, scale: Int) -> Int {
        text.isEmpty ? 0 : (text.count * (glyphWidth + 1) - 1) * scale
    }
}
