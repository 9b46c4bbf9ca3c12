import Foundation
import ExptModel

/// Reads how far training got (last step, epoch, loss and its trend) from the last lines of
/// the logs. Only lines naming a step, epoch, iteration or loss are looked at.
enum ProgressParser {
    static let maxLines = 300

    static func parse(_ windows: [LogWindow]) -> Progress { read(windows).progress }

    /// How far the run got, and the success model without a magic line: the last progress line
    /// that names a total (`Epoch [650/650]`, `100%|…| 500/500 [`, `step 3000/3000`) reached it,
    /// and so did the run's epochs when a total of epochs was seen (then a step count within 10%
    /// of its total counts: a run logging every k steps prints its last line a few short). The
    /// completion's evidence is that line. One pass: each picked line is parsed once.
    static func read(_ windows: [LogWindow]) -> (progress: Progress, completion: Evidence?) {
        var progress = Progress()
        var losses: [Double] = []
        // The last line naming a total, with what it said on its own.
        var lastTotal: (line: Progress, evidence: Evidence)?
        for window in windows {
            var picked: [(text: String, number: Int)] = []
            var i = window.lines.count - 1
            while i >= 0, picked.count < maxLines {
                let line = window.lines[i]
                i -= 1
                if line.end - line.start > 4096 {
                    // A tqdm line: only its last redraw says where it stopped.
                    let lo = max(line.start, line.end - 4096)
                    if let text = lastRedraw(window.text(lo, line.end)), mentionsProgress(text) { picked.append((text, line.number)) }
                    continue
                }
                let text = window.text(line.start, line.end)
                if mentionsProgress(text) { picked.append((lastRedraw(text) ?? text, line.number)) }
            }
            for (text, number) in picked.reversed() {
                let own = apply(text, to: &progress, losses: &losses)
                if own.totalSteps != nil || own.totalEpochs != nil {
                    lastTotal = (own, Evidence(file: window.label, line: number,
                                              text: String(text.trimmingCharacters(in: .whitespaces).prefix(300)), rule: "fact:progress-complete"))
                }
            }
        }
        summarize(losses, into: &progress)
        return (progress, lastTotal.flatMap { completed($0.line, overall: progress) ? $0.evidence : nil })
    }

    static func completed(_ p: Progress, overall: Progress) -> Bool {
        func reached(_ last: Int?, _ total: Int?, slack: Double) -> Bool? {
            total.map { t in t > 0 && Double(last ?? 0) >= slack * Double(t) }
        }
        guard reached(overall.lastEpoch, overall.totalEpochs, slack: 1) ?? true,
              reached(overall.lastStep, overall.totalSteps, slack: 0.9) ?? true else { return false }
        let epochs = reached(p.lastEpoch, p.totalEpochs, slack: 1)
        let steps = reached(p.lastStep, p.totalSteps, slack: (epochs ?? false) ? 0.9 : 1)
        guard steps != nil || epochs != nil else { return false }
        return (steps ?? true) && (epochs ?? true)
    }

    /// The last tqdm redraw of a line that says something about progress (a trailing
    /// "Killed" redraw does not).
    static func lastRedraw(_ text: String) -> String? {
        guard text.contains("\r") else { return text }
        return text.split(separator: "\r", omittingEmptySubsequences: true)
            .last(where: { mentionsProgress(String($0)) }).map(String.init)
    }

