import Foundation
import ExptModel
import ExptDiagnosis

/// Where the tracker, the scheduler and the log disagree, or a "success" does not add up.
public struct Discrepancy: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// The tracker says running; the job has ended.
        case zombie
        /// The tracker says finished; the scheduler says the job was preempted or failed.
        case incomplete
        /// The tracker says crashed or failed; the job still runs.
        case staleTracker = "stale_tracker"
        /// Running, but no heartbeat and no new log line for longer than `stall_after`.
        case stalled
        /// Ended "successfully" far sooner, or with far fewer steps, than expected.
        case falseSuccess = "false_success"
    }
    public var kind: Kind
    public var detail: String
    /// The last line of the output (a stall's), when it helps.
    public var lastLine: String?
    public init(_ kind: Kind, _ detail: String, lastLine: String? = nil) { self.kind = kind; self.detail = detail; self.lastLine = lastLine }
}

/// How far a run got: epoch, step, % of its target, and the loss trend.
public struct ProgressReport: Codable, Sendable, Equatable {
    public var epoch: Double?
    public var totalEpochs: Int?
    public var step: Int?
    public var totalSteps: Int?
    public var percent: Double?
    /// "↓", "→", "↑", or "NaN" when a loss was not a number.
    public var lossTrend: String?
    public var lastLoss: Double?
    /// "wandb" (its summary and history) or "log".
    public var source: String

    public init(source: String) { self.source = source }

    /// "epoch 2/10, step 340/1000 (34%), loss ↓".
    public var text: String? {
        var parts: [String] = []
        if let e = epoch { parts.append("epoch \(Self.number(e))" + (totalEpochs.map { "/\($0)" } ?? "")) }
        if let s = step { parts.append("step \(s)" + (totalSteps.map { "/\($0)" } ?? "")) }
        if parts.isEmpty { return nil }
        var text = parts.joined(separator: ", ")
        if let p = percent { text += " (\(Int(p.rounded(.down)))%)" }
        if let t = lossTrend { text += ", loss \(t)" }
        return text
    }

    static func number(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e9 ? String(Int(d)) : String(format: "%.2f", d) }

    /// From the tracker when it logged steps, else from the log; targets from the tracker's
    /// config, the log's own totals, then `[run] expected_steps/expected_epochs`.
    static func make(tracker: TrackerRun?, log: ExptDiagnosis.Progress?, config: RunFactsConfig) -> ProgressReport? {
        var r: ProgressReport
        if let t = tracker, t.step != nil || t.epoch != nil {
            r = ProgressReport(source: "wandb")
            r.step = t.step; r.epoch = t.epoch
            r.totalSteps = t.totalSteps ?? log?.totalSteps
            r.totalEpochs = t.totalEpochs ?? log?.totalEpochs
            r.lastLoss = t.losses.last
            r.lossTrend = trend(t.losses)
        } else if let l = log, l.lastStep != nil || l.lastEpoch != nil {
            r = ProgressReport(source: "log")
            r.step = l.lastStep; r.epoch = l.lastEpoch.map(Double.init)
            r.totalSteps = l.totalSteps; r.totalEpochs = l.totalEpochs
            r.lastLoss = l.lastLoss
            r.lossTrend = ["nan": "NaN", "diverging": "↑", "decreasing": "↓", "flat": "→"][l.lossTrend ?? ""]
        } else {
            return nil
        }
        r.totalSteps = r.totalSteps ?? config.expectedSteps
        r.totalEpochs = r.totalEpochs ?? config.expectedEpochs
        if let s = r.step, let t = r.totalSteps, t > 0 { r.percent = min(100, 100 * Double(s) / Double(t)) }
        else if let e = r.epoch, let t = r.totalEpochs, t > 0 { r.percent = min(100, 100 * e / Double(t)) }
        return r
    }

