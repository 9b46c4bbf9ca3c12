import Foundation

/// Thresholds for judging a sweep or job array (docs/diagnosis.md, "Sweeps and arrays"): up to `watch` of all
/// tasks failing is normal noise; more than `degraded` of one cause is degraded; `systemic` or
/// more of one cause means stop and fix.
public struct HealthBands: Codable, Sendable, Equatable {
    public var watch: Double
    public var degraded: Double
    public var systemic: Double

    public init(watch: Double = 0.10, degraded: Double = 0.10, systemic: Double = 0.15) {
        self.watch = watch; self.degraded = degraded; self.systemic = systemic
    }
    public static let `default` = HealthBands()
}

/// The verdict for a batch, from best to worst.
public enum HealthVerdict: String, Codable, Sendable, Comparable {
    case healthy, watch, degraded, systemic

    var rank: Int { [.healthy, .watch, .degraded, .systemic].firstIndex(of: self)! }
    public static func < (a: HealthVerdict, b: HealthVerdict) -> Bool { a.rank < b.rank }
}

/// Failures of one cause within a batch.
public struct CategoryCount: Codable, Sendable, Equatable {
    public var category: FailureCategory
    public var count: Int
    /// Share of all tasks in the batch.
    public var fraction: Double
    /// Positions (in the input) of the tasks that failed this way.
    public var tasks: [Int]
}

/// The health of a sweep or array: failures grouped by cause, and a verdict.
public struct BatchHealthReport: Codable, Sendable, Equatable {
    public var verdict: HealthVerdict
    public var total: Int
    public var failed: Int
    public var succeeded: Int
    /// Still running, pending or not diagnosed (nil in the input).
    public var undecided: Int
    /// Largest group first.
    public var byCategory: [CategoryCount]
    public var explanation: String
}

/// Judges a batch from its tasks' categories.
public enum BatchHealth {
    /// `categories[i]` is task i's diagnosis, nil while it has none (running, pending). Every
    /// category except `success` counts as a failure, `unknown` included: a failed task we
    /// cannot explain still failed.
    public static func verdict(for categories: [FailureCategory?], bands: HealthBands = .default) -> BatchHealthReport {
        let total = categories.count
        var groups: [FailureCategory: [Int]] = [:]
        var succeeded = 0, undecided = 0
        for (i, c) in categories.enumerated() {
            switch c {
            case nil: undecided += 1
            case .success?: succeeded += 1
            case let c?: groups[c, default: []].append(i)
            }
        }
        let failed = groups.values.reduce(0) { $0 + $1.count }
        let byCategory = groups.map { CategoryCount(category: $0.key, count: $0.value.count,
                                                    fraction: total == 0 ? 0 : Double($0.value.count) / Double(total),
                                                    tasks: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.category.rawValue < $1.category.rawValue }
        guard total > 0, failed > 0 else {
            return BatchHealthReport(verdict: .healthy, total: total, failed: 0, succeeded: succeeded,
                                     undecided: undecided, byCategory: [], explanation: "no task failed.")
        }
        let failedFraction = Double(failed) / Double(total)
        let top = byCategory[0]
        let verdict: HealthVerdict
        let pct = { (x: Double) in String(format: "%.1f%%", x * 100) }
        var explanation: String
        if top.fraction >= bands.systemic {
            verdict = .systemic
            explanation = "\(top.category.rawValue) failed \(top.count) of \(total) tasks (\(pct(top.fraction)) ≥ \(pct(bands.systemic))): systemic, fix before relaunching."
        } else if top.fraction > bands.degraded {
            verdict = .degraded
            explanation = "\(top.category.rawValue) failed \(top.count) of \(total) tasks (\(pct(top.fraction)) > \(pct(bands.degraded))): degraded."
        } else if failedFraction > bands.watch {
            // Above the watch band but no single cause dominates: still worth a look.
            verdict = .degraded
            explanation = "\(failed) of \(total) tasks failed (\(pct(failedFraction)) > \(pct(bands.watch))) with no dominant cause: degraded."
        } else {
            verdict = .watch
            explanation = "\(failed) of \(total) tasks failed (\(pct(failedFraction)) ≤ \(pct(bands.watch))): isolated failures, watch."
        }
        return BatchHealthReport(verdict: verdict, total: total, failed: failed, succeeded: succeeded,
                                 undecided: undecided, byCategory: byCategory, explanation: explanation)
    }
}
