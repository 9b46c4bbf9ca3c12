import Foundation

/// Time limits on rule regexes. ICU backtracks: a user's `(a+)+$` takes exponential time on a
/// long run of `a`s, and one such rule in a committed `.expt/rules.toml` would hang every
/// `status`, `diagnose`, `watch` and `fix-and-relaunch` that meets such a line (R11). Built-in
/// patterns take microseconds per line, so the limits only ever stop a pathological pattern.
struct RegexBudget: Sendable, Equatable {
    /// One regex on one line (at most `CompiledRules.maxRegexLine` bytes) or scheduler value.
    var perEvaluation: TimeInterval
    /// All evaluations of one rule's regexes in one diagnosis; then the rule is skipped for the
    /// rest of it. Bounds a rule that is slow on every line without ever exceeding `perEvaluation`.
    var perRule: TimeInterval

    /// 100 ms is far more than an ordinary pattern needs on a 64 KiB line; 1 s per rule keeps a
    /// diagnosis with one bad rule interactive.
    static let `default` = RegexBudget(perEvaluation: 0.1, perRule: 1)
}

/// The result of one bounded regex evaluation.
enum MatchOutcome {
    case match(NSTextCheckingResult)
    case noMatch
    /// The deadline passed first, or the rule had no time left: neither a match nor a miss.
    case exceeded
}

/// What one diagnosis spent on each rule's regexes, and the warnings for rules that ran out.
/// Every rule regex runs through `firstMatch(_:rule:in:range:at:)`.
struct RuleClock {
    let budget: RegexBudget
    /// Nanoseconds, by rule id.
    private var spent: [String: UInt64] = [:]
    private var timedOut: Set<String> = []
    private(set) var warnings: [String] = []

    init(_ budget: RegexBudget = .default) { self.budget = budget }

    /// False once `rule` used up its budget: it is skipped for the rest of the diagnosis.
    func hasTime(_ rule: String) -> Bool { spent[rule, default: 0] < RuleClock.nanos(budget.perRule) }

    /// `regex` (one of `rule`'s) on `range` of `text` within the rule's budget. `location` names
    /// where it ran (`stderr.log:1`) for the warning, which is written once per rule and kind.
    mutating func firstMatch(_ regex: NSRegularExpression, rule: String, in text: String, range: NSRange,
                             at location: @autoclosure () -> String) -> MatchOutcome {
        let total = RuleClock.nanos(budget.perRule)
        let used = spent[rule, default: 0]
        guard used < total else { return .exceeded }
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + min(RuleClock.nanos(budget.perEvaluation), total - used)
        let outcome = RuleClock.firstMatch(regex, in: text, range: range, deadline: deadline)
        let usedNow = used + (DispatchTime.now().uptimeNanoseconds - start)
        spent[rule] = usedNow
        if usedNow >= total {
            let seconds = String(format: "%g", budget.perRule)
            warnings.append("rule '\(rule)' used up its time budget (\(seconds) s per diagnosis) at \(location()); "
                            + "skipped for the rest of this diagnosis")
        } else if case .exceeded = outcome, timedOut.insert(rule).inserted {
            warnings.append("rule '\(rule)' exceeded its time limit on \(location()); skipped")
        }
        return outcome
    }

    /// The first match of `regex` in `range`, or `.exceeded` once `deadline` (uptime nanoseconds)
    /// has passed. With `.reportProgress` NSRegularExpression calls the block with a nil match
    /// as ICU moves its start position and every 10,000 backtracking states (a fraction of a
    /// millisecond), and setting `stop` ends the search there. NSRegularExpression has no time
    /// limit of its own (ICU's `uregex_setTimeLimit` is not reachable through it).
    static func firstMatch(_ regex: NSRegularExpression, in text: String, range: NSRange, deadline: UInt64) -> MatchOutcome {
        var outcome = MatchOutcome.noMatch
        var calls = 0
        regex.enumerateMatches(in: text, options: [.reportProgress], range: range) { match, _, stop in
            calls &+= 1
            if let match {
                outcome = .match(match)
                stop.pointee = true
            } else if calls & 63 == 0, DispatchTime.now().uptimeNanoseconds >= deadline {
                // The block runs once per start position too: reading the clock every 64th
                // call keeps an ordinary miss cheap and still stops within milliseconds.
                outcome = .exceeded
                stop.pointee = true
            }
        }
        return outcome
    }

    static func nanos(_ seconds: TimeInterval) -> UInt64 { UInt64(max(0, seconds) * 1e9) }
}
