import Foundation
import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func uploadIndices(_ values: [Int32], shape: TensorShape) throws -> IndexTensor {
        try shape.requirePositive("index tensor", of: "uploadIndices")
        guard values.count == shape.count else {
            throw ShapeError(op: "uploadIndices", message: "\(values.count) values for shape \(shape)")
        }
        let buffer = try DeviceBuffer(context: context, byteCount: values.count * MemoryLayout<Int32>.stride)
        try context.write(values, to: buffer)
        return IndexTensor(shape: shape, buffer: buffer)
    }

    public func nearestNeighbors(_ checked: Checked<NeighborGeometry>, points: Tensor, distances: Tensor, indices: IndexTensor) throws {
        let g = checked.geometry
        try launch(
            try kernel("nearest_neighbors", in: "embedding.cl"), global: [g.points],
            arguments: [.buffer(points.buffer), .buffer(distances.buffer), .buffer(indices.buffer),
                        .int(g.points), .int(g.dimensions), .int(g.neighbors)],
            cost: OpCost(flops: 3 * g.points * g.points * g.dimensions,
                         bytes: OpCost.traffic(g.points * g.dimensions, 2 * g.points * g.neighbors)),
            detail: "\(g.points)×\(g.dimensions) k\(g.neighbors)")
    }

    public func perplexityAffinities(_ checked: Checked<TensorShape>, distances: Tensor, output: Tensor, perplexity: Float) throws {
        let shape = checked.geometry
        try launch(
            try kernel("perplexity_affinities", in: "embedding.cl"), global: [shape[0]],
            arguments: [.buffer(distances.buffer), .buffer(output.buffer), .int(shape[0]), .int(shape[1]),
                        .float(Float(log(Double(perplexity))))],
            // About 30 bisection steps of an exp and four operations per neighbour.
            cost: OpCost(flops: 30 * 6 * shape.count, bytes: OpCost.traffic(2 * shape.count)), detail: "\(shape)")
    }

    public func tsneForces(
        _ checked: Checked<TSNEGeometry>, map: Tensor, rowStarts: IndexTensor, columns: IndexTensor, affinities: Tensor,
        forces: Tensor, partials: Tensor, divergence: Bool, exactRepulsion: Bool
    ) throws {
        let g = checked.geometry
        try launch(
            try kernel("tsne_forces", in: "embedding.cl"), global: [g.points],
            arguments: [.buffer(map.buffer), .buffer(rowStarts.buffer), .buffer(columns.buffer), .buffer(affinities.buffer),
                        .buffer(forces.buffer), .buffer(partials.buffer), .int(g.points), .int(divergence ? 1 : 0),
                        .int(exactRepulsion ? 1 : 0)],
            // 12 operations per pair (the reciprocal counted once), 14 per affinity (a logarithm as 10 more).
            cost: OpCost(flops: (exactRepulsion ? 12 * g.points * g.points : 0) + (divergence ? 24 : 14) * g.entries,
                         bytes: OpCost.traffic(2 * g.points, 3 * g.entries, 6 * g.points)),
            detail: "\(g.points) points, \(g.entries) affinities")
    }

    public func tsneTreeRepulsion(
        _ checked: Checked<TSNETreeGeometry>, map: Tensor, nodes: Tensor, links: IndexTensor, forces: Tensor,
        partials: Tensor, theta: Float
    ) throws {
        let g = checked.geometry
        // A walk visits some multiple of log N nodes; 60 per point stands in for the count, at 12 operations each.
        let visits = 60 * g.points
        try launch(
            try kernel("tsne_tree_repulsion", in: "embedding.cl"), global: [g.points],
            arguments: [.buffer(map.buffer), .buffer(nodes.buffer), .buffer(links.buffer), .buffer(forces.buffer),
                        .buffer(partials.buffer), .int(g.points), .int(g.nodes), .float(theta * theta)],
            cost: OpCost(flops: 12 * visits, bytes: OpCost.traffic(6 * visits, 5 * g.points)),
            detail: "\(g.points) points, \(g.nodes) nodes, θ \(theta)")
    }

    public func tsneUpdate(
        _ checked: Checked<TensorShape>, map: Tensor, velocity: Tensor, gains: Tensor, forces: Tensor, sums: Tensor,
        _ step: TSNEStep
    ) throws {
        let count = checked.geometry.count
        try launch(
            try kernel("tsne_update", in: "embedding.cl"), global: [count],
            arguments: [.buffer(map.buffer), .buffer(velocity.buffer), .buffer(gains.buffer), .buffer(forces.buffer),
                        .buffer(sums.buffer), .int(count / 2), .float(step.exaggeration), .float(step.momentum),
                        .float(step.learningRate), .float(step.minimumGain)],
            cost: OpCost.elementwiseUpdate(count: count, operations: 12, tensors: 8), detail: "\(checked.geometry)")
    }
}
