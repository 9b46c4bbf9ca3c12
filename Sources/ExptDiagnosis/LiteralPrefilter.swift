/// Required literals of a regex, so a window is scanned once for all rules (Aho-Corasick) and a
/// regex only runs on lines that contain one of its literals — the trick ripgrep uses. Running
/// ~150 NSRegularExpressions over every line of a 1 MiB window would blow the time budget.
enum LiteralExtractor {
    /// Shortest literal worth filtering on; shorter ones match almost every line.
    static let minLength = 3

    /// Lowercased literals such that every match of `pattern` contains at least one of them,
    /// or nil when no such set could be derived (the pattern then runs on every line).
    static func literals(of pattern: String) -> [[UInt8]]? {
        let bytes = Array(pattern.utf8)
        let caseInsensitive = pattern.contains("(?i")
        return literals(bytes, caseInsensitive: caseInsensitive)
    }

    static func literals(_ bytes: [UInt8], caseInsensitive: Bool) -> [[UInt8]]? {
        var result: [[UInt8]] = []
        for branch in topLevelBranches(bytes) {
            guard let best = requiredLiterals(branch, asciiOnly: caseInsensitive) else { return nil }
            result.append(contentsOf: best.map { $0.map(lower) })
        }
        return result.isEmpty ? nil : result
    }

    static func lower(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b + 32 : b }

    /// The literal as the pattern spells it, when a match must contain it in exactly that case:
    /// the pattern sets no inline flag (`(?i)`, `(?x)`…) and every spelling of the literal in the
    /// pattern's source is the same. The automaton folds case, so this check at a hit keeps a
    /// `COMPLETED` column rule from waking on "Training completed." Nil when unsure.
    static func exactCase(of literal: [UInt8], in pattern: String) -> [UInt8]? {
        let p = Array(pattern.utf8)
        guard literal.count >= minLength, p.count >= literal.count else { return nil }
        for i in 0..<(p.count - 2) where p[i] == UInt8(ascii: "(") && p[i + 1] == UInt8(ascii: "?") {
            let flag = lower(p[i + 2])
            if (flag >= 97 && flag <= 122) || flag == UInt8(ascii: "-") { return nil }
        }
        var spelling: [UInt8]?
        for start in 0...(p.count - literal.count) {
            let slice = p[start..<(start + literal.count)]
            guard zip(slice, literal).allSatisfy({ lower($0) == $1 }) else { continue }
            if let s = spelling, !s.elementsEqual(slice) { return nil }
            spelling = Array(slice)
        }
        return spelling
    }

