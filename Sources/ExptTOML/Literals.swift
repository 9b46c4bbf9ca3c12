/// Unquoted scalar values: booleans, integers, floats and date-times. They are
/// scanned as one token and then validated, so a typo like `1_000__0` or
/// `tru` is reported as a whole rather than as a confusing partial parse.
extension Scanner {
    /// Parses the unquoted value at the cursor.
    mutating func parseBareValue() throws -> TOMLValue {
        let startLine = line, startColumn = column
        if looksLikeDate || looksLikeTime {
            let text = scanDatetimeToken()
            guard Datetime.isValid(text) else {
                throw error("invalid date-time '\(text)'", line: startLine, column: startColumn)
            }
            return .datetime(text)
        }
        var token = String.UnicodeScalarView()
        while let c = peek(), TOMLTable.isBareKeyScalar(c) || c == "." || c == "+" {
            token.append(c)
            advance()
        }
        let text = String(token)
        if text.isEmpty {
            throw error("expected a value, found \(describeCurrent())")
        }
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        switch Number.parse(text) {
        case .success(let value):
            return value
        case .failure(let problem):
            throw error(problem.message, line: startLine, column: startColumn)
        }
    }

    private var looksLikeDate: Bool {
        (0..<4).allSatisfy { peek($0).map(Number.isDigit) ?? false } && peek(4) == "-"
    }

    private var looksLikeTime: Bool {
        (0..<2).allSatisfy { peek($0).map(Number.isDigit) ?? false } && peek(2) == ":"
    }

    /// Date-times may contain one space (between date and time), so they
    /// cannot share the number tokenizer.
    private mutating func scanDatetimeToken() -> String {
        var token = String.UnicodeScalarView()
        func isDatetimeScalar(_ c: Unicode.Scalar) -> Bool {
            Number.isDigit(c) || "-:.+TtZz".unicodeScalars.contains(c)
        }
        while let c = peek() {
            if isDatetimeScalar(c) {
                token.append(c)
                advance()
            } else if c == " ", token.count == 10, let next = peek(1), Number.isDigit(next) {
                token.append(c)
                advance()
            } else {
                break
            }
        }
        return String(token)
    }
}

/// Why a number token was rejected; a struct so it can be a `Result` failure.
struct NumberProblem: Error {
    let message: String
}

/// TOML number grammar: the rules are fussy (no leading zeros, underscores
/// only between digits, no sign on hex) and each violation deserves a
/// specific message.
enum Number {
    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    static func parse(_ text: String) -> Result<TOMLValue, NumberProblem> {
        var body = Array(text.unicodeScalars)
        var sign: Unicode.Scalar?
        if let first = body.first, first == "+" || first == "-" {
            sign = first
            body.removeFirst()
        }
        func fail(_ why: String) -> Result<TOMLValue, NumberProblem> {
            .failure(NumberProblem(message: "invalid number '\(text)': \(why)"))
        }
        let bodyText = String(String.UnicodeScalarView(body))
        if bodyText == "inf" { return .success(.float(sign == "-" ? -.infinity : .infinity)) }
        if bodyText == "nan" { return .success(.float(sign == "-" ? -.nan : .nan)) }
        guard let first = body.first, isDigit(first) else {
            if sign == nil {
                return .failure(NumberProblem(
                    message: "invalid value '\(text)' (strings must be quoted, booleans are true/false)"))
            }
            return fail("expected digits after the sign")
        }

        if body.count > 2, first == "0", let radix = ["x": 16, "o": 8, "b": 2][Character(body[1])] {
            if sign != nil { return fail("a sign is not allowed on hex, octal or binary integers") }
            let digits = Array(body[2...])
            if let why = checkDigits(digits, isDigit: { $0.properties.isASCIIHexDigit && Int(String($0), radix: 16)! < radix }) {
                return fail(why)
            }
            guard let v = UInt64(String(String.UnicodeScalarView(digits.filter { $0 != "_" })), radix: radix),
                  v <= UInt64(Int64.max) else {
                return fail("integer out of range (must fit in 64 bits)")
            }
            return .success(.integer(Int64(v)))
        }

        let expIndex = body.firstIndex { $0 == "e" || $0 == "E" }
        let mantissa = Array(body[..<(expIndex ?? body.count)])
        let dot = mantissa.firstIndex(of: ".")
        let intPart = Array(mantissa[..<(dot ?? mantissa.count)])
        if let why = checkDigits(intPart, isDigit: isDigit) { return fail(why) }
        if intPart.count > 1, intPart[0] == "0" { return fail("leading zeros are not allowed") }
        if let dot {
            let frac = Array(mantissa[(dot + 1)...])
            if frac.isEmpty { return fail("a decimal point must be followed by digits") }
            if let why = checkDigits(frac, isDigit: isDigit) { return fail(why) }
        }
        if let expIndex {
            var exp = Array(body[(expIndex + 1)...])
            if let s = exp.first, s == "+" || s == "-" { exp.removeFirst() }
            if exp.isEmpty { return fail("an exponent must have digits") }
            if let why = checkDigits(exp, isDigit: isDigit) { return fail(why) }
        }
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "_" }))
        if dot != nil || expIndex != nil {
            guard let d = Double(cleaned) else { return fail("not a valid float") }
            return .success(.float(d))
        }
        guard let i = Int64(cleaned) else { return fail("integer out of range (must fit in 64 bits)") }
        return .success(.integer(i))
    }

    /// nil when `digits` is a non-empty run of digits with single underscores between them.
    private static func checkDigits(_ digits: [Unicode.Scalar], isDigit: (Unicode.Scalar) -> Bool) -> String? {
        guard !digits.isEmpty else { return "expected digits" }
        var previousWasUnderscore = true
        for c in digits {
            if c == "_" {
                if previousWasUnderscore { return "underscores must be between digits" }
                previousWasUnderscore = true
            } else if isDigit(c) {
                previousWasUnderscore = false
            } else {
                return "unexpected \(Scanner.describe(c))"
            }
        }
        return previousWasUnderscore ? "underscores must be between digits" : nil
    }
}

