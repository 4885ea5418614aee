import Foundation
import TensorOps

/// A constant from an ONNX file: float data (weights) or integers (shapes, pads, axes).
enum ONNXConstant {
    case float(HostTensor)
    case integers(shape: [Int], values: [Int])
}

/// The largest tensor ConvLens accepts from a file (2³¹ elements): larger sizes come only from corrupted dims.
private let maximumElements = 1 << 31

extension Onnx_TensorProto {
    /// The tensor's values, from `raw_data` (little-endian), the typed fields, or a file in the model's folder
    /// (`external`).
    /// - Throws: `ModelError.badTensor` for unreadable external data (see `ExternalDataFolder`), negative or
    ///   overflowing dimensions, a data size that does not match the dimensions, or a data type ConvLens does not read.
    func decoded(external: ExternalDataFolder) throws(ModelError) -> ONNXConstant {
        let tensorName = name.isEmpty ? "(unnamed)" : name
        let isExternal = dataLocation == .external || !externalData.isEmpty
        let rawData = isExternal ? try external.bytes(of: self, name: tensorName) : self.rawData
        let hasRawData = isExternal || self.hasRawData
        var count = 1
        for dimension in dims {
            guard dimension >= 0 else { throw .badTensor(name: tensorName, reason: "negative dimension \(dimension)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dimension))
            guard !overflow, product <= maximumElements else {
                throw .badTensor(name: tensorName, reason: "dimensions \(dims) are too large")
            }
            count = product
        }
        let shape = dims.map(Int.init)
        switch DataType(rawValue: Int(dataType)) {
        case .float:
            let values: [Float] = try hasRawData ? littleEndian(rawData, count: count, name: tensorName) : floatData
            try requireCount(values.count, count, tensorName)
            return .float(HostTensor(shape: TensorShape(shape), values: values))
        case .double:
            let values: [Double] = try hasRawData ? littleEndian(rawData, count: count, name: tensorName) : doubleData
            try requireCount(values.count, count, tensorName)
            return .float(HostTensor(shape: TensorShape(shape), values: values.map { Float($0) }))
        case .int64:
            let values: [Int64] = try hasRawData ? littleEndian(rawData, count: count, name: tensorName) : int64Data
            try requireCount(values.count, count, tensorName)
            return .integers(shape: shape, values: values.map { Int($0) })
        case .int32:
            let values: [Int32] = try hasRawData ? littleEndian(rawData, count: count, name: tensorName) : int32Data
            try requireCount(values.count, count, tensorName)
            return .integers(shape: shape, values: values.map { Int($0) })
        default:
            let typeName = DataType(rawValue: Int(dataType)).map { "\($0)" } ?? "\(dataType)"
            throw .badTensor(name: tensorName, reason: "data type \(typeName) is not supported (float, double, int32, int64 are)")
        }
    }

    private func requireCount(_ actual: Int, _ expected: Int, _ name: String) throws(ModelError) {
        guard actual == expected else {
            throw .badTensor(name: name, reason: "holds \(actual) values but its dimensions \(dims) need \(expected)")
        }
    }

    /// `count` little-endian values of `T` from `data`, or an error when the byte count is wrong.
    private func littleEndian<T: FixedWidthInteger>(_ data: Data, count: Int, name: String) throws(ModelError) -> [T] {
        try checkByteCount(data, count * MemoryLayout<T>.size, name)
        return data.withUnsafeBytes { raw in
            (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
    }

    private func littleEndian(_ data: Data, count: Int, name: String) throws(ModelError) -> [Float] {
        let bits: [UInt32] = try littleEndian(data, count: count, name: name)
        return bits.map(Float.init(bitPattern:))
    }

    private func littleEndian(_ data: Data, count: Int, name: String) throws(ModelError) -> [Double] {
        let bits: [UInt64] = try littleEndian(data, count: count, name: name)
        return bits.map(Double.init(bitPattern:))
    }

    private func checkByteCount(_ data: Data, _ expected: Int, _ name: String) throws(ModelError) {
        guard data.count == expected else {
            throw .badTensor(name: name, reason: "raw_data has \(data.count) bytes, dimensions \(dims) need \(expected)")
        }
    }
}
