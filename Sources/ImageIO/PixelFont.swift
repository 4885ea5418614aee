/// A 3×5 pixel font for the text drawn into images (sheet labels, plot titles and legends): every printable ASCII
/// character. Characters it lacks (non-ASCII) are drawn blank.
enum PixelFont {
    static let glyphWidth = 3
    static let glyphHeight = 5

    /// Rows of each glyph, top to bottom, three bits each (most significant bit on the left).
    ///
    /// Capitals and digits fill the cell. Lowercase letters are small forms in the lower three or four rows with
    /// ascenders reaching the top; as there is no row below the baseline, g, j, p, q and y sit one row higher with
    /// their descenders in the bottom row (after Robey Pointer's "Tom Thumb"). So no two glyphs share a shape, a
    /// word still reads as lowercase, and `i` (dotted), `l` (hooked foot), `1` (flag), `I` (serifs) and `|` differ.
    private static let glyphs: [Character: [UInt8]] = [
        "0": [0b111, 0b101, 0b101, 0b101, 0b111], "1": [0b010, 0b110, 0b010, 0b010, 0b111],
        "2": [0b111, 0b001, 0b111, 0b100, 0b111], "3": [0b111, 0b001, 0b111, 0b001, 0b111],
        "4": [0b101, 0b101, 0b111, 0b001, 0b001], "5": [0b111, 0b100, 0b111, 0b001, 0b111],
        "6": [0b111, 0b100, 0b111, 0b101, 0b111], "7": [0b111, 0b001, 0b010, 0b010, 0b010],
        "8": [0b111, 0b101, 0b111, 0b101, 0b111], "9": [0b111, 0b101, 0b111, 0b001, 0b111],
        "-": [0b000, 0b000, 0b111, 0b000, 0b000], "/": [0b001, 0b001, 0b010, 0b100, 0b100],
        ":": [0b000, 0b010, 0b000, 0b010, 0b000], ".": [0b000, 0b000, 0b000, 0b000, 0b010],

        "A": [0b010, 0b101, 0b111, 0b101, 0b101], "B": [0b110, 0b101, 0b110, 0b101, 0b110],
        "C": [0b011, 0b100, 0b100, 0b100, 0b011], "D": [0b110, 0b101, 0b101, 0b101, 0b110],
        "E": [0b111, 0b100, 0b111, 0b100, 0b111], "F": [0b111, 0b100, 0b111, 0b100, 0b100],
        "G": [0b011, 0b100, 0b111, 0b101, 0b011], "H": [0b101, 0b101, 0b111, 0b101, 0b101],
        "I": [0b111, 0b010, 0b010, 0b010, 0b111], "J": [0b001, 0b001, 0b001, 0b101, 0b010],
        "K": [0b101, 0b101, 0b110, 0b101, 0b101], "L": [0b100, 0b100, 0b100, 0b100, 0b111],
        "M": [0b101, 0b111, 0b111, 0b101, 0b101], "N": [0b101, 0b111, 0b111, 0b111, 0b101],
        "O": [0b010, 0b101, 0b101, 0b101, 0b010], "P": [0b110, 0b101, 0b110, 0b100, 0b100],
        "Q": [0b010, 0b101, 0b101, 0b111, 0b011], "R": [0b110, 0b101, 0b111, 0b110, 0b101],
        "S": [0b011, 0b100, 0b010, 0b001, 0b110], "T": [0b111, 0b010, 0b010, 0b010, 0b010],
        "U": [0b101, 0b101, 0b101, 0b101, 0b011], "V": [0b101, 0b101, 0b101, 0b010, 0b010],
        "W": [0b101, 0b101, 0b111, 0b111, 0b101], "X": [0b101, 0b101, 0b010, 0b101, 0b101],
        "Y": [0b101, 0b101, 0b010, 0b010, 0b010], "Z": [0b111, 0b001, 0b010, 0b100, 0b111],

        "a": [0b000, 0b110, 0b011, 0b101, 0b111], "b": [0b100, 0b100, 0b110, 0b101, 0b110],
        "c": [0b000, 0b000, 0b011, 0b100, 0b011], "d": [0b001, 0b001, 0b011, 0b101, 0b011],
        "e": [0b000, 0b011, 0b111, 0b100, 0b011], "f": [0b001, 0b010, 0b111, 0b010, 0b010],
        "g": [0b000, 0b011, 0b101, 0b011, 0b110], "h": [0b100, 0b100, 0b110, 0b101, 0b101],
        "i": [0b010, 0b000, 0b010, 0b010, 0b010], "j": [0b001, 0b000, 0b001, 0b001, 0b110],
        "k": [0b100, 0b100, 0b101, 0b110, 0b101], "l": [0b110, 0b010, 0b010, 0b010, 0b011],
        "m": [0b000, 0b000, 0b111, 0b111, 0b101], "n": [0b000, 0b000, 0b110, 0b101, 0b101],
        "o": [0b000, 0b000, 0b010, 0b101, 0b010], "p": [0b000, 0b110, 0b101, 0b110, 0b100],
        "q": [0b000, 0b011, 0b101, 0b011, 0b001], "r": [0b000, 0b000, 0b011, 0b100, 0b100],
        "s": [0b000, 0b011, 0b110, 0b011, 0b110], "t": [0b010, 0b111, 0b010, 0b010, 0b011],
        "u": [0b000, 0b000, 0b101, 0b101, 0b011], "v": [0b000, 0b000, 0b101, 0b101, 0b010],
        "w": [0b000, 0b000, 0b101, 0b111, 0b111], "x": [0b000, 0b000, 0b101, 0b010, 0b101],
        "y": [0b000, 0b101, 0b101, 0b011, 0b110], "z": [0b000, 0b111, 0b011, 0b110, 0b111],

        " ": [0b000, 0b000, 0b000, 0b000, 0b000], "_": [0b000, 0b000, 0b000, 0b000, 0b111],
        "(": [0b001, 0b010, 0b010, 0b010, 0b001], ")": [0b100, 0b010, 0b010, 0b010, 0b100],
        "[": [0b011, 0b010, 0b010, 0b010, 0b011], "]": [0b110, 0b010, 0b010, 0b010, 0b110],
        "{": [0b011, 0b010, 0b110, 0b010, 0b011], "}": [0b110, 0b010, 0b011, 0b010, 0b110],
        "<": [0b001, 0b010, 0b100, 0b010, 0b001], ">": [0b100, 0b010, 0b001, 0b010, 0b100],
        ",": [0b000, 0b000, 0b000, 0b010, 0b100], ";": [0b000, 0b010, 0b000, 0b010, 0b100],
        "'": [0b010, 0b010, 0b000, 0b000, 0b000], "\"": [0b101, 0b101, 0b000, 0b000, 0b000],
        "`": [0b100, 0b010, 0b000, 0b000, 0b000], "^": [0b010, 0b101, 0b000, 0b000, 0b000],
        "+": [0b000, 0b010, 0b111, 0b010, 0b000], "=": [0b000, 0b111, 0b000, 0b111, 0b000],
        "*": [0b000, 0b101, 0b010, 0b101, 0b000], "~": [0b000, 0b011, 0b110, 0b000, 0b000],
        "!": [0b010, 0b010, 0b010, 0b000, 0b010], "?": [0b111, 0b001, 0b010, 0b000, 0b010],
        "%": [0b101, 0b001, 0b010, 0b100, 0b101], "#": [0b101, 0b111, 0b101, 0b111, 0b101],
        "&": [0b010, 0b101, 0b010, 0b101, 0b011], "@": [0b010, 0b101, 0b111, 0b100, 0b011],
        "$": [0b011, 0b110, 0b010, 0b011, 0b110], "|": [0b010, 0b010, 0b010, 0b010, 0b010],
        "\\": [0b100, 0b100, 0b010, 0b001, 0b001],
    ]