    /// Splits on `|` outside groups and classes.
    static func topLevelBranches(_ p: [UInt8]) -> [[UInt8]] {
        var branches: [[UInt8]] = []
        var current: [UInt8] = []
        var depth = 0
        var i = 0
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "\\"), i + 1 < p.count {
                current.append(c); current.append(p[i + 1]); i += 2; continue
            }
            if c == UInt8(ascii: "[") {
                let end = classEnd(p, i)
                current.append(contentsOf: p[i..<min(end, p.count)]); i = end; continue
            }
            if c == UInt8(ascii: "(") { depth += 1 }
            if c == UInt8(ascii: ")") { depth -= 1 }
            if c == UInt8(ascii: "|"), depth == 0 { branches.append(current); current = []; i += 1; continue }
            current.append(c); i += 1
        }
        branches.append(current)
        return branches
    }

    /// Index just past the character class starting at `start` (`[`).
    static func classEnd(_ p: [UInt8], _ start: Int) -> Int {
        var i = start + 1
        if i < p.count, p[i] == UInt8(ascii: "^") { i += 1 }
        if i < p.count, p[i] == UInt8(ascii: "]") { i += 1 }
        while i < p.count {
            if p[i] == UInt8(ascii: "\\") { i += 2; continue }
            if p[i] == UInt8(ascii: "[") { i = classEnd(p, i); continue }
            if p[i] == UInt8(ascii: "]") { return i + 1 }
            i += 1
        }
        return p.count
    }

    /// Index just past the group starting at `start` (`(`).
    static func groupEnd(_ p: [UInt8], _ start: Int) -> Int {
        var depth = 0
        var i = start
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "\\") { i += 2; continue }
            if c == UInt8(ascii: "[") { i = classEnd(p, i); continue }
            if c == UInt8(ascii: "(") { depth += 1 }
            if c == UInt8(ascii: ")") { depth -= 1; if depth == 0 { return i + 1 } }
            i += 1
        }
        return p.count
    }

    /// A set of literals one of which every match of the (alternation-free at top level)
    /// sequence must contain: its longest literal run, or the alternatives of a mandatory group,
    /// whichever has the longer shortest member. Classes and escapes like `\d` end a run; a
    /// quantifier that allows zero repetitions removes its atom.
    static func requiredLiterals(_ p: [UInt8], asciiOnly: Bool) -> [[UInt8]]? {
        var best: [[UInt8]] = []
        var bestStrength = 0
        var run: [UInt8] = []
        var lastAtomInRun = false
        func consider(_ set: [[UInt8]]) {
            let strength = set.map(\.count).min() ?? 0
            if strength >= minLength, strength > bestStrength { best = set; bestStrength = strength }
        }
        func flush() {
            consider([run])
            run = []; lastAtomInRun = false
        }
        func literal(_ b: UInt8) {
            if asciiOnly && b >= 0x80 { flush(); return }
            run.append(b); lastAtomInRun = true
        }
        var i = 0
        while i < p.count {
            let c = p[i]
            switch c {
            case UInt8(ascii: "\\"):
                guard i + 1 < p.count else { i += 1; continue }
                let n = p[i + 1]
                let isWordChar = (n >= 48 && n <= 57) || (n >= 65 && n <= 90) || (n >= 97 && n <= 122)
                if isWordChar {
                    // \d \s \b \p{..} \x.. \Q..: not a plain literal.
                    flush()
                    if n == UInt8(ascii: "Q") { return best.isEmpty ? nil : best }
                    i += 2
                    if (n == UInt8(ascii: "p") || n == UInt8(ascii: "P") || n == UInt8(ascii: "x")),
                       i < p.count, p[i] == UInt8(ascii: "{") {
                        while i < p.count, p[i] != UInt8(ascii: "}") { i += 1 }
                        i += 1
                    }
                    continue
                }
                literal(n); i += 2
            case UInt8(ascii: "["):
                flush(); i = classEnd(p, i)
            case UInt8(ascii: "("):
                let end = groupEnd(p, i)
                let inner = p[i..<end]
                // An inline flag group like (?i) matches nothing: it neither adds nor breaks.
                let isFlagOnly = inner.count >= 4 && inner[inner.startIndex + 1] == UInt8(ascii: "?")
                    && !inner.contains(UInt8(ascii: ":")) && !inner.contains(UInt8(ascii: "="))
                    && !inner.contains(UInt8(ascii: "!")) && !inner.contains(UInt8(ascii: "<"))
                if isFlagOnly { i = end; continue }
                flush(); i = end
                // A group is required unless a quantifier allowing zero repetitions follows it.
                let optional = i < p.count && (p[i] == UInt8(ascii: "?") || p[i] == UInt8(ascii: "*")
                    || (p[i] == UInt8(ascii: "{") && i + 1 < p.count && p[i + 1] == UInt8(ascii: "0")))
                var body = Array(inner.dropFirst().dropLast())
                if body.first == UInt8(ascii: "?") {
                    // (?:x) and (?i:x) hold x; lookarounds and named groups are skipped as unknown.
                    guard let colon = body.firstIndex(of: UInt8(ascii: ":")), colon <= 4,
                          !body[1..<colon].contains(where: { [UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "<")].contains($0) })
                    else { continue }
                    body = Array(body[(colon + 1)...])
                }
                if !optional, let set = literals(body, caseInsensitive: asciiOnly) { consider(set) }
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"):
                flush(); i += 1
            case UInt8(ascii: "*"), UInt8(ascii: "?"):
                if lastAtomInRun { run.removeLast() }
                flush(); i += 1
                if i < p.count, p[i] == UInt8(ascii: "?") || p[i] == UInt8(ascii: "+") { i += 1 }
            case UInt8(ascii: "+"):
                flush(); i += 1
                if i < p.count, p[i] == UInt8(ascii: "?") || p[i] == UInt8(ascii: "+") { i += 1 }
            case UInt8(ascii: "{"):
                var j = i + 1
                var minDigits: [UInt8] = []
                while j < p.count, p[j] >= 48, p[j] <= 57 { minDigits.append(p[j]); j += 1 }
                if minDigits.isEmpty || j >= p.count || (p[j] != UInt8(ascii: "}") && p[j] != UInt8(ascii: ",")) {
                    literal(c); i += 1; continue
                }
                while j < p.count, p[j] != UInt8(ascii: "}") { j += 1 }
                if minDigits == [48], lastAtomInRun { run.removeLast() }
                flush(); i = j + 1
                if i < p.count, p[i] == UInt8(ascii: "?") || p[i] == UInt8(ascii: "+") { i += 1 }
            case UInt8(ascii: ")"), UInt8(ascii: "|"):
                flush(); i += 1
            default:
                literal(c); i += 1
            }
        }
        flush()
        return best.isEmpty ? nil : best
    }
}

