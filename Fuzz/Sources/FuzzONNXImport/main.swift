import Foundation
import FuzzSupport
import ModelGraph
import TensorOps

/// Any bytes as an ONNX model: decoded, lowered and folded, then planned for its own input size and for another
/// batch (shape inference and the summary `info` prints). Every failure must be a thrown error, never a crash, a
/// trap or a leak.
@_cdecl("FuzzONNXImport_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv) { start, count in
        guard let graph = try? ONNXImporter.load(data: Data(bytes(start, count)), source: "fuzz.onnx"),
              let shape = graph.exampleInputShape
        else { return 0 }
        _ = try? graph.summary(input: shape)
        var other = shape.dimensions
        other[0] = 2  // another batch: planned again where shape computations were folded
        _ = try? graph.planned(for: TensorShape(other)).inferShapes(input: TensorShape(other))
        return 0
    }
}
