/// Each embedded image's label, and the legend's classes: from a labels file, class subfolders, or the model's
/// predictions, in that order of preference.
struct Labelling {
    /// Per embedded (readable) image.
    let labels: [String]
    /// The distinct labels, in numeric order when all are integers, else in name order.
    let names: [String]
    /// Per image, its label's index in `names`.
    let classes: [Int]
    /// Where the labels came from, for the report.
    let source: String

    /// - Parameters:
    ///   - given: a labels file's lines: one per folder file (unreadable ones' labels are dropped) or per image.
    ///   - readable: whether a folder file was read (its features are among the `count`).
    init(given: [String]?, folderClasses: [String]?, files: [String], readable: (String) -> Bool, predictions: [Int],
         count: Int) throws {
        if let given {
            if given.count == count {
                labels = given
            } else if given.count == files.count {
                labels = zip(files, given).filter { readable($0.0) }.map(\.1)
            } else {
                throw CommandError("--labels has \(given.count) labels for \(count) images (\(files.count) files); give one per line, in image order")
            }
            source = "labels file"
        } else if let folderClasses {
            labels = zip(files, folderClasses).filter { readable($0.0) }.map(\.1)
            source = "class folders"
        } else {
            labels = predictions.map(String.init)
            source = "the model's predictions"
        }
        let distinct = Set(labels)
        let numbers = distinct.compactMap { Int($0) }
        names = numbers.count == distinct.count ? numbers.sorted().map(String.init) : distinct.sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        classes = labels.map { index[$0]! }
    }
}
