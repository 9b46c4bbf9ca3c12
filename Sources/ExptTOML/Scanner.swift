/// Cursor over the document's Unicode scalars. Working on scalars rather than
/// Characters keeps "\r\n" as two units (TOML treats CR and LF separately) and
/// makes columns match what editors show for ASCII-heavy config files.
struct Scanner {
    let text: [Unicode.Scalar]
    let file: String?
    var pos = 0
    var line = 1
    var lineStart = 0

    init(_ source: String, file: String?) {
        text = Array(source.unicodeScalars)
        self.file = file
        // Some Windows editors prepend a byte-order mark; it is invisible to
        // the user, so rejecting it would produce a baffling error.
        if text.first == "\u{FEFF}" {
            pos = 1
            lineStart = 1
        }
    }

    var atEnd: Bool { pos >= text.count }
    var column: Int { pos - lineStart + 1 }

    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let i = pos + offset
        return i >= 0 && i < text.count ? text[i] : nil
    }

    /// Advances one scalar; line bookkeeping lives here so no caller can forget it.
    mutating func advance() {
        guard pos < text.count else { return }
        if text[pos] == "\n" {
            line += 1
            lineStart = pos + 1
        }
        pos += 1
    }

    mutating func advance(_ n: Int) {
        for _ in 0..<n { advance() }
    }

    func lookingAt(_ s: String) -> Bool {
        var i = pos
        for c in s.unicodeScalars {
            guard i < text.count, text[i] == c else { return false }
            i += 1
        }
        return true
    }

    func error(_ message: String, key: String? = nil, line: Int? = nil, column: Int? = nil) -> TOMLError {
        TOMLError(file: file, line: line ?? self.line, column: line == nil ? (column ?? self.column) : column,
                  key: key, message: message)
    }

    /// Human-readable name of the scalar at the cursor, for "found X" messages.
    func describeCurrent() -> String {
        guard let c = peek() else { return "end of input" }
        if c == "\n" || (c == "\r" && peek(1) == "\n") { return "end of line" }
        return Scanner.describe(c)
    }

    static func describe(_ c: Unicode.Scalar) -> String {
        if c.value < 0x20 || c.value == 0x7F {
            let hex = String(c.value, radix: 16, uppercase: true)
            return "control character U+" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        return "'\(c)'"
    }

    static func isControl(_ c: Unicode.Scalar) -> Bool {
        (c.value < 0x20 && c != "\t") || c.value == 0x7F
    }

    // MARK: Whitespace, comments, newlines

    mutating func skipWhitespace() {
        while let c = peek(), c == " " || c == "\t" { advance() }
    }

    var atNewline: Bool { peek() == "\n" || (peek() == "\r" && peek(1) == "\n") }

    /// Consumes LF or CRLF. A lone CR is not a newline in TOML, so it is left
    /// for the caller to reject as an unexpected character.
    mutating func consumeNewline() -> Bool {
        if peek() == "\n" { advance(); return true }
        if peek() == "\r", peek(1) == "\n" { advance(2); return true }
        return false
    }

    /// Skips a `#` comment up to (not including) the newline.
    mutating func skipComment() throws {
        guard peek() == "#" else { return }
        advance()
        while let c = peek(), !atNewline {
            if Scanner.isControl(c) {
                throw error("\(Scanner.describe(c)) is not allowed in a comment")
            }
            advance()
        }
    }

    /// Skips whitespace, newlines and comments: the filler allowed between array elements.
    mutating func skipTrivia() throws {
        while true {
            skipWhitespace()
            if peek() == "#" { try skipComment() }
            if !consumeNewline() { return }
        }
    }

    // MARK: Strings

    /// The scalars as a String, encoded straight into its storage.
    static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        String(unsafeUninitializedCapacity: scalars.count * 4) { buf in
            var n = 0
            for c in scalars {
                if c.isASCII { buf[n] = UInt8(c.value); n += 1; continue }
                for u in UTF8.encode(c)! { buf[n] = u; n += 1 }
            }
            return n
        }
    }

    /// Parses any of the four string forms; the cursor is on the opening quote.
    mutating func parseString(allowMultiline: Bool = true) throws -> String {
        let startLine = line, startColumn = column
        if lookingAt("\"\"\"") || lookingAt("'''") {
            guard allowMultiline else {
                throw error("multi-line strings cannot be used as keys")
            }
            let literal = peek() == "'"
            advance(3)
            // A newline right after the opening delimiter is not part of the string.
            _ = consumeNewline()
            return try parseMultiline(literal: literal, startLine: startLine, startColumn: startColumn)
        }
        let literal = peek() == "'"
        advance()
        // Fast path: a string with no escape is a slice of the document (a rule file is mostly
        // such strings; appending scalar by scalar was most of its parse time).
        let quote: Unicode.Scalar = literal ? "'" : "\""
        var end = pos
        while end < text.count, text[end] != quote, text[end] != "\n", literal || text[end] != "\\",
              !Scanner.isControl(text[end]) { end += 1 }
        if end < text.count, text[end] == quote {
            let value = Scanner.string(text[pos..<end])
            pos = end + 1
            return value
        }
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek(), !atNewline else {
                throw error("unterminated string (opened at line \(startLine), column \(startColumn))",
                            line: startLine, column: startColumn)
            }
            if c == (literal ? "'" : "\"") { advance(); return String(out) }
            if !literal && c == "\\" {
                out.append(try parseEscape())
                continue
            }
            if Scanner.isControl(c) {
                throw error("\(Scanner.describe(c)) is not allowed in a string; use an escape sequence")
            }
            out.append(c)
            advance()
        }
    }

    private mutating func parseMultiline(literal: Bool, startLine: Int, startColumn: Int) throws -> String {
        let quote: Unicode.Scalar = literal ? "'" : "\""
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek() else {
                throw error("unterminated multi-line string (opened at line \(startLine), column \(startColumn))",
                            line: startLine, column: startColumn)
            }
            if c == quote {
                var run = 0
                while peek(run) == quote { run += 1 }
                if run >= 3 {
                    // Up to two quotes may sit right before the closing delimiter.
                    guard run <= 5 else {
                        throw error("too many quotes at the end of a multi-line string")
                    }
                    for _ in 0..<(run - 3) { out.append(quote) }
                    advance(run)
                    return String(out)
                }
                for _ in 0..<run { out.append(quote) }
                advance(run)
                continue
            }
            if consumeNewline() {
                out.append("\n")
                continue
            }
            if !literal && c == "\\" {
                if try skipLineEndingBackslash() { continue }
                out.append(try parseEscape())
                continue
            }
            if Scanner.isControl(c) {
                throw error("\(Scanner.describe(c)) is not allowed in a string; use an escape sequence")
            }
            out.append(c)
            advance()
        }
    }

    /// A backslash that ends a line swallows the newline and all following
    /// whitespace, letting long strings wrap without changing their value.
    private mutating func skipLineEndingBackslash() throws -> Bool {
        var i = 1
        while let c = peek(i), c == " " || c == "\t" { i += 1 }
        guard peek(i) == "\n" || (peek(i) == "\r" && peek(i + 1) == "\n") else { return false }
        advance(i)
        while true {
            skipWhitespace()
            if !consumeNewline() { return true }
        }
    }

    /// The cursor is on the backslash.
    private mutating func parseEscape() throws -> Unicode.Scalar {
        let escLine = line, escColumn = column
        advance()
        guard let c = peek() else {
            throw error("unterminated string", line: escLine, column: escColumn)
        }
        advance()
        switch c {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let width = c == "u" ? 4 : 8
            var digits = ""
            for _ in 0..<width {
                guard let d = peek(), d.properties.isASCIIHexDigit else {
                    throw error("invalid escape: \\\(c) needs exactly \(width) hex digits",
                                line: escLine, column: escColumn)
                }
                digits.unicodeScalars.append(d)
                advance()
            }
            guard let v = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(v) else {
                throw error("invalid escape: \\\(c)\(digits) is not a Unicode scalar value",
                            line: escLine, column: escColumn)
            }
            return scalar
        case "\n":
            throw unterminatedByNewline(line: escLine, column: escColumn)
        case "\r" where peek() == "\n":
            throw unterminatedByNewline(line: escLine, column: escColumn)
        default:
            let shown = Scanner.isControl(c) ? Scanner.describe(c) : "'\\\(c)'"
            throw error("invalid escape sequence \(shown); valid escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX",
                        line: escLine, column: escColumn)
        }
    }

    private func unterminatedByNewline(line: Int, column: Int) -> TOMLError {
        error("unterminated string: a line-ending backslash only works in multi-line (\"\"\") strings",
              line: line, column: column)
    }

    // MARK: Keys

    /// Parses `a`, `"quoted key"`, `'literal'` and dotted combinations of them.
    mutating func parseKey() throws -> [String] {
        var parts: [String] = []
        while true {
            skipWhitespace()
            guard let c = peek() else { throw error("expected a key, found end of input") }
            if c == "\"" || c == "'" {
                parts.append(try parseString(allowMultiline: false))
            } else if TOMLTable.isBareKeyScalar(c) {
                var s = String.UnicodeScalarView()
                while let c = peek(), TOMLTable.isBareKeyScalar(c) {
                    s.append(c)
                    advance()
                }
                parts.append(String(s))
            } else {
                let what = parts.isEmpty ? "expected a key" : "expected a key after '.'"
                let hint = c.isASCII ? "" : " (bare keys may only use A-Z a-z 0-9 _ -; quote other keys)"
                throw error("\(what), found \(describeCurrent())\(hint)")
            }
            skipWhitespace()
            guard peek() == "." else { return parts }
            advance()
        }
    }
}
