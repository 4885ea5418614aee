import ArgumentParser

/// `--channels`: `all`, or comma-separated indices and inclusive ranges (`0-15`, `3,5,8-11`).
struct ChannelSelection: ExpressibleByArgument {
    /// The ranges as given; nil means every channel of the layer. Kept as ranges so that a huge one
    /// (`0-9223372036854775807`) is refused by its size, never spelled out.
    let ranges: [ClosedRange<Int>]?

    init?(argument: String) {
        if argument == "all" {
            ranges = nil
            return
        }
        var result: [ClosedRange<Int>] = []
        for part in argument.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            switch bounds.count {
            case 1:
                guard let value = bounds[0], value >= 0 else { return nil }
                result.append(value...value)
            case 2:
                guard let low = bounds[0], let high = bounds[1], low >= 0, low <= high else { return nil }
                result.append(low...high)
            default:
                return nil
            }
        }
        guard !result.isEmpty else { return nil }
        ranges = result
    }

    /// The chosen channels of a layer with `count` of them (0 when its channel count is not known here; the
    /// visualizer checks the indices against the layer then).
    /// - Throws: `CommandError` for a channel outside the layer, or more than `limit` channels in all.
    func resolve(count: Int, limit: Int) throws -> [Int] {
        let chosen = ranges ?? (count > 0 ? [0...(count - 1)] : [])
        var total = 0
        for range in chosen {
            if count > 0, range.upperBound >= count {
                throw CommandError("--channels: channel \(range.upperBound) is outside the layer's \(count) channels (0–\(count - 1))")
            }
            // Not `range.count`: it traps for 0...Int.max. Both bounds are non-negative, so the difference cannot.
            let width = range.upperBound - range.lowerBound
            guard width < limit, total + width < limit else {
                throw CommandError("--channels selects more than \(limit) channels; at most \(limit) run as one batch")
            }
            total += width + 1
        }
        return chosen.flatMap { Array($0) }
    }
}
