import TensorOps

extension ReferenceBackend {
    public func nearestNeighbors(_ checked: Checked<NeighborGeometry>, points: Tensor, distances: Tensor, indices: IndexTensor) throws {
        let found = ReferenceMath.nearestNeighbors(points: points.doubles, checked.geometry)
        distances.store(found.distances)
        indices.values = found.indices
    }

    public func perplexityAffinities(_ checked: Checked<TensorShape>, distances: Tensor, output: Tensor, perplexity: Float) throws {
        output.store(ReferenceMath.perplexityAffinities(distances: distances.doubles, rows: checked.geometry[0],
                                                        perplexity: Double(perplexity)))
    }

    public func tsneForces(
        _ checked: Checked<TSNEGeometry>, map: Tensor, rowStarts: IndexTensor, columns: IndexTensor, affinities: Tensor,
        forces: Tensor, partials: Tensor, divergence: Bool, exactRepulsion: Bool
    ) throws {
        let result = ReferenceMath.tsneForces(map: map.doubles, rowStarts: rowStarts.values, columns: columns.values,
                                              affinities: affinities.doubles, divergence: divergence,
                                              exactRepulsion: exactRepulsion, checked.geometry)
        forces.store(result.forces)
        partials.store(result.partials)
    }

    public func tsneTreeRepulsion(
        _ checked: Checked<TSNETreeGeometry>, map: Tensor, nodes: Tensor, links: IndexTensor, forces: Tensor,
        partials: Tensor, theta: Float
    ) throws {
        let n = checked.geometry.points
        let (repulsion, normalizers) = ReferenceMath.tsneTreeRepulsion(
            map: map.values.map { Float($0) }, nodes: nodes.values.map { Float($0) }, links: links.values, theta: theta)
        var (f, p) = (forces.doubles, partials.doubles)
        f.replaceSubrange((2 * n)..<(4 * n), with: repulsion)
        p.replaceSubrange(0..<n, with: normalizers)
        forces.store(f)
        partials.store(p)
    }

    public func tsneUpdate(
        _ checked: Checked<TensorShape>, map: Tensor, velocity: Tensor, gains: Tensor, forces: Tensor, sums: Tensor,
        _ step: TSNEStep
    ) throws {
        var (y, v, g) = (map.doubles, velocity.doubles, gains.doubles)
        ReferenceMath.tsneUpdate(map: &y, velocity: &v, gains: &g, forces: forces.doubles, normalizer: sums.doubles[0], step)
        map.store(y)
        velocity.store(v)
        gains.store(g)
    }
}
