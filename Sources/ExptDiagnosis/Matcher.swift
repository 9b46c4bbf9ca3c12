import Foundation
import ExptModel

/// A rule hit before ranking: the rule, where it matched, and how strong it is there.
struct RawHit {
    var rule: Rule
    var effect: RuleEffect
    var evidence: Evidence
    /// Order of appearance across all inputs (logs in order, then scheduler facts).
    var position: Int
    /// Log index, or -1 for scheduler facts.
    var logIndex: Int
}

/// The log rules of a rule set compiled for fast matching: one Aho-Corasick pass per window
/// finds the lines each pattern could match; the regexes only run on those lines.
struct CompiledRules {
    struct PatternRef { var rule: Int; var pattern: Int }

    let rules: [Rule]
    let patterns: [PatternRef]
    /// Patterns without a derivable literal: they run on every line.
    let unfiltered: [Int]
    /// The patterns each literal wakes, flat: literal i owns `owners[ownerStart[i]..<ownerStart[i + 1]]`.
    /// An owner whose pattern is case-sensitive names the bytes a hit must have in that exact
    /// case (`exactBytes[exactStart..<exactStart + exactCount]`; count 0: any case).
    struct Owner { var ref: Int; var exactStart: Int; var exactCount: Int }
    let owners: [Owner]
    let ownerStart: [Int]
    let exactBytes: [UInt8]
    let matcher: LiteralMatcher

    /// Longest line a regex sees whole; longer lines (a 10 MB tqdm line) are matched in slices
    /// around the literal that made them candidates.
    static let maxRegexLine = 64 << 10
    static let sliceRadius = 4 << 10
    /// Evidence text is clipped to about this many characters around the match.
    static let maxEvidenceChars = 300

    init(_ rules: [Rule]) {
        self.rules = rules
        var patterns: [PatternRef] = []
        var unfiltered: [Int] = []
        var literals: [[UInt8]] = []
        var literalIndex: [[UInt8]: Int] = [:]
        var owners: [[Int]] = []
        var cases: [[[UInt8]?]] = []
        for (r, rule) in rules.enumerated() where rule.source == .log {
            for (p, pattern) in rule.patterns.enumerated() {
                let ref = patterns.count
                patterns.append(PatternRef(rule: r, pattern: p))
                guard let lits = LiteralExtractor.literals(of: pattern) else { unfiltered.append(ref); continue }
                for lit in lits {
                    let exact = LiteralExtractor.exactCase(of: lit, in: pattern)
                    if let id = literalIndex[lit] { owners[id].append(ref); cases[id].append(exact); continue }
                    literalIndex[lit] = literals.count
                    literals.append(lit)
                    owners.append([ref])
                    cases.append([exact])
                }
            }
        }
        self.patterns = patterns
        self.unfiltered = unfiltered
        var flat: [Owner] = [], starts: [Int] = [], bytes: [UInt8] = []
        for (refs, exact) in zip(owners, cases) {
            starts.append(flat.count)
            for (ref, e) in zip(refs, exact) {
                flat.append(Owner(ref: ref, exactStart: bytes.count, exactCount: e?.count ?? 0))
                bytes.append(contentsOf: e ?? [])
            }
        }
        starts.append(flat.count)
        self.owners = flat
        self.ownerStart = starts
        self.exactBytes = bytes
        self.matcher = LiteralMatcher(literals)
    }

    /// Every log-rule match in `window`, at most one per (pattern, line). Regexes run within
    /// `clock`'s budget: a rule out of time is skipped, and `clock` keeps the warning.
    func scan(_ window: LogWindow, logIndex: Int, positionBase: Int, prefilter: Bool = true,
              clock: inout RuleClock) -> [RawHit] {
        let candidates = candidatePatterns(window, prefilter: prefilter)
        var hits: [RawHit] = []
        var textCache: [Int: String] = [:]
        var seen: Set<Int> = []
        for (ref, lineIdx, offset) in candidates {
            let pr = patterns[ref]
            let rule = rules[pr.rule]
            let regex = rule.regexes[pr.pattern].regex
            // One hit per (rule, line): several patterns of a rule often match the same line.
            guard !seen.contains(pr.rule &* 1_000_003 &+ lineIdx), clock.hasTime(rule.id) else { continue }
            let line = window.lines[lineIdx]
            let text: String
            if line.end - line.start <= CompiledRules.maxRegexLine {
                if let cached = textCache[lineIdx] { text = cached } else {
                    text = CompiledRules.normalize(window.text(line.start, line.end))
                    textCache[lineIdx] = text
                }
            } else {
                let lo = max(line.start, offset - CompiledRules.sliceRadius)
                let hi = min(line.end, offset + CompiledRules.sliceRadius)
                text = CompiledRules.normalize(window.text(lo, hi))
            }
            let ns = text as NSString
            let outcome = clock.firstMatch(regex, rule: rule.id, in: text, range: NSRange(location: 0, length: ns.length),
                                           at: Evidence(file: window.label, line: line.number, text: "").location)
            guard case .match(let m) = outcome else { continue }
            let snippet = CompiledRules.snippet(ns, around: m.range)
            var effect = rule.effect
            seen.insert(pr.rule &* 1_000_003 &+ lineIdx)
            if effect == .fatal, CompiledRules.isSoftContext(ns, matchStart: m.range.location)
                || CompiledRules.isTracebackSource(window, lineIdx) { effect = .weak }
            hits.append(RawHit(rule: rule, effect: effect,
                               evidence: Evidence(file: window.label, line: line.number, text: snippet, rule: rule.id),
                               position: positionBase + lineIdx, logIndex: logIndex))
        }
        return hits
    }

