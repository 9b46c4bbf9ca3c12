import Foundation

/// Hits from scheduler facts: the data rules whose source is a state, exit code, signal or
/// pending reason, plus a few computed facts (MaxRSS at the limit, elapsed at the time limit,
/// a NaN loss at the end, far fewer steps than configured) that no pattern can express.
enum FactRules {
    /// The regexes run within `clock`'s budget, like the log rules'.
    static func schedulerHits(_ facts: SchedulerFacts?, rules: [Rule], position: Int, cache: FactMatchCache? = nil,
                              clock: inout RuleClock) -> [RawHit] {
        guard let facts else { return [] }
        var values: [RuleSource: String] = [:]
        if let s = facts.state?.trimmingCharacters(in: .whitespaces), !s.isEmpty { values[.state] = s }
        if let e = facts.exitCode { values[.exitCode] = String(e) }
        if let s = facts.signal, s != 0 { values[.signal] = String(s) }
        if let r = facts.pendingReason?.trimmingCharacters(in: .whitespaces), !r.isEmpty { values[.pendingReason] = r }
        var hits: [RawHit] = []
        for (index, rule) in rules.enumerated() where rule.source != .log {
            guard let value = values[rule.source] else { continue }
            var matched = cache?.known(rule: index, value: value)
            if matched == nil {
                let range = NSRange(location: 0, length: (value as NSString).length)
                var exceeded = false
                for pattern in rule.regexes {
                    let outcome = clock.firstMatch(pattern.regex, rule: rule.id, in: value, range: range, at: "the scheduler's \(rule.source.label)")
                    if case .match = outcome { matched = true; break }
                    if case .exceeded = outcome { exceeded = true }
                }
                // A verdict cut short by the clock is not remembered: the next diagnosis tries
                // again (and warns again).
                if matched == true || !exceeded { cache?.remember(rule: index, value: value, matched == true) }
            }
            guard matched == true else { continue }
            hits.append(RawHit(rule: rule, effect: rule.effect,
                               evidence: Evidence(file: "scheduler", line: 0, text: "\(rule.source.label): \(value)", rule: rule.id),
                               position: position, logIndex: -1))
        }
        return hits
    }

    /// States (raw Slurm/Kubernetes or expt's unified ones) that mean the job did not succeed.
    static func schedulerSaysFailed(_ facts: SchedulerFacts?) -> Bool {
        guard let facts else { return false }
        if let e = facts.exitCode, e != 0 { return true }
        if let s = facts.signal, s != 0 { return true }
        guard let state = facts.state?.uppercased() else { return false }
        let failed = ["FAIL", "OUT_OF_MEMORY", "OOM", "TIMEOUT", "PREEMPT", "CANCEL", "DEADLINE", "LOST", "ERROR",
                      "EVICTED", "BOOT_FAIL", "KILLED"]
        return failed.contains { state.contains($0) }
    }

    static func schedulerSaysSucceeded(_ facts: SchedulerFacts?) -> Bool {
        guard let facts, !schedulerSaysFailed(facts) else { return false }
        if let state = facts.state?.uppercased() {
            return state.hasPrefix("COMPLETED") || state.hasPrefix("SUCCEEDED") || state == "SUCCESS"
        }
        return facts.exitCode == 0
    }

    /// A run whose last progress line reached its total ended normally, unless something
    /// fatal or spoiling says otherwise (tiers: any fatal hit beats it).
    static func completionHit(_ evidence: Evidence, position: Int) -> [RawHit] {
        guard let rule = try? Rule(id: "fact:progress-complete", category: .success, source: .state, patterns: [],
                                   precedence: 40, effect: .success, origin: "built-in fact") else { return [] }
        return [RawHit(rule: rule, effect: .success, evidence: evidence, position: position, logIndex: -1)]
    }

    static func derivedHits(scheduler: SchedulerFacts?, run: RunFacts, progress: Progress, position: Int) -> [RawHit] {
        var hits: [RawHit] = []
        func add(_ id: String, _ category: FailureCategory, _ precedence: Int, _ effect: RuleEffect, _ text: String) {
            guard let rule = try? Rule(id: id, category: category, source: .state, patterns: [],
                                       precedence: precedence, effect: effect, origin: "built-in fact") else { return }
            hits.append(RawHit(rule: rule, effect: effect, evidence: Evidence(file: "scheduler", line: 0, text: text, rule: id),
                               position: position, logIndex: -1))
        }
        if let s = scheduler, schedulerSaysFailed(s) {
            let requested = s.requestedMemoryMB ?? run.memoryMB
            if let rss = s.maxRSSMB, let req = requested, req > 0, Double(rss) >= 0.95 * Double(req) {
                add("fact:maxrss-at-limit", .oomHost, 90, .fatal, "MaxRSS \(rss)M reached the \(req)M requested")
            }
            let limit = s.timeLimitSeconds ?? run.timeLimitSeconds
            if let elapsed = s.elapsedSeconds, let limit, limit > 0, elapsed >= limit {
                add("fact:elapsed-at-limit", .timeout, 90, .fatal, "elapsed \(elapsed)s reached the \(limit)s time limit")
            }
        }
        if progress.lossTrend == "nan", let loss = progress.lastLoss {
            add("fact:loss-nan-at-end", .nanLoss, 75, .spoilsSuccess, "last logged loss is \(loss)")
        } else if progress.lossTrend == "diverging", let loss = progress.lastLoss, let low = progress.minLoss {
            add("fact:loss-diverged", .nanLoss, 40, .weak, "loss diverged: \(low) → \(loss)")
        }
        if let expected = run.expectedSteps, expected > 0, let step = progress.lastStep,
           Double(step) < 0.5 * Double(expected) {
            add("fact:steps-short", .falseSuccess, 60, .spoilsSuccess, "last step \(step) of \(expected) configured")
        } else if let expected = run.expectedEpochs, expected > 1, let epoch = progress.lastEpoch,
                  Double(epoch + 1) < 0.5 * Double(expected) {
            add("fact:epochs-short", .falseSuccess, 60, .spoilsSuccess, "last epoch \(epoch) of \(expected) configured")
        } else if run.expectedSteps == nil, progress.lastStep == 0, let total = progress.totalSteps, total > 0 {
            // Without run facts the log's own progress bar says how many steps were planned:
            // a run whose last progress line still reads 0/N trained nothing.
            add("fact:no-steps", .falseSuccess, 55, .spoilsSuccess, "the last progress line reads 0/\(total) steps")
        }
        return hits
    }
}

/// Whether a scheduler-fact rule matches a value, remembered per `Diagnoser`: the states and
/// exit codes of an array's tasks repeat, and each rule's regexes need running once per value.
final class FactMatchCache: @unchecked Sendable {
    private let lock = NSLock()
    private var verdicts: [Int: [String: Bool]] = [:]

    func known(rule: Int, value: String) -> Bool? { lock.withLock { verdicts[rule]?[value] } }

    func remember(rule: Int, value: String, _ matched: Bool) { lock.withLock { verdicts[rule, default: [:]][value] = matched } }
}
