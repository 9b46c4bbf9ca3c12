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
        // Read from the end: the last line naming a step decides the step, and the step and
        // epoch regexes stop running once every value is decided; only the loss history (its
        // trend) needs all picked lines. Same answers as applying the lines in order.
        var progress = Progress()
        var lossesBackward: [[Double]] = []
        var step = Resolution<(last: Int?, total: Int?)>(), epoch = Resolution<(last: Int?, total: Int?)>()
        var lastTotal: Evidence?, lastTotalLine: Progress?
        for window in windows.reversed() {
            var i = window.lines.count - 1, picked = 0
            while i >= 0, picked < maxLines {
                let line = window.lines[i]
                i -= 1
                let raw = line.end - line.start > 4096
                    ? lastRedraw(window.text(max(line.start, line.end - 4096), line.end))   // a tqdm line: its last redraw
                    : window.text(line.start, line.end)
                guard let whole = raw, mentionsProgress(whole) else { continue }
                picked += 1
                let text = line.end - line.start > 4096 ? whole : (lastRedraw(whole) ?? whole)
                let lower = text.lowercased()
                let ns = text as NSString
                let range = NSRange(location: 0, length: ns.length)
                let wantTotal = lastTotal == nil
                var own = Progress()
                if !step.done || wantTotal, let s = stepOf(text, lower, ns, range) {
                    own.lastStep = s.step; own.totalSteps = s.total
                    if !step.done {
                        if step.value == nil { step.value = (s.step, nil) }
                        // A bar's N/M and a named "step N/M" give the total; "Nit [" and a bare
                        // "step N" leave it to an earlier line.
                        if let t = s.total { step.value?.total = t; step.done = true }
                    }
                }
                if !epoch.done || wantTotal, has(lower, "epoch"), let e = epochOf(ns, range) {
                    own.lastEpoch = e.epoch; own.totalEpochs = e.total
                    if !epoch.done {
                        if epoch.value == nil { epoch.value = (e.epoch, nil) }
                        if let t = e.total { epoch.value?.total = t; epoch.done = true }
                    }
                }
                if wantTotal, own.totalSteps != nil || own.totalEpochs != nil {
                    lastTotalLine = own
                    lastTotal = Evidence(file: window.label, line: line.number,
                                         text: String(text.trimmingCharacters(in: .whitespaces).prefix(300)), rule: "fact:progress-complete")
                }
                if has(lower, "loss") {
                    lossesBackward.append(LossScanner.values(lower))
                }
            }
        }
        progress.lastStep = step.value?.last; progress.totalSteps = step.value?.total
        progress.lastEpoch = epoch.value?.last; progress.totalEpochs = epoch.value?.total
        summarize(lossesBackward.reversed().flatMap { $0 }, into: &progress)
        let completion = lastTotalLine.flatMap { completed($0, overall: progress) ? lastTotal : nil }
        return (progress, completion)
    }

    /// A value read from the end of the logs: set by the last line naming it, done once its
    /// total is known too.
    struct Resolution<T> { var value: T?; var done = false }

    /// The step a line names: the one named last, whether "step=N" or a tqdm "N/M [".
    static func stepOf(_ text: String, _ lower: String, _ ns: NSString, _ range: NSRange) -> (step: Int?, total: Int?)? {
        let hasStepWord = has(lower, "step") || has(lower, "iter") || has(lower, "batch")
        let named = hasStepWord ? stepRegex.matches(in: text, range: range).last : nil
        // tqdm's "N/M [" or "Nit [": both need a " [".
        let bar = has(text, " [") && (has(text, "/") || has(text, "it [")) ? tqdmRegex.matches(in: text, range: range).last : nil
        if let m = named, (bar?.range.location ?? -1) < m.range.location, let v = number(ns, m.range(at: 1)) {
            return (toInt(v), number(ns, m.range(at: 2)).flatMap(toInt))
        }
        guard let m = bar else { return nil }
        if let v = number(ns, m.range(at: 1)) { return (toInt(v), number(ns, m.range(at: 2)).flatMap(toInt)) }
        if let v = number(ns, m.range(at: 3)) { return (toInt(v), nil) }
        return nil
    }

    static func epochOf(_ ns: NSString, _ range: NSRange) -> (epoch: Int?, total: Int?)? {
        guard let m = epochRegex.matches(in: ns as String, range: range).last, let v = number(ns, m.range(at: 1)) else { return nil }
        return (toInt(v), number(ns, m.range(at: 2)).flatMap(toInt))
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
        guard has(text, "\r") else { return text }
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
        return number(lowercased: ns.substring(with: r).lowercased())
    }

    static func number(lowercased s: String) -> Double? {
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
    // "best epoch: 28" in an end summary names the best epoch, not the last one.
    private static let epochRegex = try! NSRegularExpression(
        pattern: #"(?i)(?<![a-z])(?<!best[ _])epoch(?![a-z])["']?\s*[:=]?\s*\[?(\d+)(?:\s*/\s*(\d+))?"#)
    /// The loss values of a line, as `LossScanner` reads them (kept for the test that checks the
    /// scanner against it).
    static let lossRegex = try! NSRegularExpression(
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

/// The values `ProgressParser.lossRegex` finds on a line, read from the lowercased line's bytes
/// without ICU (a regex per line was most of the time of diagnosing a thousand small task logs):
/// `loss` not inside a word and not `val_`/`valid_`/`eval_`/`test_`/`val/` loss (an optional
/// `train_`, `train/` or `train ` before it), then an optional quote, `:` or `=`, and a number,
/// `nan` or `inf`.
enum LossScanner {
    static func values(_ lower: String) -> [Double] {
        var text = lower
        return text.withUTF8 { b in
            var out: [Double] = []
            var i = 0
            while i + 4 <= b.count {
                guard b[i] == 0x6C, b[i + 1] == 0x6F, b[i + 2] == 0x73, b[i + 3] == 0x73 else { i += 1; continue }  // "loss"
                if acceptedStart(b, i) || (hasTrainPrefix(b, i) && acceptedStart(b, i - 6)),
                   i + 4 == b.count || !isLetter(b[i + 4]),
                   let (value, end) = number(b, afterLossAt: i + 4) {
                    out.append(value)
                    i = end
                } else {
                    i += 1
                }
            }
            return out
        }
    }

    static func isLetter(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) }

    /// `train_`, `train/` or `train ` right before `i`.
    static func hasTrainPrefix(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        guard i >= 6, [0x5F, 0x2F, 0x20].contains(b[i - 1]) else { return false }
        return Array(b[(i - 6)..<(i - 1)]) == Array("train".utf8)
    }

    /// The regex's look-behinds at a match start: no letter, and no `val_`, `valid_`, `eval_`,
    /// `test_` or `val/` just before.
    static func acceptedStart(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        if i > 0, isLetter(b[i - 1]) { return false }
        for word in ["val_", "valid_", "eval_", "test_", "val/"] {
            let w = Array(word.utf8)
            if i >= w.count, Array(b[(i - w.count)..<i]) == w { return false }
        }
        return true
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0B || c == 0x0C }
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// `["']?\s*[:=]?\s*` then a number; the value and where the match ends.
    static func number(_ b: UnsafeBufferPointer<UInt8>, afterLossAt start: Int) -> (Double, Int)? {
        var j = start
        if j < b.count, b[j] == 0x22 || b[j] == 0x27 { j += 1 }
        while j < b.count, isSpace(b[j]) { j += 1 }
        if j < b.count, b[j] == 0x3A || b[j] == 0x3D { j += 1 }
        while j < b.count, isSpace(b[j]) { j += 1 }
        let numberStart = j
        if j < b.count, b[j] == 0x2B || b[j] == 0x2D { j += 1 }
        func word(_ w: String) -> Bool {
            let u = Array(w.utf8)
            return j + u.count <= b.count && Array(b[j..<(j + u.count)]) == u
        }
        if word("nan") { j += 3 } else if word("infinity") { j += 8 } else if word("inf") { j += 3 } else {
            guard j < b.count, isDigit(b[j]) else { return nil }
            while j < b.count, isDigit(b[j]) { j += 1 }
            if j + 1 < b.count, b[j] == 0x2E, isDigit(b[j + 1]) {
                j += 1
                while j < b.count, isDigit(b[j]) { j += 1 }
            }
            if j < b.count, b[j] == 0x65 {
                var k = j + 1
                if k < b.count, b[k] == 0x2B || b[k] == 0x2D { k += 1 }
                if k < b.count, isDigit(b[k]) {
                    while k < b.count, isDigit(b[k]) { k += 1 }
                    j = k
                }
            }
        }
        // The bytes are lower-case ASCII already: a small string and Double's own parser, with no
        // NSString bridge (a 1,000-task array reads 20,000 losses).
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[numberStart..<j]), as: UTF8.self)
        guard let value = ProgressParser.number(lowercased: text) else { return nil }
        return (value, j)
    }
}
