import Foundation
import ExptModel

/// Reads how far training got (last step, epoch, loss and its trend) from the last lines of
/// the logs. Only lines naming a step, epoch, iteration or loss are looked at.
enum ProgressParser {
    static let maxLines = 300

    static func parse(_ windows: [LogWindow]) -> Progress {
        var progress = Progress()
        var losses: [Double] = []
        for window in windows {
            var picked: [String] = []
            var i = window.lines.count - 1
            while i >= 0, picked.count < maxLines {
                let line = window.lines[i]
                i -= 1
                if line.end - line.start > 4096 {
                    // A tqdm line: only its last redraw says where it stopped.
                    let lo = max(line.start, line.end - 4096)
                    if let text = lastRedraw(window.text(lo, line.end)), mentionsProgress(text) { picked.append(text) }
                    continue
                }
                let text = window.text(line.start, line.end)
                if mentionsProgress(text) { picked.append(lastRedraw(text) ?? text) }
            }
            for text in picked.reversed() { apply(text, to: &progress, losses: &losses) }
        }
        summarize(losses, into: &progress)
        return progress
    }

    /// The success model without a magic line: the last progress line that names a total
    /// (`Epoch [650/650]`, `100%|…| 500/500 [`, `step 3000/3000`) reached it, and so did the run's
    /// epochs when a total of epochs was seen. Its evidence is that line.
    static func completion(_ windows: [LogWindow], overall: Progress) -> Evidence? {
        if let total = overall.totalEpochs, total > 0, (overall.lastEpoch ?? 0) < total { return nil }
        if let total = overall.totalSteps, total > 0, Double(overall.lastStep ?? 0) < 0.9 * Double(total) { return nil }
        for window in windows.reversed() {
            var i = window.lines.count - 1, looked = 0
            while i >= 0, looked < maxLines {
                let line = window.lines[i]
                i -= 1; looked += 1
                let lo = max(line.start, line.end - 4096)
                // Only a line with "N/M" can name a total; the regexes run on those alone.
                guard window.bytes[lo..<line.end].contains(0x2F),
                      let text = lastRedraw(window.text(lo, line.end)), mentionsProgress(text) || text.contains("%|") else { continue }
                var p = Progress(), losses: [Double] = []
                apply(text, to: &p, losses: &losses)
                let epochs = p.totalEpochs.map { t in t > 0 && (p.lastEpoch ?? 0) >= t }
                // A run that logs every k steps prints its last line a few steps short of the
                // epoch's end: within 10% counts once the epochs reached their total.
                let slack = (epochs ?? false) ? 0.9 : 1.0
                let steps = p.totalSteps.map { t in t > 0 && Double(p.lastStep ?? 0) >= slack * Double(t) }
                guard steps != nil || epochs != nil else { continue }
                guard steps ?? true, epochs ?? true else { return nil }
                return Evidence(file: window.label, line: line.number,
                                text: String(text.trimmingCharacters(in: .whitespaces).prefix(300)), rule: "fact:progress-complete")
            }
        }
        return nil
    }

    /// The last tqdm redraw of a line that says something about progress (a trailing
    /// "Killed" redraw does not).
    static func lastRedraw(_ text: String) -> String? {
        guard text.contains("\r") else { return text }
        return text.split(separator: "\r", omittingEmptySubsequences: true)
            .last(where: { mentionsProgress(String($0)) }).map(String.init)
    }

    static func mentionsProgress(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("loss") || lower.contains("step") || lower.contains("epoch")
            || lower.contains("iter") || lower.contains("it/s") || lower.contains("s/it") || lower.contains("batch")
    }

    /// Updates `progress` with the values in one line; later lines overwrite earlier ones.
    static func apply(_ text: String, to progress: inout Progress, losses: inout [Double]) {
        let ns = text as NSString
        let range = NSRange(location: 0, length: ns.length)
        // The step named last on the line wins, whether "step=N" or a tqdm "N/M [".
        let named = stepRegex.matches(in: text, range: range).last
        let bar = tqdmRegex.matches(in: text, range: range).last
        if let m = named, (bar?.range.location ?? -1) < m.range.location, let v = number(ns, m.range(at: 1)) {
            progress.lastStep = toInt(v)
            progress.totalSteps = number(ns, m.range(at: 2)).flatMap(toInt) ?? progress.totalSteps
        } else if let m = bar {
            if let v = number(ns, m.range(at: 1)) {
                progress.lastStep = toInt(v)
                progress.totalSteps = number(ns, m.range(at: 2)).flatMap(toInt)
            } else if let v = number(ns, m.range(at: 3)) {
                progress.lastStep = toInt(v)
            }
        }
        if let m = epochRegex.matches(in: text, range: range).last, let v = number(ns, m.range(at: 1)) {
            progress.lastEpoch = toInt(v)
            progress.totalEpochs = number(ns, m.range(at: 2)).flatMap(toInt) ?? progress.totalEpochs
        }
        for m in lossRegex.matches(in: text, range: range) {
            if let v = number(ns, m.range(at: 1)) { losses.append(v) }
        }
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