    /// A source line echoed in a Python traceback (`    raise FileNotFoundError(...)` under a
    /// `  File "x.py", line 3, in f` line) names an exception without raising it.
    static func isTracebackSource(_ window: LogWindow, _ lineIdx: Int) -> Bool {
        guard lineIdx > 0 else { return false }
        let line = window.lines[lineIdx], prev = window.lines[lineIdx - 1]
        guard line.end - line.start >= 4, prev.end - prev.start < 4096 else { return false }
        let b = window.bytes
        guard b[line.start] == 32, b[line.start + 1] == 32, b[line.start + 2] == 32, b[line.start + 3] == 32 else {
            return false
        }
        let previous = window.text(prev.start, prev.end)
        return previous.contains("File \"") && previous.contains("\", line ")
    }

    /// The (rule id, line index) pairs the prefilter would hand to the regexes; tests use it to
    /// keep ordinary training lines from becoming candidates, and name the rules when they do.
    func candidates(_ window: LogWindow) -> [(rule: String, line: Int)] {
        candidatePatterns(window).map { (rules[patterns[$0.ref].rule].id, $0.line) }
    }

    /// The (pattern, line, offset of the last literal occurrence in the line) pairs the regexes
    /// run on, by pattern then line. Sparse: a window wakes a handful of the thousands of
    /// patterns, so nothing here costs per pattern.
    func candidatePatterns(_ window: LogWindow, prefilter: Bool = true) -> [(ref: Int, line: Int, offset: Int)] {
        let lineStarts = window.lines.map(\.start)
        var found: [(ref: Int, line: Int, offset: Int)] = []
        func everyLine(_ ref: Int) {
            for (i, line) in window.lines.enumerated() { found.append((ref, i, max(line.start, line.end - 1))) }
        }
        if prefilter {
            window.bytes.withUnsafeBufferPointer { buf in
                matcher.scan(buf, 0..<buf.count) { literal, offset in
                    let line = CompiledRules.lineIndex(of: offset, in: lineStarts)
                    for k in ownerStart[literal]..<ownerStart[literal + 1] where inItsCase(owners[k], buf, endingAt: offset) {
                        found.append((owners[k].ref, line, offset))
                    }
                }
            }
            for ref in unfiltered { everyLine(ref) }
        } else {
            for ref in patterns.indices { everyLine(ref) }
        }
        found.sort { $0.ref != $1.ref ? $0.ref < $1.ref : $0.line != $1.line ? $0.line < $1.line : $0.offset < $1.offset }
        var candidates: [(ref: Int, line: Int, offset: Int)] = []
        candidates.reserveCapacity(found.count)
        for c in found {
            if let last = candidates.last, last.ref == c.ref, last.line == c.line { candidates[candidates.count - 1] = c } else { candidates.append(c) }
        }
        return candidates
    }

    /// Whether the literal hit ending at `offset` has the case its owner's pattern requires.
    private func inItsCase(_ o: Owner, _ buf: UnsafeBufferPointer<UInt8>, endingAt offset: Int) -> Bool {
        guard o.exactCount > 0 else { return true }
        let start = offset - o.exactCount + 1
        return start >= 0 && (0..<o.exactCount).allSatisfy { buf[start + $0] == exactBytes[o.exactStart + $0] }
    }

