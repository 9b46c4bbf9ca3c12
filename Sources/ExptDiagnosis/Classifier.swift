import Foundation

/// The ranked outcome before remedies: winner, secondary, evidence and the reasoning.
struct Verdict {
    var category: FailureCategory
    var secondary: FailureCategory?
    var evidence: [Evidence]
    var hits: [RuleHit]
    var explanation: String
    /// The hit that decided, if any (its rule may carry remedy advice).
    var decisive: Rule?
}

/// Picks the root cause among hits. Order of tiers: fatal > spoils_success > success > weak;
/// within a tier, higher precedence, then the later line. A hit whose rule declares
/// `root_cause_of` the winner's category and that comes earlier becomes the headline.
enum Classifier {
    static let maxEvidence = 5
    static let maxHits = 60
    /// code_error hits below this precedence (generic exception wrappers) never become a secondary.
    static let secondaryFloor = 40

    static func rank(_ a: RawHit, _ b: RawHit) -> Bool {
        if a.effect.tier != b.effect.tier { return a.effect.tier > b.effect.tier }
        if a.rule.precedence != b.rule.precedence { return a.rule.precedence > b.rule.precedence }
        return a.position > b.position
    }

    /// A line is one event, interpreted by its most specific (highest-precedence) rule: when that
    /// rule calls the line noise (weak), less specific fatal hits on it are noise too — conda's
    /// `CommandNotFoundError: ... conda activate` is printed like a Python exception but kills nothing.
    static func lineIsOneEvent(_ hits: [RawHit]) -> [RawHit] {
        var strongest: [String: RawHit] = [:]
        for h in hits where h.logIndex >= 0 {
            let key = "\(h.logIndex):\(h.evidence.line)"
            if let s = strongest[key], s.rule.precedence >= h.rule.precedence { continue }
            strongest[key] = h
        }
        return hits.map { h in
            guard h.logIndex >= 0, h.effect == .fatal, let s = strongest["\(h.logIndex):\(h.evidence.line)"],
                  s.effect == .weak, s.rule.precedence > h.rule.precedence else { return h }
            var demoted = h
            demoted.effect = .weak
            return demoted
        }
    }

    static func classify(hits logHits: [RawHit], factHits: [RawHit], scheduler: SchedulerFacts?) -> Verdict {
        let all = lineIsOneEvent(logHits + factHits).sorted(by: rank)
        let failed = FactRules.schedulerSaysFailed(scheduler)
        let fatal = all.filter { $0.effect == .fatal && $0.rule.category.isFailure }
        let successes = all.filter { $0.effect == .success }
        let weak = all.filter { $0.effect == .weak && $0.rule.category.isFailure }
        let endedNormally = !failed && (!successes.isEmpty || FactRules.schedulerSaysSucceeded(scheduler))
        let spoilers = all.filter { hit in
            guard hit.effect == .spoilsSuccess else { return false }
            if hit.rule.category == .falseSuccess { return !failed && (endedNormally || weak.isEmpty) }
            return true
        }
        let ruleHits = all.prefix(maxHits).map {
            RuleHit(rule: $0.rule.id, category: $0.rule.category, precedence: $0.rule.precedence,
                    effect: $0.effect, evidence: $0.evidence, family: $0.rule.family, wordingFrom: $0.rule.wordingFrom)
        }

        var winner: RawHit?
        var why: String
        if let top = fatal.first {
            winner = top
            why = "'\(top.rule.id)' is the highest-precedence fatal hit (\(top.rule.precedence))"
        } else if let top = spoilers.first {
            winner = top
            why = "'\(top.rule.id)' spoils an apparently normal end (\(top.evidence.text))"
        } else if endedNormally {
            let marker = successes.first.map { "'\($0.rule.id)' at \($0.evidence.location)" } ?? "the scheduler's state"
            var text = "no fatal error; the run ended normally (\(marker))"
            if !weak.isEmpty {
                text += "; \(weak.count) warning/retry hit(s) treated as noise"
            }
            return Verdict(category: .success, secondary: nil, evidence: successes.prefix(maxEvidence).map(\.evidence),
                           hits: ruleHits, explanation: text + ".", decisive: successes.first?.rule)
        } else if let top = weak.first {
            winner = top
            why = "no fatal error was found; '\(top.rule.id)' is the strongest remaining sign (\(top.rule.precedence))"
        } else {
            var text = "no rule matched"
            if failed, let s = scheduler {
                let state = s.state ?? "failed"
                text += "; the scheduler reports \(state)" + (s.exitCode.map { " (exit \($0))" } ?? "")
                    + ", so this is not a success"
            }
            return Verdict(category: .unknown, secondary: nil, evidence: [], hits: ruleHits,
                           explanation: text + ".", decisive: nil)
        }
        guard var head = winner else { fatalError("unreachable") }

        // Root cause over symptom: an earlier hit that declares itself the cause of this category.
        var category = head.rule.category
        var secondary: FailureCategory?
        let causes = all.filter { $0.rule.rootCauseOf.contains(category) && $0.position < head.position
            && $0.evidence != head.evidence }
        if let cause = causes.sorted(by: { $0.rule.precedence != $1.rule.precedence
            ? $0.rule.precedence > $1.rule.precedence : $0.position < $1.position }).first {
            why += "; '\(cause.rule.id)' at \(cause.evidence.location) comes first and is its root cause"
            if cause.rule.category != category { secondary = category }
            category = cause.rule.category
            head = cause
        }
        if secondary == nil, let declared = head.rule.secondary, declared != category { secondary = declared }
        if secondary == nil {
            // A line is one event: another rule matching the headline's own line is not a second problem.
            let headlines = [head.evidence, winner?.evidence].compactMap { $0 }
            let other = all.first { hit in
                hit.rule.category != category && hit.rule.category.isFailure && hit.rule.category != .falseSuccess
                    && !(hit.rule.category == .codeError && hit.rule.precedence < secondaryFloor) && hit.effect != .success
                    && !headlines.contains { $0.file == hit.evidence.file && $0.line == hit.evidence.line && $0.line != 0 }
            }
            secondary = other?.rule.category
        }

        var evidence = [head.evidence]
        for hit in all where hit.rule.category == category && evidence.count < maxEvidence - 1 {
            if !evidence.contains(where: { $0.file == hit.evidence.file && $0.line == hit.evidence.line }) {
                evidence.append(hit.evidence)
            }
        }
        if let secondary, let hit = all.first(where: { $0.rule.category == secondary }),
           !evidence.contains(where: { $0.file == hit.evidence.file && $0.line == hit.evidence.line }) {
            evidence.append(hit.evidence)
        }
        let outranked = Set(all.map(\.rule.category)).subtracting([category, .success]).map(\.rawValue).sorted()
        if !outranked.isEmpty { why += "; it outranks hits for " + outranked.joined(separator: ", ") }
        if head.effect == .fatal, !successes.isEmpty { why += "; success markers do not override a fatal error" }
        return Verdict(category: category, secondary: secondary, evidence: evidence, hits: ruleHits,
                       explanation: why + ".", decisive: head.rule)
    }
}
