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
    /// position lies inside the (unpadded) input: the one loop nest all three directions share. The sizes are read
    /// into locals once, which makes the unoptimized build of `swift test` several times faster.
    static func forEachTap(_ g: Conv2DGeometry, _ body: (Int, Int, Int) -> Void) {
        let p = g.parameters
        let (batch, inChannels, inHeight, inWidth) = (g.batch, g.inChannels, g.inHeight, g.inWidth)
        let (outChannels, outHeight, outWidth) = (g.outChannels, g.outHeight, g.outWidth)
        let (outPerGroup, inPerGroup, kernelHeight, kernelWidth) =
            (g.outChannelsPerGroup, g.inChannelsPerGroup, g.kernelHeight, g.kernelWidth)
        let (strideH, strideW, padTop, padLeft) = (p.stride.height, p.stride.width, p.padding.top, p.padding.left)
        let (dilationH, dilationW) = (p.dilation.height, p.dilation.width)
        for n in 0..<batch {
            for co in 0..<outChannels {
                let group = co / outPerGroup
                for oh in 0..<outHeight {
                    for ow in 0..<outWidth {
                        let yIndex = ((n * outChannels + co) * outHeight + oh) * outWidth + ow
                        for ci in 0..<inPerGroup {
                            let c = group * inPerGroup + ci
                            for kh in 0..<kernelHeight {
                                let ih = oh * strideH - padTop + kh * dilationH
                                guard ih >= 0 && ih < inHeight else { continue }
                                let rowIndex = ((n * inChannels + c) * inHeight + ih) * inWidth
                                let weightRow = ((co * inPerGroup + ci) * kernelHeight + kh) * kernelWidth
                                for kw in 0..<kernelWidth {
                                    let iw = ow * strideW - padLeft + kw * dilationW
                                    guard iw >= 0 && iw < inWidth else { continue }
                                    body(rowIndex + iw, weightRow + kw, yIndex)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
