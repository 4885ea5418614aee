import Foundation

/// Elementwise ONNX ops on folded constants, with NumPy broadcasting and ONNX's integer semantics (Div truncates,
/// Mod takes the divisor's sign unless `fmod`).
enum FoldedArithmetic {
    static func apply(_ op: String, _ operands: [FoldedTensor], fmod: Bool, _ a: ONNXAttributes) throws -> FoldedTensor {
        guard let first = operands.first else { throw a.unsupported("needs an input") }
        for operand in operands.dropFirst() where operand.typeName != first.typeName {
            throw a.unsupported("type mismatch: \(first.typeName) and \(operand.typeName) operands")
        }
        if operands.count == 1 { return try unary(op, first, a) }
        var result = operands[0]
        for operand in operands.dropFirst() { result = try binary(op, result, operand, fmod: fmod, a) }
        return result
    }

    private static func unary(_ op: String, _ x: FoldedTensor, _ a: ONNXAttributes) throws -> FoldedTensor {
        switch (op, x.elements) {
        case ("Min", _), ("Max", _): return x
        case ("Neg", .floats(let v)): return FoldedTensor(shape: x.shape, .floats(v.map { -$0 }))
        case ("Neg", .integers(let v)): return FoldedTensor(shape: x.shape, .integers(v.map { 0 &- $0 }))
        case ("Abs", .floats(let v)): return FoldedTensor(shape: x.shape, .floats(v.map(Swift.abs)))
        case ("Abs", .integers(let v)): return FoldedTensor(shape: x.shape, .integers(v.map { $0 == .min ? $0 : Swift.abs($0) }))
        case ("Ceil", .floats(let v)): return FoldedTensor(shape: x.shape, .floats(v.map { $0.rounded(.up) }))
        case ("Floor", .floats(let v)): return FoldedTensor(shape: x.shape, .floats(v.map { $0.rounded(.down) }))
        case ("Round", .floats(let v)): return FoldedTensor(shape: x.shape, .floats(v.map { $0.rounded(.toNearestOrEven) }))
        case ("Sqrt", .floats(let v)): return FoldedTensor(shape: x.shape, .floats(v.map { $0.squareRoot() }))
        case ("Not", .booleans(let v)): return FoldedTensor(shape: x.shape, .booleans(v.map { !$0 }))
        default: throw a.unsupported("\(op) of a \(x.typeName) tensor cannot be folded")
        }
    }