/// RFC 3339 shapes TOML accepts: offset date-time, local date-time, local
/// date and local time. Only the shape and field ranges are checked; the
/// text itself is what callers get back.
enum Datetime {
    static func isValid(_ text: String) -> Bool {
        var c = Cursor(Array(text.unicodeScalars))
        if c.peek(2) == ":" {
            return c.time() && c.atEnd
        }
        guard c.date() else { return false }
        if c.atEnd { return true }
        guard let sep = c.next(), sep == "T" || sep == "t" || sep == " " else { return false }
        guard c.time() else { return false }
        if c.atEnd { return true }
        guard c.offset() else { return false }
        return c.atEnd
    }

    /// Small cursor so each field check reads like the grammar.
    private struct Cursor {
        let s: [Unicode.Scalar]
        var i = 0
        init(_ s: [Unicode.Scalar]) { self.s = s }

        var atEnd: Bool { i >= s.count }
        func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }
        mutating func next() -> Unicode.Scalar? {
            defer { i += 1 }
            return peek()
        }
        mutating func expect(_ c: Unicode.Scalar) -> Bool {
            guard peek() == c else { return false }
            i += 1
            return true
        }
        mutating func number(_ width: Int) -> Int? {
            var v = 0
            for _ in 0..<width {
                guard let c = peek(), Number.isDigit(c) else { return nil }
                v = v * 10 + Int(c.value - 48)
                i += 1
            }
            return v
        }

        mutating func date() -> Bool {
            guard let y = number(4), expect("-"), let m = number(2), expect("-"), let d = number(2) else {
                return false
            }
            guard (1...12).contains(m), d >= 1 else { return false }
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
            let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
            return d <= days
        }

        mutating func time() -> Bool {
            guard let h = number(2), expect(":"), let m = number(2), expect(":"), let sec = number(2),
                  h < 24, m < 60, sec <= 60 else {
                return false
            }
            if expect(".") {
                guard let c = peek(), Number.isDigit(c) else { return false }
                while let c = peek(), Number.isDigit(c) { i += 1 }
            }
            return true
        }

        mutating func offset() -> Bool {
            if expect("Z") || expect("z") { return true }
            guard expect("+") || expect("-") else { return false }
            guard let h = number(2), expect(":"), let m = number(2) else { return false }
            return h < 24 && m < 60
        }
    }
}
