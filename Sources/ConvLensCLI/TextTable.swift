/// Prints aligned rows as they are produced, so long runs show progress line by line.
struct TextTable {
    struct Column {
        let title: String
        let alignRight: Bool
        init(_ title: String, alignRight: Bool = false) {
            self.title = title
            self.alignRight = alignRight
        }
    }

    let columns: [Column]
    /// Column widths; fixed up front so rows can be printed before all are known. The last column is unpadded.
    let widths: [Int]

    init(columns: [Column], widths: [Int] = [18, 16, 40, 12, 12, 6]) {
        self.columns = columns
        self.widths = widths
    }

    func printHeader() {
        printRow(columns.map(\.title))
        print(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)))
    }

    /// A table whose column widths fit `rows`, for output known in full before printing.
    init(columns: [Column], fitting rows: [[String]]) {
        let widths = columns.indices.map { index in
            ([columns[index].title] + rows.map { $0[index] }).map(\.count).max() ?? 0
        }
        self.init(columns: columns, widths: widths)
    }

    func printRow(_ cells: [String]) {
        let padded = cells.enumerated().map { index, cell -> String in
            guard index < columns.count - 1 else { return cell }
            let gap = String(repeating: " ", count: max(0, widths[index] - cell.count))
            return columns[index].alignRight ? gap + cell : cell + gap
        }
        print(padded.joined(separator: "  "))
    }
}