    private static func binary(_ op: String, _ x: FoldedTensor, _ y: FoldedTensor, fmod: Bool, _ a: ONNXAttributes)
        throws -> FoldedTensor
    {
        guard let shape = FoldedIndexing.broadcast([x.shape, y.shape]) else {
            throw a.unsupported("shapes \(x.shape) and \(y.shape) do not broadcast")
        }
        let left = FoldedIndexing.broadcastSources(from: x.shape, to: shape)
        let right = FoldedIndexing.broadcastSources(from: y.shape, to: shape)
        func combine<T, R>(_ u: [T], _ v: [T], _ f: (T, T) throws -> R) rethrows -> [R] {
            try zip(left, right).map { try f(u[$0], v[$1]) }
        }
        switch (x.elements, y.elements) {
        case (.floats(let u), .floats(let v)):
            if let compare = comparison(op, Float.self) { return FoldedTensor(shape: shape, .booleans(combine(u, v, compare))) }
            let f: (Float, Float) -> Float
            switch op {
            case "Add": f = (+)
            case "Sub": f = (-)
            case "Mul": f = (*)
            case "Div": f = (/)
            case "Pow": f = { Float(Foundation.pow(Double($0), Double($1))) }
            case "Min": f = { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
            case "Max": f = { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
            case "Mod" where fmod: f = { Float(Foundation.fmod(Double($0), Double($1))) }
            default: throw a.unsupported("\(op) of float tensors cannot be folded")
            }
            return FoldedTensor(shape: shape, .floats(combine(u, v, f)))
        case (.integers(let u), .integers(let v)):
            if let compare = comparison(op, Int.self) { return FoldedTensor(shape: shape, .booleans(combine(u, v, compare))) }
            return FoldedTensor(shape: shape, .integers(try combine(u, v) { p, q in try integer(op, p, q, fmod: fmod, a) }))
        case (.booleans(let u), .booleans(let v)):
            switch op {
            case "And": return FoldedTensor(shape: shape, .booleans(combine(u, v) { $0 && $1 }))
            case "Or": return FoldedTensor(shape: shape, .booleans(combine(u, v) { $0 || $1 }))
            case "Equal": return FoldedTensor(shape: shape, .booleans(combine(u, v, ==)))
            default: throw a.unsupported("\(op) of bool tensors cannot be folded")
            }
        default:
            throw a.unsupported("type mismatch: \(x.typeName) and \(y.typeName) operands")
        }
    }

    private static func comparison<T: Comparable>(_ op: String, _ type: T.Type) -> ((T, T) -> Bool)? {
        switch op {
        case "Equal": (==)
        case "Less": (<)
        case "LessOrEqual": (<=)
        case "Greater": (>)
        case "GreaterOrEqual": (>=)
        default: nil
        }
    }

    /// Integer arithmetic as onnxruntime does it, refusing what would overflow or divide by zero.
    private static func integer(_ op: String, _ p: Int, _ q: Int, fmod: Bool, _ a: ONNXAttributes) throws -> Int {
        func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Int {
            guard !result.overflow else { throw a.unsupported("\(op) of \(p) and \(q) overflows") }
            return result.partialValue
        }
        switch op {
        case "Add": return try checked(p.addingReportingOverflow(q))
        case "Sub": return try checked(p.subtractingReportingOverflow(q))
        case "Mul": return try checked(p.multipliedReportingOverflow(by: q))
        case "Div", "Mod":
            guard q != 0 else { throw a.unsupported("\(op) by zero") }
            if op == "Div" { return try checked(p.dividedReportingOverflow(by: q)) }
            let remainder = try checked(p.remainderReportingOverflow(dividingBy: q))
            return fmod || remainder == 0 || (remainder < 0) == (q < 0) ? remainder : remainder + q
        case "Min": return Swift.min(p, q)
        case "Max": return Swift.max(p, q)
        case "Pow":
            guard q >= 0 else { throw a.unsupported("Pow with a negative integer exponent") }
            var result = 1
            for _ in 0..<Swift.min(q, 64) { result = try checked(result.multipliedReportingOverflow(by: p)) }
            return result
        default: throw a.unsupported("\(op) of integer tensors cannot be folded")
        }
    }

    /// `Where(condition, x, y)` with three-way broadcasting.
    static func select(_ condition: FoldedTensor, _ x: FoldedTensor, _ y: FoldedTensor, _ a: ONNXAttributes) throws
        -> FoldedTensor
    {
        guard case .booleans(let mask) = condition.elements else { throw a.unsupported("the condition must be bool") }
        guard x.typeName == y.typeName else { throw a.unsupported("type mismatch: \(x.typeName) and \(y.typeName)") }
        guard let shape = FoldedIndexing.broadcast([condition.shape, x.shape, y.shape]) else {
            throw a.unsupported("shapes \(condition.shape), \(x.shape) and \(y.shape) do not broadcast")
        }
        let c = FoldedIndexing.broadcastSources(from: condition.shape, to: shape)
        let l = FoldedIndexing.broadcastSources(from: x.shape, to: shape)
        let r = FoldedIndexing.broadcastSources(from: y.shape, to: shape)
        let both = FoldedTensor.concatenating([x.gathering(l, shape: shape), y.gathering(r, shape: shape)],
                                              outer: 1, blocks: [l.count, r.count])
        return both.gathering((0..<c.count).map { mask[c[$0]] ? $0 : $0 + c.count }, shape: shape)
    }
}
