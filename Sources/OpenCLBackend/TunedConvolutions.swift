import Foundation
import OpenCLRuntime
import TensorOps

/// What `convlens tune` measured on one device and driver: the fastest matrix-product tile and, per convolution
/// pass and geometry, the fastest algorithm with every candidate's median time. Kept as JSON beside the program
/// cache (`CacheFolder`), one file per device and driver version, and read by every `OpenCLBackend` on that
/// device (`CONVLENS_TUNING=off` ignores it).
public struct TunedConvolutions: Codable, Sendable {
    public struct Measurement: Codable, Sendable {
        public let pass: ConvPass
        /// `Conv2DGeometry.description`, the key the planner looks up.
        public let geometry: String
        public let winner: ConvAlgorithm
        /// Median milliseconds of each algorithm that supports the pass, by raw value.
        public let milliseconds: [String: Double]

        public init(pass: ConvPass, geometry: String, winner: ConvAlgorithm, milliseconds: [String: Double]) {
            self.pass = pass
            self.geometry = geometry
            self.winner = winner
            self.milliseconds = milliseconds
        }
    }

    public var device: String
    public var driver: String
    /// The device class whose defaults the tune started from (`CONVLENS_DEVICE_CLASS` can differ from the device's
    /// own); a backend configured for another class ignores the file. nil in files written before it was kept.
    public var deviceClass: String?
    /// ISO 8601.
    public var measured: String
    /// The matrix-product tile that measured fastest, with the default's and its own median milliseconds over the
    /// tune's products; nil keeps the device class's tiles.
    public var matmulTiling: TunedTiling?
    /// The local-tile defines per shape class (`convlens tune --local`); nil in files written before them.
    public var localTilings: [TunedLocalTiling]?
    public var convolutions: [Measurement]

    public init(device: OpenCLDevice, deviceClass: DeviceClass, measured: String, matmulTiling: TunedTiling?,
                localTilings: [TunedLocalTiling]?, convolutions: [Measurement]) {
        self.device = device.name
        self.driver = device.driverVersion
        self.deviceClass = deviceClass.rawValue
        self.measured = measured
        self.matmulTiling = matmulTiling
        self.localTilings = localTilings
        self.convolutions = convolutions
    }

    /// Setting this to `off` makes backends ignore the tuned file (the device class's defaults only).
    public static let variable = "CONVLENS_TUNING"

    static func key(_ pass: ConvPass, _ g: Conv2DGeometry) -> String { key(pass, geometry: g.description) }
    static func key(_ pass: ConvPass, geometry: String) -> String { "\(pass.rawValue) \(geometry)" }

    /// Winners by planner key.
    var winners: [String: ConvAlgorithm] {
        Dictionary(convolutions.map { (Self.key($0.pass, geometry: $0.geometry), $0.winner) }, uniquingKeysWith: { $1 })
    }

    /// ~/.cache/convlens/tuning/<device>-<driver>.json.
    public static func file(for device: OpenCLDevice) -> URL {
        let name = "\(device.name)-\(device.driverVersion)".map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "-" }
        return CacheFolder.url.appendingPathComponent("tuning").appendingPathComponent(String(name) + ".json")
    }

    /// The stored measurements for `device`, or nil when it was never tuned.
    /// - Throws: `TuningFileError` when the file exists but cannot be read or decoded.
    public static func load(for device: OpenCLDevice) throws(TuningFileError) -> TunedConvolutions? {
        let url = file(for: device)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(TunedConvolutions.self, from: Data(contentsOf: url))
        } catch {
            throw TuningFileError(path: url.path, reason: "\(error)")
        }
    }

    public func save(for device: OpenCLDevice) throws {
        let url = Self.file(for: device)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}

/// The tile `convlens tune` chose, or nil where the device class's tiles stayed, and what it measured against the
/// first default.
public struct TunedTiling: Codable, Sendable {
    let tiling: MatmulTiling?
    public let defaultMilliseconds: Double
    public let milliseconds: Double

    init(tiling: MatmulTiling?, defaultMilliseconds: Double, milliseconds: Double) {
        self.tiling = tiling
        self.defaultMilliseconds = defaultMilliseconds
        self.milliseconds = milliseconds
    }

    public var description: String {
        guard let tiling else { return "the device class's tiles (no candidate was 5 % faster)" }
        return "\(tiling.rows)×\(tiling.columns) (vectors of \(tiling.vectorWidth))"
            + (tiling.termsPerLaunch.map { ", \($0) terms per launch" } ?? "")
    }
}

/// The local tiling `convlens tune` chose for one shape class, with the default's and its own median milliseconds
/// over the tune's products of that class and how many candidates it timed.
public struct TunedLocalTiling: Codable, Sendable {
    public let shapeClass: LocalShapeClass
    public let tiling: LocalTiling
    public let defaultMilliseconds: Double
    public let milliseconds: Double
    public let candidates: Int

    public var description: String {
        String(format: "%@: %@, %.3f ms against the default's %.3f (%d candidates)", shapeClass.description,
               tiling.description, milliseconds, defaultMilliseconds, candidates)
    }
}

/// A tuned file that exists but is unusable: named, with the reason, so the user can delete or re-tune it.
public struct TuningFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String {
        "tuning file \(path) is unreadable (\(reason)); run `convlens tune` again or delete it"
    }
}
