import TensorOps

extension ReferenceMath {
    /// `y[n,co,oh,ow] = b[co] + Σ x[n, g·Cg + ci, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw] · w[co,ci,kh,kw]`,
    /// taps outside the input reading zero.
    public static func conv2dForward(input x: [Double], weight w: [Double], bias b: [Double]?, _ g: Conv2DGeometry)
        -> [Double]
    {
        var y = [Double](repeating: 0, count: g.output.count)
        if let b {
            for index in y.indices { y[index] = b[(index / (g.outHeight * g.outWidth)) % g.outChannels] }
        }
        forEachTap(g) { xIndex, wIndex, yIndex in y[yIndex] += x[xIndex] * w[wIndex] }
        return y
    }

    /// `∂L/∂x`: every tap sends `dy · w` back to the input element it read.
    public static func conv2dBackwardInput(gradOutput dy: [Double], weight w: [Double], _ g: Conv2DGeometry)
        -> [Double]
    {
        var dx = [Double](repeating: 0, count: g.input.count)
        forEachTap(g) { xIndex, wIndex, yIndex in dx[xIndex] += dy[yIndex] * w[wIndex] }
        return dx
    }

    /// `∂L/∂w` (every tap adds `dy · x`) and `∂L/∂b = Σ_{n,oh,ow} dy`.
    public static func conv2dBackwardWeight(gradOutput dy: [Double], input x: [Double], _ g: Conv2DGeometry)
        -> (weight: [Double], bias: [Double])
    {
        var dw = [Double](repeating: 0, count: g.weight.count)
        forEachTap(g) { xIndex, wIndex, yIndex in dw[wIndex] += dy[yIndex] * x[xIndex] }
        var db = [Double](repeating: 0, count: g.outChannels)
        for (index, value) in dy.enumerated() { db[(index / (g.outHeight * g.outWidth)) % g.outChannels] += value }
        return (dw, db)
    }

    /// Calls `body(inputIndex, weightIndex, outputIndex)` for every multiply of the convolution whose input
    /// position lies inside the (unpadded) input: the one loop nest all three directions share.
    static func forEachTap(_ g: Conv2DGeometry, _ body: (Int, Int, Int) -> Void) {
        let p = g.parameters
        for n in 0..<g.batch {
            for co in 0..<g.outChannels {
                let group = co / g.outChannelsPerGroup
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        let yIndex = ((n * g.outChannels + co) * g.outHeight + oh) * g.outWidth + ow
                        for ci in 0..<g.inChannelsPerGroup {
                            let c = group * g.inChannelsPerGroup + ci
                            for kh in 0..<g.kernelHeight {
                                let ih = oh * p.stride.height - p.padding.top + kh * p.dilation.height
                                guard ih >= 0 && ih < g.inHeight else { continue }
                                for kw in 0..<g.kernelWidth {
                                    let iw = ow * p.stride.width - p.padding.left + kw * p.dilation.width
                                    guard iw >= 0 && iw < g.inWidth else { continue }
                                    let xIndex = ((n * g.inChannels + c) * g.inHeight + ih) * g.inWidth + iw
                                    let wIndex = ((co * g.inChannelsPerGroup + ci) * g.kernelHeight + kh)
                                        * g.kernelWidth + kw
                                    body(xIndex, wIndex, yIndex)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
