#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Sizes and durations as users write them in expt.toml and on the command line.
public enum Units {
    /// Days from 1970-01-01 to a civil date, proleptic Gregorian (Howard Hinnant's
    /// days_from_civil): the hand-written timestamp parsers (the ledger's, Slurm's) share it.
    public static func daysFromCivil(year y: Int, month mo: Int, day d: Int) -> Int {
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// "4G" → 4096, "512M" → 512, "1.5G" → 1536, "2048" (plain) → 2048 MiB. K, M, G, T are
    /// binary units, as Slurm reads them.
    public static func megabytes(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
            .replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
        guard let last = t.last else { return nil }
        let factor: Double
        var number = t
        switch last {
        case "K": factor = 1.0 / 1024; number.removeLast()
        case "M": factor = 1; number.removeLast()
        case "G": factor = 1024; number.removeLast()
        case "T": factor = 1024 * 1024; number.removeLast()
        default: factor = 1
        }
        guard let v = Double(number), v > 0, v.isFinite, v * factor <= Double(maxMegabytes) else { return nil }
        return max(1, Int((v * factor).rounded()))
    }

    /// The largest size expt accepts, 1024T (1 PiB, in MiB): far above any node, far below
    /// what overflows an Int (R25: a huge size used to crash expt).
    public static let maxMegabytes = 1 << 30

    /// Why `megabytes` refused `text`, in words for an error message.
    public static func sizeProblem(_ text: String) -> String {
        // Called when `megabytes` refused it: a good number with a good unit was too large.
        let t = text.trimmingCharacters(in: .whitespaces)
        let digits = t.prefix { $0.isNumber || $0 == "." }
        if let v = Double(digits), v > 0, megabytes("1" + t.dropFirst(digits.count)) != nil {
            return "'\(text)' is too large: at most 1024T"
        }
        return "'\(text)' is not a size like 4G or 512M"
    }

    /// 4096 → "4G", 1536 → "1536M": the Slurm-style spelling.
    public static func memoryString(_ mb: Int) -> String {
        mb % 1024 == 0 ? "\(mb / 1024)G" : "\(mb)M"
    }

    /// "[D-]HH:MM:SS", "MM:SS", "D-HH", a number with s/m/h/d ("90m"), or a bare number of
    /// minutes (as Slurm's --time) → seconds.
    public static func seconds(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.isEmpty { return nil }
        if let unit = t.last, "smhd".contains(unit), let v = Double(t.dropLast()), v > 0, v < 1e9 {
            let f: Double = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 86400
            return Int((v * f).rounded())
        }
        var days = 0
        var rest = Substring(t)
        if let dash = t.firstIndex(of: "-") {
            guard let d = Int(t[..<dash]), d >= 0 else { return nil }
            days = d
            rest = t[t.index(after: dash)...]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.contains(where: { $0 == nil || $0! < 0 }) else { return nil }
        let p = parts.map { $0! }
        let hasDays = t.contains("-")
        // Slurm's fields: minutes and seconds below 60 (25:99:99 is a typo, not 1-02:40:39), hours
        // below 24 after a day count; and nothing that overflows.
        if p.count >= 2, p.dropFirst().contains(where: { $0 >= 60 }) { return nil }
        if hasDays, let h = p.first, h >= 24 { return nil }
        if days > 365_000 || p.contains(where: { $0 > 10_000_000 }) { return nil }
        var total: Int
        switch p.count {
        case 1: total = hasDays ? p[0] * 3600 : p[0] * 60
        case 2: total = hasDays ? p[0] * 3600 + p[1] * 60 : p[0] * 60 + p[1]
        case 3: total = p[0] * 3600 + p[1] * 60 + p[2]
        default: return nil
        }
        total += days * 86400
        return total > 0 ? total : nil
    }

    /// 3725 → "01:02:05", 90061 → "1-01:01:01": Slurm's --time spelling.
    public static func durationString(_ s: Int) -> String {
        let d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60, sec = s % 60
        let hms = String(format: "%02d:%02d:%02d", h, m, sec)
        return d > 0 ? "\(d)-\(hms)" : hms
    }

    /// 14400 → "4h", 5400 → "1h30m", 90 → "1m30s": an exact duration in words, for limits.
    public static func duration(_ s: Int) -> String {
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        var out = ""
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if sec > 0 || out.isEmpty { out += "\(sec)s" }
        return out
    }

    /// Elapsed times as people read them at a glance: 45s, 12m03s, 3h07m, 2d04h.
    public static func elapsed(_ s: Int) -> String {
        // Interpolation, not String(format:), which goes through CFString on Linux (a twentieth
        // of `status --all`'s 1,000 rows).
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + two(s % 60) + "s" }
        if s < 86400 { return "\(s / 3600)h" + two((s % 3600) / 60) + "m" }
        return "\(s / 86400)d" + two((s % 86400) / 3600) + "h"
    }
}

/// Date formatting used in docs and messages.
public enum ISO8601 {
    // Formatters are expensive to make (a third of `expt list` with 500 rows made one per row).
    // Both are configured once and only read after: formatting from several threads is safe.
    private static let dayFormatter: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.dateFormat = "yyyy-MM-dd"
        return f
    }()
    nonisolated(unsafe) private static let timestampFormatter = ISO8601DateFormatter()

    public static func day(_ d: Date) -> String { dayFormatter.string(from: d) }
    /// `2026-11-24T10:00:00Z`, as ISO8601DateFormatter writes it, from gmtime_r: the formatter
    /// went through CFDateFormatter for every row of `expt list`.
    /// `asFormatStyle`: as `Date.ISO8601FormatStyle` writes it (`--json`), which drops the
    /// fraction without rounding it to the millisecond first.
    public static func timestamp(_ d: Date, asFormatStyle: Bool = false) -> String {
        // ISO8601DateFormatter rounds to the millisecond first, then down; the format style only down.
        let seconds = asFormatStyle ? d.timeIntervalSince1970 : (d.timeIntervalSince1970 * 1000).rounded() / 1000
        var t = time_t(seconds.rounded(.down))
        var parts = tm()
        guard gmtime_r(&t, &parts) != nil, parts.tm_year + 1900 >= 0, parts.tm_year + 1900 <= 9999 else {
            return asFormatStyle ? d.formatted(.iso8601) : timestampFormatter.string(from: d)
        }
        // Twenty ASCII bytes written in place: string concatenation was 7,000 instructions a row.
        return String(unsafeUninitializedCapacity: 20) { b in
            func digits(_ v: Int32, _ n: Int, at i: Int) {
                var v = v
                for k in stride(from: i + n - 1, through: i, by: -1) { b[k] = UInt8(0x30 + v % 10); v /= 10 }
            }
            digits(parts.tm_year + 1900, 4, at: 0); b[4] = UInt8(ascii: "-")
            digits(parts.tm_mon + 1, 2, at: 5); b[7] = UInt8(ascii: "-")
            digits(parts.tm_mday, 2, at: 8); b[10] = UInt8(ascii: "T")
            digits(parts.tm_hour, 2, at: 11); b[13] = UInt8(ascii: ":")
            digits(parts.tm_min, 2, at: 14); b[16] = UInt8(ascii: ":")
            digits(parts.tm_sec, 2, at: 17); b[19] = UInt8(ascii: "Z")
            return 20
        }
    }
}
