import TensorOps

/// One result of running a case: a named output, and whether it must match exactly (indices) or within
/// tolerance (floats).
public struct ParityOutput: Sendable {
    public let name: String
    public let values: [Float]
    public let exact: Bool
}

extension ParityWorkload {
    /// Runs `direction` of this workload on `backend` with inputs drawn from `seed`, and returns every output
    /// the pass produces. The same seed gives the same inputs on every backend.
    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        func tensor(_ shape: TensorShape, scale: Float = 1) throws -> B.Tensor {
            try backend.upload(.randomNormal(shape, scale: scale, using: &random))
        }
        func output(_ name: String, _ tensor: B.Tensor) throws -> ParityOutput {
            ParityOutput(name: name, values: try backend.download(tensor).values, exact: false)
        }

        switch self {
        case .conv2d(let inputShape, let weightShape, let hasBias, let p):
            let g = try Conv2DGeometry(input: inputShape, weight: weightShape, parameters: p)
            let fanIn = Float(weightShape[1] * weightShape[2] * weightShape[3])
            switch direction {
            case .forward:
                let x = try tensor(inputShape), w = try tensor(weightShape, scale: 1 / fanIn.squareRoot())
                let b = hasBias ? try tensor([weightShape[0]]) : nil
                let y = try backend.makeTensor(g.output)
                try backend.conv2dForward(input: x, weight: w, bias: b, output: y, parameters: p)
                return [try output("output", y)]
            case .backwardInput:
                let dy = try tensor(g.output), w = try tensor(weightShape, scale: 1 / fanIn.squareRoot())
                let dx = try backend.makeTensor(inputShape)
                try backend.conv2dBackwardInput(gradOutput: dy, weight: w, gradInput: dx, parameters: p)
                return [try output("grad_input", dx)]
            default:
                let dy = try tensor(g.output), x = try tensor(inputShape)
                let dw = try backend.makeTensor(weightShape)
                let db = hasBias ? try backend.makeTensor([weightShape[0]]) : nil
                try backend.conv2dBackwardWeight(gradOutput: dy, input: x, gradWeight: dw, gradBias: db, parameters: p)
                return [try output("grad_weight", dw)] + (try db.map { [try output("grad_bias", $0)] } ?? [])
            }

        case .pool2d(let kind, let inputShape, let p):
            let g = try Pool2DGeometry(kind, input: inputShape, parameters: p)
            let x = try tensor(inputShape), y = try backend.makeTensor(g.output)
            if kind == .max {
                let argmax = try backend.makeIndexTensor(g.output)
                try backend.maxPool2dForward(input: x, output: y, argmax: argmax, parameters: p)
                if direction == .forward {
                    let indices = try backend.downloadIndices(argmax).map(Float.init)
                    return [try output("output", y), ParityOutput(name: "argmax", values: indices, exact: true)]
                }
                let dy = try tensor(g.output), dx = try backend.makeTensor(inputShape)
                try backend.maxPool2dBackward(gradOutput: dy, argmax: argmax, gradInput: dx, parameters: p)
                return [try output("grad_input", dx)]
            }
            if direction == .forward {
                try backend.avgPool2dForward(input: x, output: y, parameters: p)
                return [try output("output", y)]
            }
            let dy = try tensor(g.output), dx = try backend.makeTensor(inputShape)
            try backend.avgPool2dBackward(gradOutput: dy, gradInput: dx, parameters: p)
            return [try output("grad_input", dx)]

        case .globalAvgPool2d(let inputShape):
            let pooled: TensorShape = [inputShape[0], inputShape[1], 1, 1]
            if direction == .forward {
                let x = try tensor(inputShape), y = try backend.makeTensor(pooled)
                try backend.globalAvgPool2dForward(input: x, output: y)
                return [try output("output", y)]
            }
            let dy = try tensor(pooled), dx = try backend.makeTensor(inputShape)
            try backend.globalAvgPool2dBackward(gradOutput: dy, gradInput: dx)
            return [try output("grad_input", dx)]

        case .activation(let activation, let shape):
            // Scaled so clip(0, 6) sees values on both sides of both bounds.
            let x = try tensor(shape, scale: 4), result = try backend.makeTensor(shape)
            if direction == .forward {
                try backend.activationForward(activation, input: x, output: result)
                return [try output("output", result)]
            }
            let dy = try tensor(shape)
            try backend.activationBackward(activation, input: x, gradOutput: dy, gradInput: result)
            return [try output("grad_input", result)]

        case .linear(let inputShape, let outFeatures, let hasBias):
            let weightShape: TensorShape = [outFeatures, inputShape[1]]
            let g = try LinearGeometry(input: inputShape, weight: weightShape)
            let scale = 1 / Float(inputShape[1]).squareRoot()
            switch direction {
            case .forward:
                let x = try tensor(inputShape), w = try tensor(weightShape, scale: scale)
                let b = hasBias ? try tensor([outFeatures]) : nil
                let y = try backend.makeTensor(g.output)
                try backend.linearForward(input: x, weight: w, bias: b, output: y)
                return [try output("output", y)]
            case .backwardInput:
                let dy = try tensor(g.output), w = try tensor(weightShape, scale: scale)
                let dx = try backend.makeTensor(inputShape)
                try backend.linearBackwardInput(gradOutput: dy, weight: w, gradInput: dx)
                return [try output("grad_input", dx)]
            default:
                let dy = try tensor(g.output), x = try tensor(inputShape)
                let dw = try backend.makeTensor(weightShape)
                let db = hasBias ? try backend.makeTensor([outFeatures]) : nil
                try backend.linearBackwardWeight(gradOutput: dy, input: x, gradWeight: dw, gradBias: db)
                return [try output("grad_weight", dw)] + (try db.map { [try output("grad_bias", $0)] } ?? [])
            }

        case .binary(let op, let aShape, let bShape):
            let g = try BroadcastGeometry(a: aShape, b: bShape, op: op)
            let a = try tensor(aShape), b = try tensor(bShape)
            if direction == .forward {
                let y = try backend.makeTensor(g.output)
                try backend.binaryForward(op, a, b, output: y)
                return [try output("output", y)]
            }
            let dy = try tensor(g.output), da = try backend.makeTensor(aShape), db = try backend.makeTensor(bShape)
            try backend.binaryBackward(op, a: a, b: b, gradOutput: dy, gradA: da, gradB: db)
            return [try output("grad_a", da), try output("grad_b", db)]

        case .channelAffine(let shape):
            let scale = try tensor([shape[1]]), result = try backend.makeTensor(shape)
            if direction == .forward {
                let x = try tensor(shape), shift = try tensor([shape[1]])
                try backend.channelAffineForward(input: x, scale: scale, shift: shift, output: result)
                return [try output("output", result)]
            }
            let dy = try tensor(shape)
            try backend.channelAffineBackward(gradOutput: dy, scale: scale, gradInput: result)
            return [try output("grad_input", result)]

        case .softmax(let shape):
            let x = try tensor(shape, scale: 3), y = try backend.makeTensor(shape)
            try backend.softmaxForward(input: x, output: y)
            if direction == .forward { return [try output("output", y)] }
            let dy = try tensor(shape), dx = try backend.makeTensor(shape)
            try backend.softmaxBackward(output: y, gradOutput: dy, gradInput: dx)
            return [try output("grad_input", dx)]

        case .pad2d(let inputShape, let padding, let value):
            let g = try Pad2DGeometry(input: inputShape, padding: padding)
            if direction == .forward {
                let x = try tensor(inputShape), y = try backend.makeTensor(g.output)
                try backend.pad2dForward(input: x, output: y, padding: padding, value: value)
                return [try output("output", y)]
            }
            let dy = try tensor(g.output), dx = try backend.makeTensor(inputShape)
            try backend.pad2dBackward(gradOutput: dy, gradInput: dx, padding: padding)
            return [try output("grad_input", dx)]

        case .transpose2d(let inputShape):
            // The backward pass is the transpose of the gradient, so both directions run the same op.
            let x = try tensor(direction == .forward ? inputShape : [inputShape[1], inputShape[0]])
            let y = try backend.makeTensor([x.shape[1], x.shape[0]])
            try backend.transpose2d(input: x, output: y)
            return [try output(direction == .forward ? "output" : "grad_input", y)]

        case .concat(let inputShapes):
            let g = try ConcatGeometry(inputs: inputShapes)
            if direction == .forward {
                let inputs = try inputShapes.map { try tensor($0) }
                let y = try backend.makeTensor(g.output)
                try backend.concatForward(inputs, output: y)
                return [try output("output", y)]
            }
            let dy = try tensor(g.output)
            let grads = try inputShapes.map { try backend.makeTensor($0) }
            try backend.concatBackward(gradOutput: dy, gradInputs: grads)
            return try grads.enumerated().map { try output("grad_input\($0.offset)", $0.element) }

        case .irfft2(let imageShape):
            let g = try SpectrumGeometry(spectrum: SpectrumGeometry.spectrumShape(for: imageShape), image: imageShape)
            let scratch = try backend.makeTensor(g.scratch)
            if direction == .forward {
                let spectrum = try tensor(g.spectrum), image = try backend.makeTensor(imageShape)
                try backend.irfft2Forward(spectrum: spectrum, scratch: scratch, output: image)
                return [try output("output", image)]
            }
            let dx = try tensor(imageShape), ds = try backend.makeTensor(g.spectrum)
            try backend.irfft2Backward(gradOutput: dx, scratch: scratch, gradSpectrum: ds)
            return [try output("grad_spectrum", ds)]

        case .affineResample(let shape, let outputShape, let fill, let scales, let degrees):
            let affineMaps = (0..<outputShape[0]).map { _ in
                AffineMap(scale: scales.lowerBound + (scales.upperBound - scales.lowerBound) * Float(random.nextUniform()),
                          degrees: degrees * Float(2 * random.nextUniform() - 1),
                          dx: Float(6 * random.nextUniform() - 3), dy: Float(6 * random.nextUniform() - 3))
            }
            let maps = try backend.upload(HostTensor(shape: [outputShape[0], 6], values: affineMaps.flatMap(\.values)))
            if direction == .forward {
                let result = try backend.makeTensor(outputShape)
                try backend.affineResampleForward(input: try tensor(shape), maps: maps, output: result, fill: fill)
                return [try output("output", result)]
            }
            let result = try backend.makeTensor(shape)
            try backend.affineResampleBackward(
                gradOutput: try tensor(outputShape), maps: maps, gradInput: result, reach: affineMaps.map(\.reach).max() ?? 1)
            return [try output("grad_input", result)]

        case .imagePenalty(let shape, let l2, let tv):
            let image = try tensor(shape, scale: 0.3), gradient = try tensor(shape), result = try backend.makeTensor(shape)
            try backend.imagePenaltyBackward(image: image, gradient: gradient, output: result, l2: l2, tv: tv)
            return [try output("output", result)]

        case .polarSpectrum(let phaseShape):
            let table: TensorShape = [1, phaseShape[1], phaseShape[2], phaseShape[3]]
            let g = try PolarSpectrumGeometry(magnitude: table, phase: phaseShape,
                                              spectrum: [phaseShape[0], phaseShape[1], phaseShape[2], 2 * phaseShape[3]])
            let magnitude = try backend.upload(HostTensor(
                shape: table,
                values: (0..<(phaseShape.count / phaseShape[0])).map { _ in Float(abs(random.nextNormal())) }))
            // Phases over several turns, so the angle reduction is exercised.
            let phase = try tensor(phaseShape, scale: 4)
            if direction == .forward {
                let spectrum = try backend.makeTensor(g.spectrum)
                try backend.polarSpectrumForward(magnitude: magnitude, phase: phase, spectrum: spectrum)
                return [try output("spectrum", spectrum)]
            }
            let gradPhase = try backend.makeTensor(phaseShape)
            try backend.polarSpectrumBackward(magnitude: magnitude, phase: phase, gradSpectrum: try tensor(g.spectrum),
                                              gradPhase: gradPhase)
            return [try output("grad_phase", gradPhase)]

        case .standardize(let shape, let epsilon):
            // An offset and a spread far from 0 and 1, as an inverse DFT's output has.
            let x = try backend.upload(HostTensor(shape: shape, values: (0..<shape.count).map { _ in
                Float(3 + 0.2 * random.nextNormal())
            }))
            let result = try backend.makeTensor(shape)
            if direction == .forward {
                try backend.standardizeForward(input: x, output: result, epsilon: epsilon)
                return [try output("output", result)]
            }
            try backend.standardizeBackward(input: x, gradOutput: try tensor(shape), gradInput: result, epsilon: epsilon)
            return [try output("grad_input", result)]

        case .accumulateAbsolute(let shape):
            let accumulator = try tensor(shape)
            for _ in 0..<2 { try backend.accumulateAbsolute(try tensor(shape), into: accumulator) }
            return [try output("accumulator", accumulator)]

        case .adam(let count, let hyperparameters):
            let parameter = try tensor([count]), m = try backend.makeTensor([count]), v = try backend.makeTensor([count])
            for step in 1...3 {
                try backend.adamStep(parameter: parameter, gradient: try tensor([count]), firstMoment: m, secondMoment: v,
                                     step: step, hyperparameters)
            }
            return [try output("parameter", parameter), try output("first_moment", m), try output("second_moment", v)]

        case .sgd(let count, let learningRate):
            let parameter = try tensor([count])
            try backend.sgdStep(parameter: parameter, gradient: try tensor([count]), learningRate: learningRate)
            return [try output("parameter", parameter)]

        case .diversity(let shape, let weight):
            let g = try DiversityGeometry(activation: shape)
            let activation = try tensor(shape), gradient = try tensor(shape), result = try backend.makeTensor(shape)
            try backend.diversityBackward(activation: activation, gradient: gradient, output: result, weight: weight,
                                          scratch: try backend.makeTensor(g.scratchShape))
            return [try output("output", result)]

        case .reluGradient(let rule, let shape):
            let x = try tensor(shape), dy = try tensor(shape), result = try backend.makeTensor(shape)
            try backend.reluBackward(rule, input: x, gradOutput: dy, gradInput: result)
            return [try output("grad_input", result)]

        case .camChannelWeights(let rule, let shape):
            let g = try CAMGeometry(activation: shape)
            // Activations after a ReLU are non-negative; a few exact zeros in the gradient exercise Grad-CAM++'s mask.
            let activation = try backend.upload(HostTensor(shape: shape,
                values: (0..<shape.count).map { _ in Float(abs(random.nextNormal())) }))
            let gradient = try backend.upload(HostTensor(shape: shape,
                values: (0..<shape.count).map { index in index % 7 == 0 ? 0 : Float(random.nextNormal()) }))
            let weights = try backend.makeTensor(g.weightShape)
            try backend.camChannelWeights(rule, activation: activation, gradient: gradient, weights: weights)
            return [try output("weights", weights)]

        case .camWeightedSum(let shape):
            let g = try CAMGeometry(activation: shape)
            let map = try backend.makeTensor(g.mapShape)
            try backend.camWeightedSum(activation: try tensor(shape), weights: try tensor(g.weightShape), output: map)
            return [try output("map", map)]

        case .camPrincipalProjection(let shape):
            // Activations with one dominant component (a spatial pattern times channel loadings, 3× the noise), as
            // in real feature maps. On pure noise the top two eigenvalues can nearly tie, and float32 rounding of
            // the Gram matrix then turns the component itself (seen: rel L2 1.6e-5 on one 2×40×3×4 draw).
            let g = try CAMGeometry(activation: shape)
            var values = HostTensor.randomNormal(shape, using: &random).values
            for image in 0..<g.images {
                let pattern = (0..<g.positions).map { _ in Float(random.nextNormal()) }
                for channel in 0..<g.channels {
                    let loading = 3 * Float(random.nextNormal()), start = (image * g.channels + channel) * g.positions
                    for position in 0..<g.positions { values[start + position] += loading * pattern[position] }
                }
            }
            let map = try backend.makeTensor(g.mapShape)
            try backend.camPrincipalProjection(activation: try backend.upload(HostTensor(shape: shape, values: values)),
                                               output: map)
            return [try output("map", map)]

        case .camPixelwiseSum(let rule, let shape):
            let g = try CAMGeometry(activation: shape)
            let map = try backend.makeTensor(g.mapShape)
            try backend.camPixelwiseSum(rule, activation: try tensor(shape), gradient: try tensor(shape), output: map)
            return [try output("map", map)]

        case .minMaxNormalize(let shape, let epsilon):
            let result = try backend.makeTensor(shape)
            try backend.minMaxNormalize(input: try tensor(shape), output: result, epsilon: epsilon)
            return [try output("output", result)]

        case .resizeBilinear(let input, let outputShape, let align):
            let result = try backend.makeTensor(outputShape)
            try backend.resizeBilinear(input: try tensor(input), output: result, alignCorners: align)
            return [try output("output", result)]

        case .overlay(let mapShape, let alpha):
            let rgb: TensorShape = [mapShape[0], 3, mapShape[2], mapShape[3]]
            // Map values away from the 1/255 steps of the table, so both backends pick the same entry.
            let map = try backend.upload(HostTensor(shape: mapShape, values: (0..<mapShape.count).map { _ in
                (Float(Int(random.nextUniform() * 255)) + 0.5) / 255 }))
            let lut = try backend.upload(HostTensor(shape: [256, 3], values: (0..<768).map { _ in Float(random.nextUniform()) }))
            let image = try backend.upload(HostTensor(shape: rgb, values: (0..<rgb.count).map { _ in Float(random.nextUniform()) }))
            let result = try backend.makeTensor(rgb)
            try backend.overlay(map: map, lut: lut, image: image, alpha: alpha, output: result)
            return [try output("output", result)]

        case .linearImputation(let imageShape, let variants):
            let (height, width) = (imageShape[2], imageShape[3])
            let knownShape: TensorShape = [variants, 1, height, width]
            // Each variant keeps a different share of scattered pixels (about 70 %, 50 %, 30 %, …); odd variants
            // also lose a block from the plane's second row and column to two rows and columns before its far edges.
            let known = (0..<knownShape.count).map { index -> Float in
                let (variant, position) = index.quotientAndRemainder(dividingBy: height * width)
                let (row, column) = position.quotientAndRemainder(dividingBy: width)
                let inBlock = variant % 2 == 1 && (1..<height - 2).contains(row) && (1..<width - 2).contains(column)
                let keep = random.nextUniform() < 0.7 - 0.2 * Double(variant)
                return keep && !inBlock ? 1 : 0
            }
            let outputShape: TensorShape = [variants, imageShape[1], height, width]
            let result = try backend.makeTensor(outputShape), scratch = try backend.makeTensor(TensorShape([3] + outputShape.dimensions))
            try backend.linearImputation(image: try tensor(imageShape), known: try backend.upload(HostTensor(shape: knownShape, values: known)),
                                         output: result, scratch: scratch)
            return [try output("output", result)]
        }
    }
}
