import TensorOps

extension ReferenceMath {
    /// ROAD's linear imputation (`Backend.linearImputation`) in Double: per variant, the removed pixels and their
    /// couplings as a sparse system, shared by the variant's channels, each solved by conjugate gradients to a
    /// relative residual of 1e−12 (the exact solution, as pytorch-grad-cam's sparse direct solve gives it).
    public static func linearImputation(image: [Double], known: [Double], _ g: ImputationGeometry) -> [Double] {
        let plane = g.height * g.width
        return (0..<g.variants).flatMap { variant -> [Double] in
            let start = (g.sharesImage ? 0 : variant) * g.channels * plane
            let pixels = Array(image[start..<start + g.channels * plane])
            let mask = known[variant * plane..<(variant + 1) * plane].map { $0 != 0 }
            return impute(pixels, known: mask, channels: g.channels, height: g.height, width: g.width)
        }
    }

    /// One image C×H×W with one mask: the unknown pixels of every channel solve x_i·Σ_valid w = Σ_neighbours w·x
    /// (known neighbours' values, unknown ones' solutions).
    static func impute(_ pixels: [Double], known: [Bool], channels: Int, height: Int, width: Int) -> [Double] {
        let unknown = known.indices.filter { !known[$0] }
        guard !unknown.isEmpty else { return pixels }
        var slot = [Int](repeating: -1, count: known.count)
        for (index, position) in unknown.enumerated() { slot[position] = index }
        // Per unknown pixel: its diagonal (Σ in-bounds weights) and its neighbours as (unknown slot or known
        // position, w).
        var diagonal = [Double](repeating: 0, count: unknown.count)
        var coupled = [[(Int, Double)]](repeating: [], count: unknown.count)
        var sources = [[(Int, Double)]](repeating: [], count: unknown.count)
        for (index, position) in unknown.enumerated() {
            let (row, column) = (position / width, position % width)
            for (dy, dx, weight) in ImputationGeometry.stencil {
                let (r, c) = (row + dy, column + dx)
                guard r >= 0, r < height, c >= 0, c < width else { continue }
                diagonal[index] += weight
                let neighbour = r * width + c
                if known[neighbour] { sources[index].append((neighbour, weight)) } else { coupled[index].append((slot[neighbour], weight)) }
            }
        }
        var result = pixels
        for channel in 0..<channels {
            let base = channel * height * width
            let rhs = sources.map { $0.reduce(0) { $0 + $1.1 * pixels[base + $1.0] } }
            let solution = conjugateGradient(rhs: rhs) { x in
                x.indices.map { i in diagonal[i] * x[i] - coupled[i].reduce(0) { $0 + $1.1 * x[$1.0] } }
            }
            for (index, position) in unknown.enumerated() { result[base + position] = solution[index] }
        }
        return result
    }

    /// Solves M·x = rhs for a symmetric positive semi-definite M given as a product (singular only on hole
    /// components with no kept neighbour, where the right-hand side is 0 too), to a relative residual of 1e−12.
    static func conjugateGradient(rhs: [Double], _ multiply: ([Double]) -> [Double]) -> [Double] {
        var x = [Double](repeating: 0, count: rhs.count)
        var residual = rhs, direction = rhs
        var squared = residual.reduce(0) { $0 + $1 * $1 }
        let target = squared * 1e-24
        var iterations = 0
        while squared > target && squared > 0 && iterations < 10 * rhs.count + 100 {
            iterations += 1
            let product = multiply(direction)
            let step = squared / zip(direction, product).reduce(0) { $0 + $1.0 * $1.1 }
            for i in x.indices {
                x[i] += step * direction[i]
                residual[i] -= step * product[i]
            }
            let next = residual.reduce(0) { $0 + $1 * $1 }
            for i in direction.indices { direction[i] = residual[i] + next / squared * direction[i] }
            squared = next
        }
        return x
    }
}