    /// Substring search on the UTF-8 bytes: Foundation's `contains` on Linux goes through
    /// CFStringFind, which was the largest cost of diagnosing a thousand small task logs.
    @inline(__always)
    static func has(_ text: String, _ needle: String) -> Bool {
        var text = text, needle = needle
        return text.withUTF8 { t in
            needle.withUTF8 { n in
                guard let first = n.first else { return true }
                guard t.count >= n.count else { return false }
                var i = 0
                while i <= t.count - n.count {
                    if t[i] == first {
                        var j = 1
                        while j < n.count, t[i + j] == n[j] { j += 1 }
                        if j == n.count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }

    static func mentionsProgress(_ text: String) -> Bool {
        let lower = text.lowercased()
        return has(lower, "loss") || has(lower, "step") || has(lower, "epoch")
            || has(lower, "iter") || has(lower, "it/s") || has(lower, "s/it") || has(lower, "batch")
    }

    /// Updates `progress` with the values in one line (later lines overwrite earlier ones) and
    /// returns what the line said on its own. Each regex runs only on a line with its keyword.
    @discardableResult
    static func apply(_ text: String, to progress: inout Progress, losses: inout [Double]) -> Progress {
        var own = Progress()
        let lower = text.lowercased()
        let ns = text as NSString
        let range = NSRange(location: 0, length: ns.length)
        let hasStepWord = has(lower, "step") || has(lower, "iter") || has(lower, "batch")
        let hasSlash = has(text, "/") || has(text, "it [")
        // The step named last on the line wins, whether "step=N" or a tqdm "N/M [".
        let named = hasStepWord ? stepRegex.matches(in: text, range: range).last : nil
        let bar = hasSlash ? tqdmRegex.matches(in: text, range: range).last : nil
        if let m = named, (bar?.range.location ?? -1) < m.range.location, let v = number(ns, m.range(at: 1)) {
            own.lastStep = toInt(v)
            own.totalSteps = number(ns, m.range(at: 2)).flatMap(toInt)
            progress.lastStep = own.lastStep
            progress.totalSteps = own.totalSteps ?? progress.totalSteps
        } else if let m = bar {
            if let v = number(ns, m.range(at: 1)) {
                own.lastStep = toInt(v)
                own.totalSteps = number(ns, m.range(at: 2)).flatMap(toInt)
                progress.lastStep = own.lastStep
                progress.totalSteps = own.totalSteps
            } else if let v = number(ns, m.range(at: 3)) {
                own.lastStep = toInt(v)
                progress.lastStep = own.lastStep
            }
        }
        if has(lower, "epoch"), let m = epochRegex.matches(in: text, range: range).last, let v = number(ns, m.range(at: 1)) {
            own.lastEpoch = toInt(v)
            own.totalEpochs = number(ns, m.range(at: 2)).flatMap(toInt)
            progress.lastEpoch = own.lastEpoch
            progress.totalEpochs = own.totalEpochs ?? progress.totalEpochs
        }
        if has(lower, "loss") {
            for m in lossRegex.matches(in: text, range: range) {
                if let v = number(ns, m.range(at: 1)) { losses.append(v) }
            }
        }
        return own
    }

    static func summarize(_ losses: [Double], into progress: inout Progress) {
        guard let last = losses.last else { return }
        progress.lastLoss = last
        let finite = losses.filter { $0.isFinite }
        progress.minLoss = finite.min()
        if !last.isFinite { progress.lossTrend = "nan"; return }
        guard finite.count >= 3, let first = finite.first, let minimum = finite.min() else { return }
        if last > max(10 * abs(minimum), abs(minimum) + 10), last > first {
            progress.lossTrend = "diverging"
        } else if last < first * 0.9 {
            progress.lossTrend = "decreasing"
        } else {
            progress.lossTrend = "flat"
        }
    }

    /// Nil for NaN, infinities and absurd values rather than a trap.
    static func toInt(_ v: Double) -> Int? { v.isFinite && abs(v) < 1e15 ? Int(v) : nil }

    static func number(_ ns: NSString, _ r: NSRange) -> Double? {
        guard r.location != NSNotFound else { return nil }
        let s = ns.substring(with: r).lowercased()
        switch s {
        case "nan", "-nan", "+nan": return .nan
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return Double(s)
        }
    }

    private static let num = #"([-+]?(?:nan|inf(?:inity)?|\d+(?:\.\d+)?(?:e[-+]?\d+)?))"#
    private static let stepRegex = try! NSRegularExpression(
        pattern: #"(?<![A-Za-z])(?:global_step|[Ss]tep|[Ii]teration|[Ii]ter|[Bb]atch)(?![A-Za-z_])["']?\s*[:=]?\s*\[?(\d+(?:\.\d+)?(?:e\+?\d+)?)(?:\s*/\s*(\d+))?"#)
    private static let tqdmRegex = try! NSRegularExpression(
        pattern: #"(?:\b(\d+)/(\d+) \[|\b(\d+)it \[)"#)
    private static let epochRegex = try! NSRegularExpression(
        pattern: #"(?i)(?<![a-z])epoch(?![a-z])["']?\s*[:=]?\s*\[?(\d+)(?:\s*/\s*(\d+))?"#)
    private static let lossRegex = try! NSRegularExpression(
        pattern: #"(?i)(?<![a-z])(?<!val_)(?<!valid_)(?<!eval_)(?<!test_)(?<!val/)(?:train[_/ ])?loss(?![a-z])["']?\s*[:=]?\s*"# + num)
}

extension Progress {
    /// How far a run got, from the end of its output as read through its backend: the same
    /// parser `diagnose` uses, so `status` and `diagnose` never disagree.
    public static func read(_ chunk: LogChunk, label: String = "stdout") -> Progress {
        ProgressParser.parse([LogReader.window(label: label, chunk: chunk, limits: .default)])
    }

    /// "epoch 2, step 340/1000", or nil when the output names neither.
    public var summary: String? {
        var parts: [String] = []
        if let e = lastEpoch { parts.append("epoch \(e)" + (totalEpochs.map { "/\($0)" } ?? "")) }
        if let s = lastStep { parts.append("step \(s)" + (totalSteps.map { "/\($0)" } ?? "")) }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
