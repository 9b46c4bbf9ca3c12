import Foundation

/// Private key blocks, for `Redactor`'s private-key rule: a block runs from its header to its
/// footer; without a footer (a log tail cut it off) to the end of the key lines after the
/// header, never the rest of the text (issue 10, R19).
extension Redactor {

    static let keyFooterRegex = try! NSRegularExpression(
        pattern: #"-----END (?:[A-Z0-9]+ ){0,8}PRIVATE KEY(?: BLOCK)?-----"#, options: [])

    /// The index of the first `\n` or `\r` at or after `from`, or the text's length.
    static func lineEnd(_ ns: NSString, from: Int) -> Int {
        var i = from
        while i < ns.length {
            let c = ns.character(at: i)
            if c == 10 || c == 13 { break }
            i += 1
        }
        return i
    }

    /// The first private key footer in `[from, to)` (one line), if any.
    static func keyFooter(in ns: NSString, from: Int, to: Int) -> NSRange? {
        var from = from
        while from < to {
            let hit = ns.range(of: "-----END ", options: [], range: NSRange(location: from, length: to - from))
            guard hit.location != NSNotFound else { return nil }
            let tail = ns.substring(with: NSRange(location: hit.location, length: min(160, to - hit.location)))
            if let f = keyFooterRegex.firstMatch(in: tail, options: [.anchored], range: NSRange(location: 0, length: (tail as NSString).length)) {
                return NSRange(location: hit.location, length: f.range.length)
            }
            from = hit.location + hit.length
        }
        return nil
    }

    static let base64Characters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")

    static func isBase64(_ s: Substring) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { base64Characters.contains($0) }
    }

    /// A line of a key's body: base64 alone, a PEM header (`Proc-Type:`, `DEK-Info:`), or a
    /// log prefix and then a long base64 word (`[rank0]: MIIEvQIBADAN…`).
    static func isKeyLine(_ line: String) -> Bool {
        let t = line.trimmingCharacters(in: .whitespaces)
        if isBase64(t[...]) { return true }
        if t.hasPrefix("Proc-Type:") || t.hasPrefix("DEK-Info:") || t.hasPrefix("Comment:") { return true }
        guard let space = t.lastIndex(where: { $0 == " " || $0 == "\t" }) else { return false }
        let word = t[t.index(after: space)...]
        return word.count >= 20 && isBase64(word)
    }

    /// True when the text between a key's header and its end holds key material still.
    static func hasKeyMaterial(_ body: String) -> Bool {
        let t = body.trimmingCharacters(in: .whitespacesAndNewlines)
        return !t.isEmpty && !t.hasPrefix(mark)
    }

    /// The replacement for the private key block whose header `m` matched; `m.extend` is set to
    /// the block's end. The block is the rest of the header's line, then each following line
    /// that is part of a key (one blank line allowed between them), up to and including a
    /// footer. A header with nothing after it is left as it is.
    static func privateKeyBlock(_ m: Match) -> String? {
        let ns = m.ns, header = m[0], length = ns.length
        let headerEnd = m.result.range.location + m.result.range.length
        let firstLineEnd = lineEnd(ns, from: headerEnd)
        // A one-line block: `-----BEGIN … KEY----- MIIE… -----END … KEY-----`.
        if let f = keyFooter(in: ns, from: headerEnd, to: firstLineEnd) {
            guard hasKeyMaterial(ns.substring(with: NSRange(location: headerEnd, length: f.location - headerEnd))) else { return nil }
            m.extend = f.location + f.length - headerEnd
            return header + " " + mark + " " + ns.substring(with: f)
        }
        var blockEnd = firstLineEnd, multiLine = false, blanks = 0
        var footer: NSRange?
        var cursor = firstLineEnd
        while cursor < length {
            var next = cursor
            if ns.character(at: next) == 13 { next += 1 }
            if next < length, ns.character(at: next) == 10 { next += 1 }
            let end = lineEnd(ns, from: next)
            if let f = keyFooter(in: ns, from: next, to: end) { footer = f; break }
            let line = ns.substring(with: NSRange(location: next, length: end - next))
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                blanks += 1
                if blanks > 1 { break }
            } else if isKeyLine(line) {
                blanks = 0
                blockEnd = end
                multiLine = true
            } else {
                break
            }
            cursor = end
        }
        if let f = footer {
            guard hasKeyMaterial(ns.substring(with: NSRange(location: headerEnd, length: f.location - headerEnd))) else { return nil }
            m.extend = f.location + f.length - headerEnd
            return header + "\n" + mark + "\n" + ns.substring(with: f)
        }
        var body = ns.substring(with: NSRange(location: headerEnd, length: blockEnd - headerEnd))
        guard hasKeyMaterial(body) else { return nil }
        if multiLine {
            m.extend = blockEnd - headerEnd
            return header + "\n" + mark + (blockEnd == length ? "\n" : "")
        }
        // Only the header's line: closing quotes and brackets after the key stay, so inline code
        // and quoted strings stay closed.
        var kept = ""
        while let c = body.last, "`\"')]},; \t".contains(c) { kept.insert(c, at: kept.startIndex); body.removeLast() }
        guard hasKeyMaterial(body) else { return nil }
        m.extend = blockEnd - headerEnd - (kept as NSString).length
        return header + " " + mark
    }
}
