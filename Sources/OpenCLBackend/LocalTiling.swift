import OpenCLRuntime

/// Which kernel computes a matrix product: matmul_tiled's register tiles (CPU-shaped: one work-item per tile, the
/// operands streamed through caches) or matmul_local's work-group tiles staged through local memory (GPU-shaped).
enum ProductEngine: String, Sendable, Codable {
    case registerTiled = "register_tiled"
    case local
}

/// The build defines of local_tile.h, the work-group tiled product under gemm_local.cl and conv_local.cl: a
/// work-group of `mdimc` × `ndimc` work-items computes an `mwg` × `nwg` block, `kwg` terms per local-memory step,
/// each work-item a register block of `mwg/mdimc` × `nwg/ndimc` values read from local memory in vectors of
/// `vwm` and `vwn`; `localPad` floats pad each local row. The names are CLBlast's (xgemm), whose tuner searches
/// the same space.
public struct LocalTiling: Hashable, Sendable, Codable, CustomStringConvertible {
    public let mwg: Int
    public let nwg: Int
    public let kwg: Int
    public let mdimc: Int
    public let ndimc: Int
    public let vwm: Int
    public let vwn: Int
    public let localPad: Int

    public init(mwg: Int, nwg: Int, kwg: Int, mdimc: Int, ndimc: Int, vwm: Int, vwn: Int, localPad: Int = 0) {
        (self.mwg, self.nwg, self.kwg, self.mdimc, self.ndimc) = (mwg, nwg, kwg, mdimc, ndimc)
        (self.vwm, self.vwn, self.localPad) = (vwm, vwn, localPad)
    }

    var defines: [(String, Int)] {
        [("MWG", mwg), ("NWG", nwg), ("KWG", kwg), ("MDIMC", mdimc), ("NDIMC", ndimc), ("VWM", vwm), ("VWN", vwn),
         ("LOCAL_PAD", localPad)]
    }

    /// The two local tiles, in bytes.
    var localMemoryBytes: Int { 4 * kwg * (mwg + nwg + 2 * localPad) }

    /// Sums each work-item keeps in registers.
    var registerBlock: Int { (mwg / mdimc) * (nwg / ndimc) }

    /// Whether the kernels can run this tiling on `device`: whole vectors in every work-item's block, a work-group
    /// and local tiles the device allows, and at most 64 sums per work-item (more spill on any GPU).
    func fits(_ device: OpenCLDevice) -> Bool {
        mwg % (mdimc * vwm) == 0 && nwg % (ndimc * vwn) == 0 && mdimc * ndimc <= device.maxWorkGroupSize
            && mdimc <= device.maxWorkItemSizes.first ?? 1 && ndimc <= device.maxWorkItemSizes.dropFirst().first ?? 1
            && localMemoryBytes <= device.localMemoryBytes && registerBlock <= 64
    }

    /// The global size of an m × n product over `layers` (groups, batch or splits), and its work-group.
    func launchShape(m: Int, n: Int, layers: Int) -> (global: [Int], local: [Int]) {
        ([(m + mwg - 1) / mwg * mdimc, (n + nwg - 1) / nwg * ndimc, layers], [mdimc, ndimc, 1])
    }

    public var description: String {
        "\(mwg)×\(nwg)×\(kwg) in \(mdimc)×\(ndimc), vectors \(vwm)/\(vwn)" + (localPad == 0 ? "" : ", pad \(localPad)")
    }

    /// The space `convlens tune` searches, CLBlast's xgemm ranges.
    static let searchSpace = (
        blocks: [16, 32, 64, 128], terms: [8, 16, 32], shapes: [8, 16, 32], vectors: [1, 2, 4, 8], pads: [0, 1]
    )

