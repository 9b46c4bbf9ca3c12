import XCTest
@testable import ExptDiagnosis

/// Every built-in pattern carries a literal the prefilter can find: a pattern without one runs
/// on every line of every log, which is what makes a diagnosis slow as the rule set grows.
final class PrefilterCoverageTests: XCTestCase {
    func testEveryBuiltinLogPatternHasALiteral() throws {
        let compiled = CompiledRules(sharedDiagnoser.rules.rules)
        let unfiltered = compiled.unfiltered.map { ref -> String in
            let p = compiled.patterns[ref]
            return "\(compiled.rules[p.rule].id): \(compiled.rules[p.rule].patterns[p.pattern])"
        }
        XCTAssertEqual(unfiltered, [], "patterns that run on every line:\n" + unfiltered.joined(separator: "\n"))
    }
}
