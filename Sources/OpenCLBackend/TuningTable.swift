import Foundation
import OpenCLRuntime

/// The kinds of device whose tuned defaults differ. Tuned values belong to a device, not to the code: the CPU
/// under PoCL changes between machines (an AVX-512 Zen 4 one day, an AVX2 EPYC the next), so defaults are kept per
/// class here and `convlens tune` measures the device in use (`TunedConvolutions`).
public enum DeviceClass: String, Sendable, CaseIterable {
    /// A CPU whose preferred float vector holds 16 lanes (AVX-512).
    case cpuAVX512 = "cpu-avx512"
    /// 8 lanes (AVX, AVX2).
    case cpuAVX2 = "cpu-avx2"
    /// 4 lanes or fewer (SSE, NEON).
    case cpuNarrow = "cpu-narrow"
    case gpu

    public init(_ device: OpenCLDevice) {
        guard device.isCPU else { self = .gpu; return }
        self = switch device.preferredFloatVectorWidth {
        case 16...: .cpuAVX512
        case 8...: .cpuAVX2
        default: .cpuNarrow
        }
    }

    public var isCPU: Bool { self != .gpu }

    /// Setting this variable to a class's name (`gpu`, `cpu-avx2`, …) makes backends run with that class's
    /// defaults on whatever device: `CONVLENS_DEVICE_CLASS=gpu convlens verify` checks a GPU's whole configuration
    /// (its products, tiles and planner choices) on PoCL's CPU.
    public static let variable = "CONVLENS_DEVICE_CLASS"

    /// The class whose defaults `device` runs with: `CONVLENS_DEVICE_CLASS` where set, else the device's own.
    public static func configured(for device: OpenCLDevice) throws(DeviceClassChoiceError) -> DeviceClass {
        guard let name = ProcessInfo.processInfo.environment[variable], !name.isEmpty else { return DeviceClass(device) }
        guard let chosen = DeviceClass(rawValue: name) else { throw DeviceClassChoiceError(value: name) }
        return chosen
    }
}

/// `CONVLENS_DEVICE_CLASS` set to something that is not a device class.
public struct DeviceClassChoiceError: Error, CustomStringConvertible {
    public let value: String
    public var description: String {
        "\(DeviceClass.variable)=\(value) is not a device class; use one of "
            + DeviceClass.allCases.map(\.rawValue).joined(separator: ", ")
    }
}

/// Every tunable parameter of the convolution and product kernels for one device class, each with the measurement
/// that set it. The planner (`ConvPlanner`) and the launchers read them from here only.
/// Where depthwise layers take the row-buffer kernels (`ConvAlgorithm.depthwiseRows`).
enum DepthwiseRowsRule: Sendable {
    case always
    /// Only at strides other than 1, or where the general kernels' runs of 8 vector columns cover less than half
    /// of an output row (`ConvPlanner.generalDepthwiseRunsAreShort`): there they test bounds tap by tap.
    case whereGeneralRunsAreShort
}

