import Foundation
@testable import OpenCLBackend
import TensorOps
import Testing

/// cam.cl learns the CAM rules from `CAMRule` alone: every `RULE_…` name the kernel file uses is among the defines
/// derived from it, and each rule gets its own code.
@Suite("CAM rule defines")
struct CAMRuleDefinesTests {
    @Test func everyRuleNameInTheKernelComesFromCAMRule() throws {
        let source = try #require(embeddedKernelSources["cam.cl"])
        let used = Set(source.matches(of: /RULE_[A-Z_]+/).map { String($0.output) })
        for rule in CAMRule.allCases {
            let defines = OpenCLBackend.ruleDefines(rule)
            let names = Set(defines.map(\.0))
            #expect(used.isSubset(of: names), "cam.cl uses \(used.subtracting(names)) that \(rule) does not define")
            let codes = defines.filter { $0.0 != "RULE" }.map(\.1)
            #expect(Set(codes).count == CAMRule.allCases.count, "one code per rule")
            let selected = try #require(defines.first { $0.0 == "RULE" }?.1)
            #expect(defines.contains { $0.0 != "RULE" && $0.1 == selected && $0.0.hasSuffix(rule.rawValue.uppercased()
                .replacingOccurrences(of: "++", with: "_PLUS_PLUS")) })
        }
        #expect(used.count >= 3, "the kernel reads the rules it specializes on: \(used)")
    }
}
