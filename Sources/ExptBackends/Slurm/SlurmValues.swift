import Foundation
import ExptModel

/// Pure parsers for the value formats Slurm 22.05 prints in `sacct --parsable2` and `squeue`
/// output. Each returns nil for "no value" markers (`Unknown`, `UNLIMITED`, empty) and for
/// garbage that Slurm shows transiently (sacct prints `ReqMem=16?` until slurmdbd has the job's
/// start record), so one odd field never hides a whole job.
public enum SlurmValues {
    /// `[D-]HH:MM:SS`, `MM:SS` (squeue abbreviates), `MM:SS.mmm` → seconds; nil for
    /// `UNLIMITED`, `Partition_Limit`, `NOT_SET`, `INVALID`, empty.
    public static func seconds(_ text: String) -> Int? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty, rest.first!.isNumber else { return nil }
        var days = 0
        if let dash = rest.firstIndex(of: "-") {
            guard let d = Int(rest[..<dash]) else { return nil }
            days = d
            rest = rest[rest.index(after: dash)...]
        }
        if let dot = rest.firstIndex(of: ".") { rest = rest[..<dot] }   // drop milliseconds
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        let n = parts.map { $0! }
        let hms: Int
        switch n.count {
        case 3: hms = n[0] * 3600 + n[1] * 60 + n[2]
        case 2: hms = n[0] * 60 + n[1]
        case 1: hms = n[0] * 60       // a bare number is minutes (as in --time=90)
        default: return nil
        }
        return days * 86400 + hms
    }

    /// Seconds → the `--time` format: `HH:MM:SS`, or `D-HH:MM:SS` from one day on.
    public static func timeLimit(_ seconds: Int) -> String { Units.durationString(max(seconds, 1)) }

    /// `4544K`, `1.50M`, `4G`, `4000Mn`, `4000Mc` (older per-node/per-CPU suffixes), `0` → MB,
    /// rounded up so a small non-zero use never shows as 0. A number without a unit is bytes
    /// (that is how sacct prints a zero MaxRSS).
    public static func megabytes(_ text: String) -> Int? {
        var t = text.trimmingCharacters(in: .whitespaces)
        if let last = t.last, last == "n" || last == "c" { t.removeLast() }
        guard let last = t.last else { return nil }
        let factor: Double       // to MB
        switch last {
        case "K", "k": factor = 1.0 / 1024
        case "M", "m": factor = 1
        case "G", "g": factor = 1024
        case "T", "t": factor = 1024 * 1024
        case "P", "p": factor = 1024 * 1024 * 1024
        default:
            guard last.isNumber else { return nil }      // e.g. `16?`
            factor = 1.0 / (1024 * 1024)
        }
        let digits = last.isNumber ? t : String(t.dropLast())
        guard let value = Double(digits), value >= 0 else { return nil }
        return Int((value * factor).rounded(.up))
    }

    /// `a:b` → (exit code a, signal b); nil when empty or malformed.
    public static func exitCode(_ text: String) -> (code: Int32, signal: Int32)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let code = Int32(parts[0]), let signal = Int32(parts[1]) else { return nil }
        return (code, signal)
    }

    /// sacct/squeue timestamps (`2026-11-22T22:30:50`, local time of the cluster); nil for
    /// `Unknown`, `None`, `N/A`. Assumes the cluster and expt share a time zone. Parsed by
    /// hand: DateFormatter costs ~20 µs a call, too much for thousands of rows per poll.
    public static func date(_ text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count == 19, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58 else { return nil }
        func num(_ from: Int, _ count: Int) -> Int? {
            var n = 0
            for i in from..<(from + count) {
                guard u[i] >= 48, u[i] <= 57 else { return nil }
                n = n * 10 + Int(u[i] - 48)
            }
            return n
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
              let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d) else { return nil }
        let days = Units.daysFromCivil(year: y, month: mo, day: d)
        let asUTC = Date(timeIntervalSince1970: TimeInterval(days * 86400 + h * 3600 + mi * 60 + s))
        let offset = localZone.secondsFromGMT(for: asUTC)
        return asUTC.addingTimeInterval(TimeInterval(-offset))
    }

    private static let localZone = TimeZone.current

    /// The base state word: `CANCELLED by 0` → `CANCELLED`, `CANCELLED+` → `CANCELLED`.
    public static func baseState(_ raw: String) -> String {
        var word = raw.split(separator: " ").first.map(String.init) ?? ""
        while word.hasSuffix("+") { word.removeLast() }
        return word.uppercased()
    }

    /// Maps a raw Slurm state (sacct or squeue long form) onto `JobState`, with a reason when
    /// the state itself explains something (requeued, cancelled by whom). An unknown state is
    /// treated as still running, so the caller keeps watching instead of declaring a failure.
    public static func state(_ raw: String) -> (state: JobState, reason: String?) {
        switch baseState(raw) {
        case "PENDING": return (.pending, nil)
        case "RUNNING", "COMPLETING", "CONFIGURING", "RESIZING", "SIGNALING", "STAGE_OUT":
            return (.running, nil)
        case "SUSPENDED", "STOPPED": return (.running, "suspended")
        case "COMPLETED": return (.succeeded, nil)
        case "FAILED", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT":
            return (.failed, baseState(raw) == "FAILED" ? nil : baseState(raw).lowercased())
        case "OUT_OF_MEMORY": return (.oom, nil)
        case "TIMEOUT": return (.timeout, nil)
        case "PREEMPTED": return (.preempted, nil)
        case "NODE_FAIL": return (.nodeFail, nil)
        case "CANCELLED":
            return (.cancelled, raw.contains(" by ") ? raw.lowercased() : nil)
        case "REVOKED": return (.cancelled, "revoked (ran on another cluster)")
        case "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED": return (.pending, "requeued")
        case "RESV_DEL_HOLD": return (.pending, "held: reservation deleted")
        default: return (.running, "unrecognised Slurm state \(raw)")
        }
    }

    /// A job id as sacct/squeue print it, split into its parts.
    public struct JobID: Equatable, Sendable {
        /// The id `sbatch` returned (the array job id for arrays).
        public var base: String
        /// Array task indices this row covers (`6_2` → [2], `6_[2-3]` → [2, 3]); nil for a
        /// plain job or the array as a whole.
        public var tasks: [Int]?
        /// `batch`, `extern`, `0`, ...; nil for an allocation row.
        public var step: String?
    }

    /// Parses `123`, `123.batch`, `123_4`, `123_4.0`, `123_[2-3]`, `123_[0-9%2]`, `123+1`.
    public static func jobID(_ text: String) -> JobID? {
        var rest = Substring(text)
        var step: String?
        if let dot = rest.firstIndex(of: ".") {
            step = String(rest[rest.index(after: dot)...])
            rest = rest[..<dot]
        }
        if let plus = rest.firstIndex(of: "+") { rest = rest[..<plus] }    // heterogeneous job part
        var tasks: [Int]?
        if let underscore = rest.firstIndex(of: "_") {
            let spec = rest[rest.index(after: underscore)...]
            rest = rest[..<underscore]
            if spec.hasPrefix("[") {
                guard spec.hasSuffix("]"), let list = indices(String(spec.dropFirst().dropLast())) else { return nil }
                tasks = list
            } else {
                guard let i = Int(spec) else { return nil }
                tasks = [i]
            }
        }
        guard !rest.isEmpty, rest.allSatisfy(\.isNumber) else { return nil }
        return JobID(base: String(rest), tasks: tasks, step: step)
    }

    /// `0-3,7,9-11:2%4` → [0, 1, 2, 3, 7, 9, 11] (the `%N` throttle is ignored).
    public static func indices(_ text: String) -> [Int]? {
        let body = text.split(separator: "%").first.map(String.init) ?? ""
        var out: [Int] = []
        for part in body.split(separator: ",") {
            let stepParts = part.split(separator: ":")
            let stride = stepParts.count == 2 ? Int(stepParts[1]) : 1
            let range = stepParts[0].split(separator: "-")
            guard let stride, stride > 0, let lo = Int(range[0]) else { return nil }
            let hi = range.count == 2 ? Int(range[1]) : lo
            guard let hi, hi >= lo, range.count <= 2 else { return nil }
            out.append(contentsOf: Swift.stride(from: lo, through: hi, by: stride))
        }
        return out.isEmpty ? nil : out
    }

    /// [0, 1, 2, 3, 7] → `0-3,7`, the `--array` syntax.
    public static func indexList(_ indices: [Int]) -> String {
        let sorted = Array(Set(indices)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
