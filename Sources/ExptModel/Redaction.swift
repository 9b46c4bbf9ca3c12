import Foundation

/// Scrubs secrets from text that leaves the machine (PR comments, PR bodies).
///
/// The secret part is replaced with `[REDACTED]` and the name or prefix around it is kept
/// (`GITHUB_TOKEN=[REDACTED]`, `ghp_[REDACTED]`), so a reader still knows what was there.
/// URL credentials become `***` (`https://user:***@host`), the shape git itself prints.
///
/// Rules run in a fixed order; each one leaves text containing `[REDACTED]` or `***` alone, so
/// `redact` is idempotent. It errs towards keeping ordinary log text intact: names are judged by
/// their words (`max_tokens`, `tokenizer`, `pad_token`, `sort_key`, `PWD` are not secrets) and
/// values that are file paths, booleans, placeholders or code expressions are kept.
public enum Redactor {
    /// What a secret is replaced with.
    public static let mark = "[REDACTED]"

    /// `text` with every recognised secret replaced.
    public static func redact(_ text: String) -> String {
        var out = text
        for rule in rules { out = rule.apply(to: out) }
        return out
    }

    /// True when a variable, key or flag called `name` holds a secret (`WANDB_API_KEY`,
    /// `hub_token`, `clientSecret`, `DB_PASSWORD`), false for look-alikes (`max_tokens`,
    /// `pad_token`, `tokenizer`, `TOKEN_FILE`, `sort_key`, `PWD`).
    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        // The shell's working directory, not a password: env dumps are full of these.
        if upper == "PWD" || upper == "OLDPWD" { return false }
        let parts = words(of: name)
        guard let last = parts.last else { return false }
        // TOKEN_FILE=/path, token_type=bearer, KEY_ID=...: about a secret, not the secret.
        if parts.count > 1, metaSuffixes.contains(last) { return false }
        for (i, part) in parts.enumerated() {
            if strongWords.contains(part) { return true }
            let before = i > 0 ? parts[i - 1] : nil
            if part == "token" || (part.hasSuffix("token") && part.count > 5) {
                let glued = part == "token" ? nil : String(part.dropLast(5))
                // pad_token, eos_token, max_token: tokenizer vocabulary, not credentials.
                if let q = glued ?? before, tokenQualifiers.contains(q) { continue }
                return true
            }
            if part == "key" || (part.hasSuffix("key") && part.count > 3) {
                let glued = part == "key" ? nil : String(part.dropLast(3))
                if let q = glued ?? before, keyQualifiers.contains(q) { return true }
                // Upper-case environment names ending in _KEY (STRIPE_KEY) are nearly always
                // secrets; lower-case config keys (sort_key, metric_key) nearly never.
                if glued == nil, i == parts.count - 1, parts.count > 1, name == upper { return true }
            }
        }
        return false
    }

    // MARK: - Name vocabulary

    private static let strongWords: Set<String> = [
        "secret", "secrets", "password", "passwords", "passwd", "pwd", "passphrase",
        "credential", "credentials", "apikey", "privatekey",
    ]
    private static let metaSuffixes: Set<String> = [
        "file", "files", "path", "dir", "name", "id", "ids", "type", "len", "length", "size", "count",
        "url", "uri", "env", "var", "limit", "field", "header", "prefix", "suffix", "expiry",
        "expires", "expiration", "ttl", "timeout", "error", "hash", "index", "idx", "mode", "format",
        "kind", "policy", "version", "endpoint", "host", "location", "source", "helper", "required",
        "provider", "reset", "strength", "prompt", "label", "column", "manager", "set",
    ]
    private static let tokenQualifiers: Set<String> = [
        "pad", "eos", "bos", "unk", "sep", "cls", "mask", "special", "start", "end", "stop", "max",
        "min", "num", "n", "total", "new", "added", "vision", "image", "audio", "video", "first",
        "last", "next", "prev", "extra", "decoder", "encoder", "sot", "eot", "im", "per", "input",
        "output", "prompt", "completion", "context", "seq", "sequence", "text", "word", "sub",
        "cancellation", "cancel", "csrf", "page", "continuation", "resume",
    ]
    private static let keyQualifiers: Set<String> = [
        "api", "secret", "private", "access", "auth", "client", "signing", "sign", "encryption",
        "encrypt", "master", "license", "licence", "ssh", "session", "account", "service", "app",
        "admin", "webhook", "deploy", "hmac", "aes", "rsa", "gpg", "pgp", "consumer", "subscription",
        "wandb", "openai", "anthropic", "hf", "stripe",
    ]

    /// Lower-cased words of an identifier: split on `_ - . space` and camelCase humps.
    static func words(of name: String) -> [String] {
        var words: [String] = [], current = ""
        let chars = Array(name)
        for (i, c) in chars.enumerated() {
            guard c.isLetter || c.isNumber else {
                if !current.isEmpty { words.append(current); current = "" }
                continue
            }
            if !current.isEmpty, c.isUppercase, let prev = current.last {
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                // apiKey -> api|Key; HFToken -> HF|Token; but HF stays whole.
                if prev.isLowercase || prev.isNumber || (prev.isUppercase && nextIsLower) {
                    words.append(current); current = ""
                }
            }
            current.append(c)
        }
        if !current.isEmpty { words.append(current) }
        return words.map { $0.lowercased() }
    }

    // MARK: - Values

    /// True when an unquoted or quoted value is not a secret worth hiding: empty, already
    /// redacted, a boolean/None, a placeholder (`<your key>`, `${VAR}`, `$VAR`), a file path.
    static func isHarmlessValue(_ value: String) -> Bool {
        let v = value.trimmingCharacters(in: .whitespaces)
        // "[REDACTED" too: an unquoted value stops at "]", and a second pass must not re-mask.
        if v.isEmpty || v.contains("[REDACTED") || v.contains("***") { return true }
        if ["true", "false", "none", "null", "nil", "yes", "no", "undefined", "''", "\"\""]
            .contains(v.lowercased()) { return true }
        if v.hasPrefix("$") || v.hasPrefix("<") || v.hasPrefix("%(") || v.hasPrefix("{{") { return true }
        if v.hasPrefix("/") || v.hasPrefix("~/") || v.hasPrefix("./") || v.hasPrefix("../") { return true }
        return false
    }

    // MARK: - Rules

    /// One regex and what to put in place of each match (nil: leave the match as it was).
    /// Immutable once built; NSRegularExpression is documented as safe to share between
    /// threads, which corelibs-foundation does not declare.
    struct Rule: @unchecked Sendable {
        let regex: NSRegularExpression
        /// When a match is left alone, this group is searched again: regex matches do not
        /// overlap, so `url: https://x/?api_key=abc` would otherwise hide the inner `api_key=`.
        let rescan: Int?
        let replace: (Match) -> String?

        init(_ pattern: String, rescan: Int? = nil, _ replace: @escaping (Match) -> String?) {
            // The patterns are constants: a bad one is a programming error caught by any test.
            regex = try! NSRegularExpression(pattern: pattern, options: [])
            self.rescan = rescan
            self.replace = replace
        }

        func apply(to text: String) -> String {
            let ns = text as NSString
            var edits: [(range: NSRange, text: String)] = []
            collect(in: ns, offset: 0, into: &edits, depth: 0)
            guard !edits.isEmpty else { return text }
            var out = "", cursor = 0
            for edit in edits where edit.range.location >= cursor {
                out += ns.substring(with: NSRange(location: cursor, length: edit.range.location - cursor))
                out += edit.text
                cursor = edit.range.location + edit.range.length
            }
            return out + ns.substring(from: cursor)
        }

        /// Appends the edits for matches in `ns` (a slice starting at `offset` of the text).
        private func collect(in ns: NSString, offset: Int, into edits: inout [(range: NSRange, text: String)], depth: Int) {
            var cursor = 0
            for m in regex.matches(in: ns as String, range: NSRange(location: 0, length: ns.length))
            where m.range.location >= cursor {
                let match = Match(ns: ns, result: m, wholeLine: depth == 0)
                if let replacement = replace(match) {
                    let length = m.range.length + match.extend
                    edits.append((NSRange(location: offset + m.range.location, length: length), replacement))
                    cursor = m.range.location + length
                } else if let group = rescan, depth < 4 {
                    let r = m.range(at: group)
                    guard r.location != NSNotFound, r.location > 0 else { continue }
                    // One character of context before the group, so look-behinds and \b see
                    // the separator; it cannot start a match itself.
                    let slice = NSRange(location: r.location - 1, length: r.length + 1)
                    collect(in: ns.substring(with: slice) as NSString, offset: offset + slice.location,
                            into: &edits, depth: depth + 1)
                    cursor = max(cursor, edits.last.map { $0.range.location + $0.range.length - offset } ?? 0)
                }
            }
        }
    }

    /// One regex match, with its groups as strings.
    final class Match {
        let ns: NSString
        let result: NSTextCheckingResult
        /// Extra characters after the match that the replacement also covers.
        var extend = 0
        /// False inside a rescanned slice, whose line boundaries are not the text's.
        let wholeLine: Bool
        init(ns: NSString, result: NSTextCheckingResult, wholeLine: Bool) {
            self.ns = ns; self.result = result; self.wholeLine = wholeLine
        }
        subscript(_ i: Int) -> String {
            let r = result.range(at: i)
            return r.location == NSNotFound ? "" : ns.substring(with: r)
        }
        func exists(_ i: Int) -> Bool { result.range(at: i).location != NSNotFound }
        /// The text between the start of the line and the match (O(line), not O(text)).
        var lineBefore: String {
            let start = ns.lineRange(for: NSRange(location: result.range.location, length: 0)).location
            return ns.substring(with: NSRange(location: start, length: result.range.location - start))
        }
        /// The rest of the line after the match, without the line break.
        var restOfLine: String {
            let end = result.range.location + result.range.length
            let line = ns.lineRange(for: NSRange(location: end, length: 0))
            let rest = ns.substring(with: NSRange(location: end, length: line.location + line.length - end))
            return String(rest.prefix { $0 != "\n" && $0 != "\r" })
        }
    }

    /// Keeps quotes around a redacted value: `"abc"` -> `"[REDACTED]"`.
    private static func masked(_ value: String) -> String {
        if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
            return "\(q)\(mark)\(q)"
        }
        return mark
    }

    private static func unquoted(_ value: String) -> String {
        if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
            return String(value.dropFirst().dropLast())
        }
        return value
    }

    private static let knownTokenPrefix = #"^(gh[pousr]_|github_pat_|glpat-|hf_|xox[baprs]-|sk-)"#

    static let rules: [Rule] = [
        // Private key blocks, also a block cut off by the end of a log tail.
        Rule(#"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)[\s\S]*?(-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\z)"#) { m in
            let footer = m[2]
            return m[1] + "\n" + mark + (footer.isEmpty ? "\n" : "\n" + footer)
        },
        // Credentials in URLs: scheme://user:pass@host, and a bare token as the user.
        Rule(#"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/:@'"<>()]*)(?::([^\s/@'"<>()]*))?@(?=[A-Za-z0-9\[])"#) { m in
            let scheme = m[1], user = m[2]
            if m.exists(3) {
                let pass = m[3]
                return pass.isEmpty || pass == "***" ? nil : "\(scheme)\(user):***@"
            }
            guard !user.isEmpty, user != "***", ["http://", "https://"].contains(scheme.lowercased()) else { return nil }
            let tokenish = user.range(of: knownTokenPrefix, options: .regularExpression) != nil || user.count >= 30
            return tokenish ? "\(scheme)***@" : nil
        },
        // Token formats recognisable on their own; the prefix says which service it was.
        Rule(#"\b(gh[pousr]_)[A-Za-z0-9]{20,}\b"#) { m in m[1] + mark },
        Rule(#"\b(github_pat_)[A-Za-z0-9_]{20,}"#) { m in m[1] + mark },
        Rule(#"\b(glpat-)[A-Za-z0-9_\-]{20,}"#) { m in m[1] + mark },
        Rule(#"\b(hf_)[A-Za-z0-9]{20,}\b"#) { m in m[1] + mark },
        Rule(#"\b(xox[baprs]-)[A-Za-z0-9\-]{8,}"#) { m in m[1] + mark },
        // OpenAI-style keys; a digit is required so kebab-case words never match.
        Rule(#"(?<![A-Za-z0-9_\-])(sk-)([A-Za-z0-9_\-]{20,})"#) { m in
            m[2].contains(where: \.isNumber) ? m[1] + mark : nil
        },
        Rule(#"\b(AKIA|ASIA)[A-Z0-9]{16}\b"#) { m in m[1] + mark },
        Rule(#"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"#) { _ in mark },
        Rule(#"(hooks\.slack\.com/services/)[A-Za-z0-9/]+"#) { m in m[1] + mark },
        // Authorization / Proxy-Authorization headers, with or without a scheme word (after the
        // token formats, so `token ghp_…` keeps its telling prefix).
        Rule(#"(?i)\b((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:bearer|basic|token|bot|digest|negotiate)[ \t]+)?)([^\s"',;]+)"#) { m in
            isHarmlessValue(m[2]) ? nil : m[1] + mark
        },
        Rule(#"(?i)\b(bearer[ \t]+)([A-Za-z0-9._~+/\-]{16,}=*)"#) { m in m[1] + mark },
        // Cookies are session credentials: the whole header value goes.
        Rule(#"(?i)\b((?:set-)?cookie[ \t]*:[ \t]*)([^\n]*[^\s])"#) { m in
            isHarmlessValue(m[2]) ? nil : m[1] + mark
        },
        // AWS secret keys, also in `aws configure set aws_secret_access_key KEY` (no separator).
        Rule(#"(?i)\b(aws_secret_access_key|aws_secret_key|secret_?access_?key)(["']?[\s:=,"']{1,6})([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"#) { m in
            m[1] + m[2] + mark
        },
        // .netrc: machine HOST [login USER] password SECRET (W&B writes its key here).
        Rule(#"(?i)(\bmachine\s+\S+\s+(?:login\s+\S+\s+)?password\s+)(\S+)"#) { m in
            isHarmlessValue(m[2]) ? nil : m[1] + mark
        },
        // `wandb login [flags] KEY`: the key is the long word on that line.
        Rule(#"(?i)(\bwandb\s+login\b[^\n]*?\s)([A-Za-z0-9_]{0,12}-?[0-9a-fA-F]{40}[A-Za-z0-9_]*)"#) { m in m[1] + mark },
        // NAME=value, NAME: value, "name": "value", --name=value, export NAME="value".
        Rule(#"(?<![A-Za-z0-9_.\-])(-{0,2})(["']?)([A-Za-z_][A-Za-z0-9_.\-]*)\2([ \t]*[:=](?![:=/])[ \t]*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,;&)}\]"'][^\s,;&)}\]"']*)"#, rescan: 5) { m in
            let name = m[3], sep = m[4], value = m[5]
            guard isSecretName(name), !isHarmlessValue(unquoted(value)) else { return nil }
            // `token = self.token` / `key = os.environ.get(...)`: source code in a traceback.
            if sep.contains(" "), value.first != "\"", value.first != "'",
               value.contains("(") || value.range(of: #"^[A-Za-z_]\w*(\.\w+)+$"#, options: .regularExpression) != nil {
                return nil
            }
            // YAML / header line (`password: two words`): the value is the rest of the line.
            if sep.hasPrefix(":"), value.first != "\"", value.first != "'", m[1].isEmpty, m.wholeLine,
               ["", "-"].contains(m.lineBefore.trimmingCharacters(in: .whitespaces)) {
                var rest = m.restOfLine
                if let hash = rest.range(of: " #") { rest = String(rest[..<hash.lowerBound]) }
                while let l = rest.last, l == " " || l == "\t" { rest.removeLast() }
                m.extend = (rest as NSString).length
            }
            return m[1] + m[2] + name + m[2] + sep + masked(value)
        },
        // --password VALUE, --hub-token VALUE (flag and value as separate words).
        Rule(#"(?<![A-Za-z0-9_.\-])(--?)([A-Za-z][A-Za-z0-9_\-]*)([ \t]+)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"'\-][^\s"']*)"#, rescan: 4) { m in
            guard isSecretName(m[2]), !isHarmlessValue(unquoted(m[4])) else { return nil }
            return m[1] + m[2] + m[3] + masked(m[4])
        },
        // A bare 40-hex string (W&B key, old GitHub token) shortly after a key-like name.
        Rule(#"(?<![A-Za-z0-9_.\-])([A-Za-z_][A-Za-z0-9_.\-]*)([^0-9a-fA-F\n]{1,16}?)\b([0-9a-fA-F]{40})(?![0-9a-fA-F])"#) { m in
            isSecretName(m[1]) || looseSecretWord(m[1]) ? m[1] + m[2] + mark : nil
        },
    ]

    /// For a 40-hex value the bar is lower: `wandb key 0123…` (bare "key") is a secret too.
    private static func looseSecretWord(_ name: String) -> Bool {
        let parts = words(of: name)
        if parts.count > 1, let last = parts.last, metaSuffixes.contains(last) { return false }
        return parts.contains { ["key", "token", "auth"].contains($0) }
    }
}
