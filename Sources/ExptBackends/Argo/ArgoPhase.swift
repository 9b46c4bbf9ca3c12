import Foundation
import ExptModel

/// Argo phases (workflow `status.phase`, node `phase`) onto expt's states. The raw phase and the
/// message are always kept beside the result by the caller (`rawState`, `message`).
///
/// Node phases: Pending, Running, Succeeded, Skipped, Failed, Error, Omitted; workflow phases:
/// "" (not yet seen by the controller), Pending, Running, Succeeded, Failed, Error
/// (pkg/apis/workflow/v1alpha1/workflow_phase.go). A Failed or Error phase is refined by the
/// message the controller wrote, matched as a substring because Argo ≥ 3.7 prefixes the
/// container (`main: OOMKilled (exit code 137)`). An exit code 137 alone is not taken as OOM:
/// a stopped pod is killed with 137 too; diagnosis weighs that with the pod's facts.
public enum ArgoPhase {
    public static func jobState(phase: String, message: String? = nil) -> JobState {
        switch phase {
        case "", "Pending": return .pending
        case "Running": return .running
        case "Succeeded": return .succeeded
        // a `when` that was false: the step was not meant to run; Argo counts it as successful
        case "Skipped": return .succeeded
        // not run because what it depends on failed ("omitted: depends condition not met"):
        // it produced nothing, so a relaunch must run it again
        case "Omitted": return .cancelled
        case "Failed", "Error": return failure(message ?? "")
        // a phase this expt does not know: keep watching rather than declare an end
        default: return .running
        }
    }

    /// Messages that say why (controller `inferFailedReason`, shutdown and deadline handling).
    static func failure(_ message: String) -> JobState {
        if message.contains("OOMKilled") { return .oom }
        if message.contains("Stopped with strategy") { return .cancelled }
        let deadlines = ["DeadlineExceeded", "exceeded its deadline", "longer than the specified deadline",
                         "Max duration limit exceeded", "exceeded workflow deadline", "activeDeadlineSeconds"]
        if deadlines.contains(where: { message.contains($0) }) { return .timeout }
        return .failed
    }
}

/// `status.progress` / node `progress`: `"done/total"` over Pod nodes, where failed attempts are
/// in the total (so 182 items done of 186 can read `184/205`): show items from `ArgoItems`, and
/// use progress only to notice that something changed.
public struct ArgoProgress: Sendable, Equatable {
    public var done: Int
    public var total: Int
    public init(done: Int, total: Int) { self.done = done; self.total = total }

    public init?(_ text: String?) {
        guard let parts = text?.split(separator: "/"), parts.count == 2,
              let done = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let total = Int(parts[1].trimmingCharacters(in: .whitespaces)), done >= 0, total >= done else { return nil }
        self.init(done: done, total: total)
    }
}

/// RFC 3339 times as Kubernetes prints them (`2024-10-02T11:11:17Z`, also with fractional seconds
/// or a numeric offset). Hand-parsed: a formatter per call costs more than the rest of a
/// 400-node parse, and a shared one is not Sendable.
public enum ArgoTime {
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20,
              b[13] == 0x3A, b[16] == 0x3A,
              let year = number(b, 0, 4), let month = number(b, 5, 2), let day = number(b, 8, 2),
              let hour = number(b, 11, 2), let minute = number(b, 14, 2), let second = number(b, 17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == 0x2E {                                    // .fff…
            var scale = 0.1
            i += 1
            let start = i
            while i < b.count, isDigit(b[i]) {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        switch b[i] {
        case 0x5A, 0x7A: i += 1                              // Z
        case 0x2B, 0x2D:                                     // ±HH:MM
            guard i + 6 == b.count, b[i + 3] == 0x3A, let h = number(b, i + 1, 2), let m = number(b, i + 4, 2) else { return nil }
            offset = (h * 3600 + m * 60) * (b[i] == 0x2B ? 1 : -1)
            i += 6
        default: return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    static func number(_ b: [UInt8], _ at: Int, _ count: Int) -> Int? {
        var n = 0
        for k in at..<(at + count) {
            guard k < b.count, isDigit(b[k]) else { return nil }
            n = n * 10 + Int(b[k] - 0x30)
        }
        return n
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