/// Aho-Corasick automaton over ASCII-case-folded bytes, as a dense DFA: one table lookup per
/// input byte, whatever the number of literals.
struct LiteralMatcher {
    private var table: [Int32] = []
    private var outputStart: [Int32] = []
    private var outputList: [Int32] = []
    /// Input byte → column of `table`: one column per byte that occurs in a literal (an
    /// uppercase letter shares its lowercase twin's, which folds case), column 0 for the rest.
    /// The built-in rules' patterns use under a hundred distinct bytes: a 256-wide table took most of their
    /// compile time to fill.
    private var column = [Int32](repeating: 0, count: 256)
    private var width = 1
    let literalCount: Int

    init(_ literals: [[UInt8]]) {
        literalCount = literals.count
        for lit in literals { for b in lit where column[Int(b)] == 0 { column[Int(b)] = Int32(width); width += 1 } }
        for c in 65...90 where column[c + 32] != 0 { column[c] = column[c + 32] }
        let w = width
        // One allocation for the most states the trie can have (one per literal byte, plus the
        // root), cut to size after: growing it a row at a time was a third of the build.
        let most = 1 + literals.reduce(0) { $0 + $1.count }
        var goto = [Int32](repeating: -1, count: most * w)
        var outputs: [[Int32]] = [[]]
        outputs.reserveCapacity(most)
        for (id, lit) in literals.enumerated() {
            var s = 0
            for b in lit {
                let c = Int(column[Int(b)])
                let next = goto[s * w + c]
                if next >= 0 { s = Int(next); continue }
                let new = outputs.count
                outputs.append([])
                goto[s * w + c] = Int32(new)
                s = new
            }
            outputs[s].append(Int32(id))
        }
        let states = outputs.count
        goto.removeLast((most - states) * w)
        var fail = [Int32](repeating: 0, count: states)
        var queue: [Int] = []
        goto.withUnsafeMutableBufferPointer { g in
            for c in 0..<w {
                let t = g[c]
                if t < 0 { g[c] = 0 } else { fail[Int(t)] = 0; queue.append(Int(t)) }
            }
            // Column 0 (no literal has that byte) always leads back to the root.
            var head = 0
            while head < queue.count {
                let s = queue[head]; head += 1
                let f = Int(fail[s])
                for c in 0..<w {
                    let t = g[s * w + c]
                    let viaFail = g[f * w + c]
                    if t < 0 {
                        g[s * w + c] = viaFail
                    } else {
                        fail[Int(t)] = viaFail
                        if !outputs[Int(viaFail)].isEmpty { outputs[Int(t)].append(contentsOf: outputs[Int(viaFail)]) }
                        queue.append(Int(t))
                    }
                }
            }
        }
        table = goto
        outputStart.reserveCapacity(states + 1)
        for o in outputs { outputStart.append(Int32(outputList.count)); outputList.append(contentsOf: o) }
        outputStart.append(Int32(outputList.count))
    }

    /// Calls `found(literalID, endOffset)` for every occurrence in `bytes[range]`.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ found: (Int, Int) -> Void) {
        guard literalCount > 0 else { return }
        let w = width
        column.withUnsafeBufferPointer { col in
        table.withUnsafeBufferPointer { t in
            outputStart.withUnsafeBufferPointer { os in
                outputList.withUnsafeBufferPointer { ol in
                    var s = 0
                    var i = range.lowerBound
                    let end = range.upperBound
                    while i < end {
                        s = Int(t[s &* w &+ Int(col[Int(bytes[i])])])
                        let a = Int(os[s]), b = Int(os[s + 1])
                        if a != b {
                            for k in a..<b { found(Int(ol[k]), i) }
                        }
                        i += 1
                    }
                }
            }
        }
        }
    }
}
