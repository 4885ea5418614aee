/// A quadtree over a 2-D map, laid out for a stackless walk on the device (Barnes-Hut t-SNE): nodes in depth-first
/// order, each with its points' centre of mass, count and cell side, its first child (−1 for a leaf) and `next`,
/// the node after its subtree (the node count at the end). A walk summarizes a node (as one body at its centre of
/// mass) and jumps to `next`, or descends to `firstChild`. Built on the host each iteration, O(N log N).
public struct MapQuadTree: Sendable {
    /// Planar 4×M: centre-of-mass x, y; point count; cell side.
    public private(set) var nodes: [Float] = []
    /// Planar 2×M: first child, next.
    public private(set) var links: [Int32] = []
    public var count: Int { links.count / 2 }

    /// Cells are split until they hold one point, or down to this depth, where coincident points share a leaf.
    static let maximumDepth = 32

    /// The tree of the points (`xs[i]`, `ys[i]`); non-finite points are not expected (the descent refuses them).
    public init(xs: [Float], ys: [Float]) {
        precondition(xs.count == ys.count && !xs.isEmpty, "one y per x, at least one point")
        let (minX, maxX) = (xs.min()!, xs.max()!), (minY, maxY) = (ys.min()!, ys.max()!)
        let half = max(maxX - minX, maxY - minY) / 2 * (1 + 1e-5) + .leastNormalMagnitude
        var order = Array(0..<xs.count), scratch = order
        var centreX: [Float] = [], centreY: [Float] = [], counts: [Float] = [], sides: [Float] = []
        var firstChild: [Int32] = [], next: [Int32] = []

        // Points order[lo..<hi] lie in the square at (cx, cy) with half-side h.
        func build(_ lo: Int, _ hi: Int, _ cx: Float, _ cy: Float, _ h: Float, depth: Int) {
            let node = counts.count
            var (sumX, sumY) = (0.0, 0.0)
            for k in lo..<hi { (sumX, sumY) = (sumX + Double(xs[order[k]]), sumY + Double(ys[order[k]])) }
            let n = Double(hi - lo)
            centreX.append(Float(sumX / n))
            centreY.append(Float(sumY / n))
            counts.append(Float(n))
            sides.append(2 * h)
            firstChild.append(-1)
            next.append(0)
            if hi - lo > 1 && depth < Self.maximumDepth && h > 0 {
                // A stable four-way partition by quadrant (x ≥ cx, y ≥ cy), then each non-empty quadrant in turn.
                func quadrant(_ point: Int) -> Int { (xs[point] >= cx ? 1 : 0) + (ys[point] >= cy ? 2 : 0) }
                var starts = [0, 0, 0, 0, 0]
                for k in lo..<hi { starts[quadrant(order[k]) + 1] += 1 }
                for q in 1...4 { starts[q] += starts[q - 1] }
                var fill = starts
                for k in lo..<hi {
                    let q = quadrant(order[k])
                    scratch[lo + fill[q]] = order[k]
                    fill[q] += 1
                }
                for k in lo..<hi { order[k] = scratch[k] }
                firstChild[node] = Int32(counts.count)
                for q in 0..<4 where starts[q + 1] > starts[q] {
                    let quarter = h / 2
                    build(lo + starts[q], lo + starts[q + 1], cx + (q & 1 == 1 ? quarter : -quarter),
                          cy + (q & 2 == 2 ? quarter : -quarter), quarter, depth: depth + 1)
                }
            }
            next[node] = Int32(counts.count)  // what follows the subtree in depth-first order
        }
        build(0, xs.count, (minX + maxX) / 2, (minY + maxY) / 2, half, depth: 0)
        nodes = centreX + centreY + counts + sides
        links = firstChild + next
    }
}
