import ArgumentParser

/// `--channels`: `all`, or comma-separated indices and inclusive ranges (`0-15`, `3,5,8-11`).
struct ChannelSelection: ExpressibleByArgument {
    /// nil means every channel of the layer.
    let indices: [Int]?

    init?(argument: String) {
        if argument == "all" {
            indices = nil
            return
        }
        var result: [Int] = []
        for part in argument.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            switch bounds.count {
            case 1:
                guard let value = bounds[0], value >= 0 else { return nil }
                result.append(value)
            case 2:
                guard let low = bounds[0], let high = bounds[1], low >= 0, low <= high else { return nil }
                result += Array(low...high)
            default:
                return nil
            }
        }
        guard !result.isEmpty else { return nil }
        indices = result
    }

    /// The chosen channels of a layer with `count` of them.
    func resolve(count: Int) -> [Int] { indices ?? Array(0..<count) }
}