    /// A fixed first set that covers the space's corners (as CLBlast's tuner starts), then `samples` more drawn from
    /// the whole space by `random`, every one fitting `device`, without repeats; `first` leads.
    static func candidates(first: LocalTiling, device: OpenCLDevice, samples: Int,
                           using random: inout some RandomNumberGenerator) -> [LocalTiling] {
        var list = [first] + [
            LocalTiling(mwg: 64, nwg: 64, kwg: 16, mdimc: 16, ndimc: 16, vwm: 4, vwn: 4),
            LocalTiling(mwg: 64, nwg: 64, kwg: 32, mdimc: 8, ndimc: 8, vwm: 4, vwn: 4),
            LocalTiling(mwg: 128, nwg: 128, kwg: 16, mdimc: 16, ndimc: 16, vwm: 4, vwn: 4),
            LocalTiling(mwg: 128, nwg: 64, kwg: 16, mdimc: 16, ndimc: 16, vwm: 4, vwn: 2),
            LocalTiling(mwg: 32, nwg: 128, kwg: 16, mdimc: 8, ndimc: 32, vwm: 2, vwn: 4),
            LocalTiling(mwg: 32, nwg: 32, kwg: 16, mdimc: 8, ndimc: 8, vwm: 4, vwn: 4),
            LocalTiling(mwg: 32, nwg: 32, kwg: 32, mdimc: 16, ndimc: 16, vwm: 2, vwn: 2, localPad: 1),
            LocalTiling(mwg: 16, nwg: 64, kwg: 32, mdimc: 8, ndimc: 16, vwm: 2, vwn: 4),
        ]
        let space = searchSpace
        var attempts = 0
        var drawn = 0
        while drawn < samples && attempts < 100 * max(1, samples) {
            attempts += 1
            let tiling = LocalTiling(
                mwg: space.blocks.randomElement(using: &random)!, nwg: space.blocks.randomElement(using: &random)!,
                kwg: space.terms.randomElement(using: &random)!, mdimc: space.shapes.randomElement(using: &random)!,
                ndimc: space.shapes.randomElement(using: &random)!, vwm: space.vectors.randomElement(using: &random)!,
                vwn: space.vectors.randomElement(using: &random)!, localPad: space.pads.randomElement(using: &random)!)
            if tiling.fits(device) && !list.contains(tiling) {
                list.append(tiling)
                drawn += 1
            }
        }
        var seen: Set<LocalTiling> = []
        return list.filter { $0.fits(device) && seen.insert($0).inserted }
    }
}

/// The kernels that run on local tiles, each tuned on its own: the plain product and the three convolution passes.
public enum LocalProduct: String, Sendable, Codable, CaseIterable {
    case gemm
    case forward
    case backwardInput = "backward_input"
    case backwardWeight = "backward_weight"
}

/// A class of product shapes that share one tuned `LocalTiling`: the kernel and the order of magnitude of each
/// size. M (rows: output channels per group) below 32, to 128, or beyond: tiles of 16–128 rows fit each class
/// differently. N (columns: positions over the batch, or weight columns) to 1,024, 16,384 or beyond: a 7×7 map at
/// batch 8, a 56×56 one, a 224×224 one. K (terms of one work-group) to 576, 4,608 or beyond: 64 channels × 3×3,
/// 512 × 3×3, more.
public struct LocalShapeClass: Hashable, Sendable, Codable, CustomStringConvertible {
    public let product: LocalProduct
    public let rows: Int
    public let columns: Int
    public let terms: Int

    public init(_ product: LocalProduct, m: Int, n: Int, k: Int) {
        self.product = product
        rows = Self.bucket(m, [32, 128])
        columns = Self.bucket(n, [1024, 16_384])
        terms = Self.bucket(k, [576, 4608])
    }

    /// The first bound that `value` does not exceed, or beyond the last: 0, 1 or 2.
    private static func bucket(_ value: Int, _ bounds: [Int]) -> Int {
        bounds.firstIndex { value <= $0 } ?? bounds.count
    }

    public var description: String {
        let m = ["M ≤ 32", "M ≤ 128", "M > 128"][rows], n = ["N ≤ 1024", "N ≤ 16384", "N > 16384"][columns]
        let k = ["K ≤ 576", "K ≤ 4608", "K > 4608"][terms]
        return "\(product.rawValue), \(m), \(n), \(k)"
    }
}