public struct DeviceTuning: Sendable {
    /// matmul_tiled's register tiles; the first also sets the column rounding of scratch matrices, and a product
    /// takes another only where that one pads it clearly less (`MatmulTiling.leastPadded`).
    var matmulTilings: [MatmulTiling]
    /// Convolutions with fewer output channels per group run the direct kernels: a product would be mostly tile
    /// padding.
    var matmulMinimumChannels = 4
    /// Winograd F(2×2, 3×3) pays where both sides have this many channels and the batch this many 2×2 tiles
    /// (`ConvPlanner.winogradPays`).
    var winogradMinimumChannels = 128
    var winogradMinimumTiles = 256
    /// V and M of one Winograd chunk together, in floats.
    var winogradChunkFloats = 4 << 20
    /// Whether conv2d_implicit_gemm is the default where its tiles fit the rows; nil on devices where it never is.
    var implicitGemmMaximumColumnPadding: Double?
    /// Which depthwise layers run the row-buffer kernels (where their rows fit, `depthwiseRowsFit`) rather than the
    /// general ones.
    var depthwiseRows = DepthwiseRowsRule.always
    /// Standardized rows (LayerNorm and the other normalizations) up to this many elements take one work-item
    /// each rather than a work-group (0: always a work-group).
    var standardizeRowMaximum = 0
    /// Linear layers with at least this many rows run as matrix products against their transposed weights
    /// (matmul_tiled) rather than one dot product per output (linear.cl).
    var linearProductMinimumRows = 32
    /// Products of at least this many terms read a model's constant weight packed in panels of the tile's columns
    /// (`OpenCLBackend.packedPanels`); nil: never packed.
    var packedProductMinimumTerms: Int? = nil
    /// Output floats per conv2d_im2col work-item.
    var im2colRunFloats = 256
    /// Padded-input floats per conv2d_pad_input work-item (implicit GEMM's copy).
    var padRunFloats = 4096
    /// The kernel behind `matmul` where a caller does not name one (linear layers, Winograd's products, the
    /// inverse DFT); `ConvAlgorithm.gemmLocal` and `im2colGemm` name theirs.
    var productEngine = ProductEngine.registerTiled
    /// Whether convolutions take the local-tile kernels by default: implicit_gemm_local forward and backward-input,
    /// split_k for the weight gradient (Winograd, gemm_local and the others where `convlens tune` measured them
    /// faster).
    var convolutionsOnLocalTiles = false
    /// local_tile.h's defines where `convlens tune` measured nothing for the shape class.
    var localTiling = LocalTiling(mwg: 64, nwg: 64, kwg: 32, mdimc: 8, ndimc: 8, vwm: 4, vwn: 4)
    /// What `convlens tune` measured fastest per shape class.
    var tunedLocalTilings: [LocalShapeClass: LocalTiling] = [:]
    /// The split-K weight gradient splits its sum until the work-groups number this many per compute unit...
    var splitKGroupsPerComputeUnit = 4
    /// ...while every split keeps at least this many local-memory steps of KWG terms.
    var splitKMinimumSteps = 1

    /// The local tiling for a product of `shapeClass`.
    func localTiling(for shapeClass: LocalShapeClass) -> LocalTiling {
        tunedLocalTilings[shapeClass] ?? localTiling
    }

    /// These parameters with the tile `convlens tune` chose as the only matrix-product tile (unchanged where it kept
    /// the defaults).
    public func with(_ tile: TunedTiling) -> DeviceTuning {
        guard let tiling = tile.tiling else { return self }
        var tuning = self
        tuning.matmulTilings = [tiling]
        return tuning
    }

    /// These parameters with the local tilings `convlens tune` measured per shape class.
    public func with(_ local: [TunedLocalTiling]) -> DeviceTuning {
        var tuning = self
        for entry in local { tuning.tunedLocalTilings[entry.shapeClass] = entry.tiling }
        return tuning
    }