    /// Whether pixel (x, y) of `character`'s glyph is ink; unknown characters are blank.
    static func isInk(_ character: Character, x: Int, y: Int) -> Bool {
        guard let rows = glyphs[character] else { return false }
        return isInk(rows, x: x, y: y)
    }

    private static func isInk(_ rows: [UInt8], x: Int, y: Int) -> Bool {
        rows[y] & (1 << (glyphWidth - 1 - x)) != 0
    }

    /// Width in pixels of `text` drawn at `scale`, one blank column between glyphs.
    static func width(of text: String, scale: Int) -> Int {
        text.isEmpty ? 0 : (text.count * (glyphWidth + 1) - 1) * scale
    }

    /// Draws `text` into `image` with its top-left corner at (`left`, `top`), each font pixel a `scale`×`scale`
    /// square whose every channel is set to `ink`; what falls outside the image is left out.
    static func draw(_ text: String, into image: inout RasterImage, left: Int, top: Int, scale: Int, ink: UInt8 = 0) {
        let (width, height, channels) = (image.width, image.height, image.channels)
        for (position, character) in text.enumerated() {
            guard let rows = glyphs[character] else { continue }
            let glyphLeft = left + position * (glyphWidth + 1) * scale
            for gy in 0..<(glyphHeight * scale) {
                let y = top + gy
                guard y >= 0 && y < height else { continue }
                for gx in 0..<(glyphWidth * scale) where isInk(rows, x: gx / scale, y: gy / scale) {
                    let x = glyphLeft + gx
                    guard x >= 0 && x < width else { continue }
                    for channel in 0..<channels { image.pixels[(y * width + x) * channels + channel] = ink }
                }
            }
        }
    }
}