    /// The trend of the last losses: NaN if any is not a number, else the mean of the last third
    /// against the first third (5% either way).
    static func trend(_ losses: [Double]) -> String? {
        if losses.contains(where: { !$0.isFinite }) { return "NaN" }
        guard losses.count >= 3 else { return nil }
        let third = max(1, losses.count / 3)
        let first = losses.prefix(third).reduce(0, +) / Double(third)
        let last = losses.suffix(third).reduce(0, +) / Double(third)
        let scale = max(abs(first), 1e-12)
        if (last - first) / scale < -0.05 { return "↓" }
        if (last - first) / scale > 0.05 { return "↑" }
        return "→"
    }
}

/// The reconciliation rules (docs/trackers/wandb.md): pure, so every rule is tested on values.
public enum Reconciler {
    static let endedBadly: Set<JobState> = [.preempted, .failed, .timeout, .oom, .nodeFail, .lost, .cancelled]

    public static func discrepancies(run: RunRecord, tracker: TrackerRun?, progress: ProgressReport?,
                                     lastOutputAt: Date?, lastLine: String?, config: RunFactsConfig, now: Date) -> [Discrepancy] {
        var out: [Discrepancy] = []
        if let t = tracker {
            if t.saysRunning, run.state.isTerminal {
                out.append(Discrepancy(.zombie, "W&B says running, but job \(run.jobID ?? "?") ended (\(run.state.rawValue))"
                    + (run.endedAt.map { " \(Units.elapsed(max(0, Int(now.timeIntervalSince($0))))) ago" } ?? "")
                    + ": `expt close-zombies` marks the W&B run failed"))
            }
            if t.saysFinished, endedBadly.contains(run.state) {
                out.append(Discrepancy(.incomplete, "W&B says finished, but the scheduler says \(run.state.rawValue): the run is incomplete, not a success"))
            }
            if t.saysEnded, run.state == .running {
                out.append(Discrepancy(.staleTracker, "W&B says \(t.state ?? "ended"), but job \(run.jobID ?? "?") is still running (W&B marks a run crashed when its heartbeats stop, e.g. in a network outage)"))
            }
        }
        if run.state == .running {
            let signs = [tracker?.heartbeatAt, lastOutputAt].compactMap { $0 }
            if let latest = signs.max(), now.timeIntervalSince(latest) > TimeInterval(config.stallAfterSeconds) {
                let quiet = Units.elapsed(Int(now.timeIntervalSince(latest)))
                let what = tracker?.heartbeatAt != nil ? "no W&B heartbeat and no new log line" : "no new log line"
                out.append(Discrepancy(.stalled, "\(what) for \(quiet) (stall_after \(Units.elapsed(config.stallAfterSeconds))): hung collectives (NCCL) look like this",
                                       lastLine: lastLine))
            }
        }
        if run.state == .succeeded, let why = falseSuccess(run: run, progress: progress, config: config) {
            out.append(Discrepancy(.falseSuccess, why))
        }
        return out
    }

    /// Why a success does not add up, or nil: far fewer steps than its target, or an end far
    /// sooner than the expected runtime (or a tenth of that share of its time limit).
    static func falseSuccess(run: RunRecord, progress: ProgressReport?, config: RunFactsConfig) -> String? {
        let f = config.falseSuccessFraction
        if let p = progress, let s = p.step, let t = p.totalSteps, Double(s) < f * Double(t) {
            return "it ended at step \(s) of \(t) (under \(Int((f * 100).rounded()))% of the target)"
        }
        guard let start = run.startedAt ?? run.submittedAt, let end = run.endedAt else { return nil }
        let took = end.timeIntervalSince(start)
        if let expected = config.expectedRuntimeSeconds, took < f * Double(expected) {
            return "it ended after \(Units.elapsed(Int(took))), under \(Int((f * 100).rounded()))% of the expected \(Units.elapsed(expected))"
        }
        if config.expectedRuntimeSeconds == nil, let limit = run.resources.timeLimitSeconds, took < f / 10 * Double(limit) {
            return "it ended after \(Units.elapsed(Int(took))), under \(Int((f * 10).rounded()))% of its time limit \(Units.elapsed(limit))"
        }
        return nil
    }
}