    /// The defaults for `deviceClass`.
    ///
    /// Constant weights packed in panels for products of 1024 terms or more (`packedProductMinimumTerms`): on the
    /// 2-core EPYC (AVX2, best of 20 calls each) ViT's 197 × 768 × 3072 product went from 99 to 132 GFLOP/s and
    /// 1576 × 768 × 3072 from 72 to 129, while products of 96–768 terms lost 5–20 % (their unpacked B stays in
    /// cache), so shorter ones stay unpacked. On the 2-core Xeon (AVX-512, `bench --profile`, batch 1, two
    /// alternating rounds) ViT-B/16's matmul_tiled went from 3276–3434 to 2741–2795 ms, its forward from 393–395 to
    /// 338–340 ms and forward + backward from 935–948 to 771–810; ConvNeXt-Tiny's products from 1053–1117 to 984–1054.
    ///
    /// Matrix-product tiles, CPU: micro-kernels holding rows × columns floats of sums in vector registers (one level
    /// since 2026-12-07: with a second level, 12 × 32 needed 48 of AVX-512's 32 registers and spilled; ResNet-50's
    /// products in `bench --profile` went from 870–1029 ms to 731–873 over eight alternating runs on the 2-core
    /// Xeon). With 16-wide vectors, 12 × 32 and 8 × 48 both fill AVX-512's 32 registers: 8 × 48 loads
    /// fewer values per multiply-add and fits the 64-row products of VGG-16's first layers (conv1_2 forward measured
    /// 34–41 ms against 42–45 ms through PoCL on the 2-core Zen 4), 12 × 32 the 64-column ones (conv1_2's weight
    /// gradient: 55–67 ms against 121–165). Batch work-groups of 4 on a CPU, since PoCL runs each work-group as one
    /// task and Winograd's short products (K = channels) spent more on scheduling one tile per task than on
    /// arithmetic (1.4× slower on VGG-16 conv1_2). At most 4096 terms per launch on AVX-512, so that one tile's
    /// panel of B (4096 × 32 floats, 512 KB) stays in a core's L2 while the next row tiles reuse it: VGG-16
    /// conv1_2's weight gradient (K = 50176) went from 38–47 ms to 31–38 (medians of 12, three alternating runs).
    /// GPU: 4 × 4 per work-item in 16 × 8 work-groups.
    ///
    /// Winograd thresholds, through PoCL on the 2-core EPYC: 128 channels on both sides keep the 16 products'
    /// register tiles busy (VGG-16 conv1_2, 64 → 64, took 35–42 ms against 34–36 for im2col and one product;
    /// conv3_1, 128 → 256, 9–10 against 12 at batch 1 and 70–79 against 91–93 at 8); 256 tiles pay for
    /// transforming the weights on every call (conv5_1 at batch 1, 49 tiles, took 7.5–14 ms against 6.7–9; at
    /// batch 8, 392 tiles, 34–36 against 49–51). A chunk of 16 MB is half the last-level cache of that EPYC.
    ///
    /// Implicit GEMM only on a CPU, where the kernel's vector reads of input rows are what PoCL turns into AVX loads
    /// (a GPU keeps im2col and the product, whose loads coalesce), and where whole column tiles cover the output
    /// rows with at most 1/7 left over: VGG-16 conv1_2 (224 wide) took 29 + 0.9 ms against 29 + 6.6; ResNet's 7×7
    /// stem (112 wide) 4.0 against 4.7, its 56-wide 3×3 layers 2.1 against 2.3 and 28-wide ones 1.9 against 2.0 at
    /// stride 1, and 1.9 against 1.9–2.1 at stride 2.
    ///
    /// Depthwise row-buffer kernels on AVX-512 (they were written on the Zen 4 and measured faster there); the general
    /// kernels on AVX2, where `convlens tune` on the 2-core Haswell EPYC measured MobileNetV2's 3×3 layer (144
    /// channels, 56 px) at 0.38 ms forward against 1.62 with rows at batch 1, and 2.9 against 14.2 at batch 8
    /// (backward-input 0.46 against 1.38, 3.0 against 7.7). There the rows still win where the general kernels'
    /// vector runs do not reach (`whereGeneralRunsAreShort`), measured over EfficientNet-B0's depthwise layers (medians
    /// of 5 forward + backward passes, `bench --profile`): stride 2 from 1.2× (672 channels, 14 px, 5×5) to 4.9×
    /// (96 channels, 112 px, 3×3: 3.4 ms against 0.70 forward, 4.4 against 0.96 backward-input), 7-px planes
    /// 1.1–1.4×, while at stride 1 from 14 px up the general kernels keep 1.1–5×.
    ///
    /// Normalization rows up to 4096 elements, one work-item each, on a CPU: LayerNorm over ConvNeXt's 96 channels
    /// (3136 rows) went from 8.1 ms forward and 14.5 ms backward as work-groups to 0.29 and 0.47, ViT's 197 rows of
    /// 768 from 0.62 and 1.26 to 0.12 and 0.23 (PoCL, 2-core EPYC). Linear layers of 32 rows or more as products
    /// against their transposed weights: ConvNeXt's and ViT's MLPs ran at 46 GFLOP/s as dot products, 98–102 as
    /// products, the transposes included (with elementwise.cl's broadcast rows, ConvNeXt-Tiny's forward went from
    /// 669 to 288 ms).
    ///
    /// One product tile on AVX2: a second one of 12 × 8 for narrow products, which pads ResNet-50's 49-column
    /// 7 × 7 layers to 56 columns instead of 64, measured slower there (`bench --profile`, batch 1): the 1×1
    /// 2048 → 512 layer took 2.24 ms against 1.23, the 512 → 2048 one 1.33 against 1.13, the 3×3 512 → 512 one
    /// 2.53 either way; one vector of columns per row leaves too few sums per loaded value.
    ///
    /// Local tiles (conv_local.cl, gemm_local.cl): on a GPU 64 × 64 blocks of 16 × 16 work-items, 4 × 4 sums each,
    /// 16 terms per step, the shape CLBlast's xgemm starts its tuning from; not yet measured on a GPU (issue 22's
    /// sitting will). The GPU's products and convolutions take them by default: the register tiles were measured at
    /// 0.01–0.19× cuDNN on an H100's weight gradients. On a CPU they run only where forced or tuned (PoCL runs a
    /// work-group's items in loops between barriers): 64 × 64 blocks of 8 × 8 work-items, 8 × 8 sums each, 32 terms
    /// per step, the fastest of the fixed set on every shape class of the bench's layers: on VGG-16 conv1_2 at batch
    /// 1 (`convlens tune --local --layer conv1_2 --batches 1 --runs 3`, 2-core Xeon, AVX-512, quiet) its im2col
    /// product, forward, backward-input and split-K weight gradient took 142, 252, 274 and 228 ms against 1060,
    /// 1230, 1300 and 604 with 32 × 32 blocks of 4 × 4 sums; and split-K down to one step per split, so that
    /// `convlens verify`'s small weight gradients take several splits.
    ///
    /// im2col runs of at least 256 floats per work-item (2 rows of a 224-wide map, 10 of a 28-wide one): on
    /// ResNet's 3×3 stride-2 layer (28 × 28 outputs) the lowering went from 0.42–0.55 ms with one row per work-item
    /// to 0.35–0.43 ms.
    public static func defaults(for deviceClass: DeviceClass) -> DeviceTuning {
        switch deviceClass {
        case .cpuAVX512:
            DeviceTuning(
                matmulTilings: [
                    MatmulTiling(rows: 12, vectorWidth: 16, vectors: 2, rowMajorOrder: true, local: [1, 1],
                                 batchLocal: 4, termsPerLaunch: 4096),
                    MatmulTiling(rows: 8, vectorWidth: 16, vectors: 3, rowMajorOrder: true, local: [1, 1],
                                 batchLocal: 4, termsPerLaunch: 4096),
                ],
                implicitGemmMaximumColumnPadding: 8.0 / 7.0, standardizeRowMaximum: 4096,
                packedProductMinimumTerms: 1024)
        case .cpuAVX2:
            DeviceTuning(
                matmulTilings: [MatmulTiling(rows: 6, vectorWidth: 8, vectors: 2, rowMajorOrder: true, local: [1, 1],
                                             batchLocal: 4)],
                implicitGemmMaximumColumnPadding: 8.0 / 7.0, depthwiseRows: .whereGeneralRunsAreShort,
                standardizeRowMaximum: 4096,
                packedProductMinimumTerms: 1024)
        case .cpuNarrow:
            DeviceTuning(
                matmulTilings: [MatmulTiling(rows: 4, vectorWidth: 4, vectors: 2, rowMajorOrder: true, local: [1, 1],
                                             batchLocal: 4)],
                implicitGemmMaximumColumnPadding: 8.0 / 7.0, standardizeRowMaximum: 4096)
        case .gpu:
            DeviceTuning(
                matmulTilings: [MatmulTiling(rows: 4, vectorWidth: 4, vectors: 1, rowMajorOrder: false,
                                             local: [16, 8], batchLocal: 1)],
                implicitGemmMaximumColumnPadding: nil, productEngine: .local, convolutionsOnLocalTiles: true,
                localTiling: LocalTiling(mwg: 64, nwg: 64, kwg: 16, mdimc: 16, ndimc: 16, vwm: 4, vwn: 4),
                splitKMinimumSteps: 16)
        }
    }
}