    static func lineIndex(of offset: Int, in starts: [Int]) -> Int {
        var lo = 0, hi = starts.count - 1
        if hi < 0 { return 0 }
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// tqdm redraws become separate lines for the regex (anchors match per redraw).
    static func normalize(_ s: String) -> String {
        s.contains("\r") ? s.replacingOccurrences(of: "\r", with: "\n") : s
    }

    /// The redraw (segment between `\n`s) holding the match, trimmed and clipped.
    ///
    /// A redraw longer than the clip is redacted whole first and clipped afterwards, around
    /// where the match ended up: a clip that started inside a token (`p_1234…` of `ghp_1234…`) or
    /// between a name and its value would otherwise hide the secret from the redaction that
    /// runs later on the clipped text. A shorter redraw is kept whole, so that later redaction
    /// sees the whole line. The clip never cuts a `[REDACTED]` mark in half.
    static func snippet(_ ns: NSString, around range: NSRange) -> String {
        var start = range.location
        while start > 0, !isNewline(ns.character(at: start - 1)) { start -= 1 }
        var end = range.location + range.length
        while end < ns.length, !isNewline(ns.character(at: end)) { end += 1 }
        let limit = maxEvidenceChars
        var line = ns.substring(with: NSRange(location: start, length: end - start))
        if end - start > limit {
            let redacted = Redactor.redact(line, tracking: NSRange(location: range.location - start, length: range.length))
            let r = redacted.text as NSString
            let match = redacted.range
            var lo = 0, hi = r.length
            if hi > limit {
                lo = match.location - min(match.location, limit / 3)
                hi = min(hi, lo + max(limit, match.length))
                (lo, hi) = widenedOverMarks(r, lo, hi)
            }
            line = r.substring(with: NSRange(location: lo, length: hi - lo))
        }
        let text = line.trimmingCharacters(in: .whitespaces)
        guard text.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 }) else { return text }
        return String(text.unicodeScalars.map { $0.value < 0x20 && $0 != "\t" ? " " : Character($0) })
    }

    /// CharacterSet.newlines as UTF-16 units (\n, \u{0B}, \u{0C}, \r, NEL, LS, PS), without a
    /// set lookup per character.
    static func isNewline(_ u: UInt16) -> Bool {
        (u >= 0x0A && u <= 0x0D) || u == 0x85 || u == 0x2028 || u == 0x2029
    }

    /// `lo..<hi` moved outwards so that neither end falls inside a `[REDACTED]` mark.
    static func widenedOverMarks(_ ns: NSString, _ lo: Int, _ hi: Int) -> (Int, Int) {
        let mark = Redactor.mark, width = (Redactor.mark as NSString).length
        func markAround(_ i: Int) -> NSRange? {
            let from = max(0, i - width + 1), to = min(ns.length, i + width - 1)
            guard to > from else { return nil }
            let hit = ns.range(of: mark, options: [], range: NSRange(location: from, length: to - from))
            guard hit.location != NSNotFound, hit.location < i, i < hit.location + hit.length else { return nil }
            return hit
        }
        let newLo = markAround(lo)?.location ?? lo
        let newHi = markAround(hi).map { $0.location + $0.length } ?? hi
        return (newLo, newHi)
    }

    /// Warnings and retry messages report a problem the program survived: a fatal rule
    /// matching inside one counts as weak ("UserWarning: CUDA initialization: ... driver too old",
    /// "Retrying (Retry(total=4)) after connection broken by NewConnectionError").
    static func isSoftContext(_ ns: NSString, matchStart: Int) -> Bool {
        var start = matchStart
        while start > 0, !isNewline(ns.character(at: start - 1)) { start -= 1 }
        var end = matchStart
        while end < ns.length, !isNewline(ns.character(at: end)) { end += 1 }
        let segment = ns.substring(with: NSRange(location: start, length: end - start))
        let prefix = ns.substring(with: NSRange(location: start, length: matchStart - start))
        let range = NSRange(location: 0, length: (prefix as NSString).length)
        if softPrefix.firstMatch(in: prefix, options: [], range: range) != nil { return true }
        let segRange = NSRange(location: 0, length: (segment as NSString).length)
        return retryContext.firstMatch(in: segment, options: [], range: segRange) != nil
    }

    // "Warning:"/"WARNING" log levels, glog's W-prefix, NCCL's INFO level (its plugin probe
    // prints "cannot open shared object file" on every healthy start); not Kubernetes' event
    // type column ("Warning  FailedMount ..."), which is how real failures are reported there.
    private static let softPrefix = try! NSRegularExpression(
        pattern: #"[A-Za-z]*Warning:|\bWARN(ING)?\b[:\]\s]|\bNCCL INFO\b|^\s*(\[[^\]]*\]:?\s*)?W\d{4} |^\s*\[W |(^|\s)W [a-z_]+/"#, options: [])
    // A retry *message*, not an identifier that contains the word (an Argo workflow named
    // "retry-sample-x", a "max_retry=3" setting); Nextflow's "-- Execution is retried (1)" and
    // "-- Error is ignored" end a failed task's line that did not end the run.
    private static let retryContext = try! NSRegularExpression(
        pattern: #"(?i)(?<![-\w./])retr(y|ying|ied)(?![-\w./])|will retry|entering retry loop|attempt \d+ of|-- Error is ignored"#, options: [])
}
