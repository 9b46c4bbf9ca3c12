import Foundation

/// Scrubs secrets from text that leaves the machine (PR comments, PR bodies, evidence lines,
/// commit messages).
///
/// The secret part is replaced with `[REDACTED]` and the name or prefix around it is kept
/// (`GITHUB_TOKEN=[REDACTED]`, `ghp_[REDACTED]`), so a reader still knows what was there.
/// URL credentials become `***` (`https://user:***@host`), the shape git itself prints.
///
/// Rules run in a fixed order; each one leaves text containing `[REDACTED]` or `***` alone, so
/// `redact` is idempotent. It errs towards keeping ordinary log text intact: names are judged by
/// their words (`max_tokens`, `tokenizer`, `pad_token`, `sort_key`, `PWD`, `first_pass` are not
/// secrets) and values that are file paths, booleans, placeholders or code expressions are kept.
///
/// Every rule runs in time linear in the text: repetitions that could rescan a long run from
/// each of its positions are bounded (a 40 KB `a-a-a-…` line takes milliseconds), and a private
/// key header without its footer covers its own line and the key lines after it, never the rest
/// of the text.
public enum Redactor {
    /// What a secret is replaced with.
    public static let mark = "[REDACTED]"

    /// `text` with every recognised secret replaced.
    public static func redact(_ text: String) -> String {
        var ignored = NSRange(location: 0, length: 0)
        var out = text
        for rule in rules { out = rule.apply(to: out, tracking: &ignored) }
        return out
    }

    /// `text` redacted, and where `range` (UTF-16 offsets into `text`) is in the result: a
    /// replacement that overlaps the range widens it to cover the replacement. Lets a caller
    /// redact a whole line first and clip around a match afterwards (evidence lines).
    public static func redact(_ text: String, tracking range: NSRange) -> (text: String, range: NSRange) {
        var tracked = range
        var out = text
        for rule in rules { out = rule.apply(to: out, tracking: &tracked) }
        return (out, tracked)
    }

    /// True when a variable, key or flag called `name` holds a secret (`WANDB_API_KEY`,
    /// `hub_token`, `clientSecret`, `DB_PASSWORD`, `DB_PASS`, `PGPASSWORD`), false for look-alikes
    /// (`max_tokens`, `pad_token`, `tokenizer`, `TOKEN_FILE`, `sort_key`, `PWD`, `first_pass`).
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
            // PGPASSWORD, MYSQLPASSWD, clientsecret: a strong word glued to what it is for.
            if gluedStrongWords.contains(where: { part.count > $0.count && part.hasSuffix($0) }) { return true }
            let before = i > 0 ? parts[i - 1] : nil
            // DB_PASS, SMTP_PASS, dbpass: "pass" as the last word, after what it is for; not
            // PASS alone (a test result), first_pass, num_pass, bypass, compass.
            if i == parts.count - 1, part == "pass" || (part.hasSuffix("pass") && part.count > 4) {
                let glued = part == "pass" ? nil : String(part.dropLast(4))
                if let q = glued ?? before, !passQualifiers.contains(q) { return true }
            }
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
    private static let gluedStrongWords = ["password", "passwd", "passphrase", "secret", "apikey"]
    /// Words before `pass` that make it a count or a step, not a password.
    private static let passQualifiers: Set<String> = [
        "by", "com", "encom", "over", "under", "tres", "sur", "multi", "one", "single", "double",
        "two", "three", "first", "second", "third", "last", "final", "next", "prev", "previous",
        "forward", "backward", "fwd", "bwd", "fw", "bw", "num", "n", "max", "min", "each", "per",
        "this", "extra", "total", "test", "tests", "high", "low", "band", "all", "warm", "eval",
        "train", "ci", "check", "render", "shadow", "depth", "grad", "compile", "lint", "full",
        "partial", "dry", "no", "skip",
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
    /// redacted, a boolean/None, a placeholder (`<your key>`, `${VAR}`, `$VAR`), a file path,
    /// a lone `{` or `[`.
    static func isHarmlessValue(_ value: String) -> Bool {
        let v = value.trimmingCharacters(in: .whitespaces)
        // "[REDACTED" too: an unquoted value stops at "]", and a second pass must not re-mask.
        if v.isEmpty || v.contains("[REDACTED") || v.contains("***") { return true }
        if ["true", "false", "none", "null", "nil", "yes", "no", "undefined", "''", "\"\""]
            .contains(v.lowercased()) { return true }
        if v.hasPrefix("$") || v.hasPrefix("<") || v.hasPrefix("%(") || v.hasPrefix("{{") { return true }
        // `"accessKeySecret": {`: an object or list opens, the values come on later lines.
        if v == "{" || v == "[" { return true }
        if v.hasPrefix("/") || v.hasPrefix("~/") || v.hasPrefix("./") || v.hasPrefix("../") { return true }
        return false
    }

    // MARK: - Rules

    /// One regex and what to put in place of each match (nil: leave the match as it was).
    /// Immutable once built; NSRegularExpression is documented as safe to share between
    /// threads, which corelibs-foundation does not declare.
    struct Rule: @unchecked Sendable {
        let regex: NSRegularExpression
        /// When a match is left alone and this group is quoted, the group is searched again:
        /// regex matches do not overlap, so `"url": "https://x/?api_key=abc"` would otherwise
        /// hide the inner `api_key=`.
        let rescan: Int?
        let replace: (Match) -> String?

        init(_ pattern: String, rescan: Int? = nil, _ replace: @escaping (Match) -> String?) {
            // The patterns are constants: a bad one is a programming error caught by any test.
            regex = try! NSRegularExpression(pattern: pattern, options: [])
            self.rescan = rescan
            self.replace = replace
        }

        func apply(to text: String) -> String {
            var ignored = NSRange(location: 0, length: 0)
            return apply(to: text, tracking: &ignored)
        }

        /// The text with this rule's replacements; `tracked` (UTF-16 offsets) is moved to where
        /// its text ended up, widened over any replacement it overlaps.
        func apply(to text: String, tracking tracked: inout NSRange) -> String {
            let ns = text as NSString
            var edits: [(range: NSRange, text: String)] = []
            collect(in: ns, offset: 0, into: &edits, depth: 0)
            guard !edits.isEmpty else { return text }
            let a = tracked.location, b = tracked.location + tracked.length
            var newA: Int?, newB: Int?
            var out = "", cursor = 0, outLength = 0
            for edit in edits where edit.range.location >= cursor {
                let s = edit.range.location, e = s + edit.range.length
                // Positions in [cursor, s] keep their distance to the kept text's start.
                if newA == nil, a <= s { newA = outLength + (a - cursor) }
                if newB == nil, b <= s { newB = outLength + (b - cursor) }
                out += ns.substring(with: NSRange(location: cursor, length: s - cursor))
                outLength += s - cursor
                let replacementLength = (edit.text as NSString).length
                // Inside the replaced span: the range grows to the whole replacement.
                if newA == nil, a < e { newA = outLength }
                if newB == nil, b < e { newB = outLength + replacementLength }
                out += edit.text
                outLength += replacementLength
                cursor = e
            }
            let start = newA ?? outLength + (a - cursor)
            let end = newB ?? outLength + (b - cursor)
            tracked = NSRange(location: start, length: max(0, end - start))
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
                    guard r.location != NSNotFound, r.location > 0, r.length > 1 else { continue }
                    // Only a quoted value can hold a `name=value` or `--flag value` of its own:
                    // an unquoted one stops at whitespace, `:` and `=`, and the scan goes on
                    // after it by itself.
                    let quote = ns.character(at: r.location)
                    guard quote == 34 || quote == 39 else { continue }
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
        /// True when only spaces, tabs or list dashes stand between the line start and the match
        /// (O(that prefix): it stops at the first other character).
        var startsLine: Bool {
            var i = result.range.location
            while i > 0 {
                let c = ns.character(at: i - 1)
                if c == 10 || c == 13 { return true }
                if c != 32 && c != 9 && c != 45 { return false }
                i -= 1
            }
            return true
        }
        /// The UTF-16 unit `n` characters after the match, nil past the end.
        func character(afterMatch n: Int) -> unichar? {
            let i = result.range.location + result.range.length + n
            return i < ns.length ? ns.character(at: i) : nil
        }
        /// True when a space or tab comes `n` characters after the match: more words follow.
        func isBlank(afterMatch n: Int) -> Bool {
            let c = character(afterMatch: n)
            return c == 32 || c == 9
        }
        /// How many characters right after the match continue an unquoted value: up to
        /// whitespace or one of `, ; & ) } ] " '` (O(that run)).
        func valueRunLength() -> Int {
            let start = result.range.location + result.range.length
            var i = start
            scan: while i < ns.length {
                switch ns.character(at: i) {
                case 9, 10, 11, 12, 13, 32, 34, 38, 39, 41, 44, 59, 93, 125: break scan
                case let c where c > 127:
                    if let u = UnicodeScalar(c), CharacterSet.whitespacesAndNewlines.contains(u) { break scan }
                default: break
                }
                i += 1
            }
            return i - start
        }
        /// The `n` characters right after the match.
        func text(afterMatch n: Int) -> String {
            ns.substring(with: NSRange(location: result.range.location + result.range.length, length: n))
        }
        /// The rest of the line after the match, without the line break (O(rest), not O(line)).
        var restOfLine: String {
            let end = result.range.location + result.range.length
            let stop = Redactor.lineEnd(ns, from: end)
            return ns.substring(with: NSRange(location: end, length: stop - end))
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

    // Repetitions are bounded wherever a match attempt could start at many positions of one
    // long run and scan to its end from each (`{0,31}` in a URL scheme, `{0,1024}` in a quoted
    // value, `{0,256}` after `wandb login`): that is what keeps every rule linear. Token
    // prefixes have no word boundary in front: `xghp_…` and `token_ghp_…` are tokens too.
    static let rules: [Rule] = [
        // Private key blocks: up to the footer, or (a log tail cut the block off) over the
        // header's line and the key lines right after it, never further.
        Rule(#"-----BEGIN (?:[A-Z0-9]+ ){0,8}PRIVATE KEY(?: BLOCK)?-----"#) { m in privateKeyBlock(m) },
        // Credentials in URLs: scheme://user:pass@host, and a bare token as the user.
        Rule(#"(?i)\b([a-z][a-z0-9+.\-]{0,31}://)([^\s/:@'"<>()]*)(?::([^\s/@'"<>()]*))?@(?=[A-Za-z0-9\[])"#) { m in
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
        Rule(#"(gh[pousr]_)[A-Za-z0-9]{20,}"#) { m in m[1] + mark },
        Rule(#"(github_pat_)[A-Za-z0-9_]{20,}"#) { m in m[1] + mark },
        Rule(#"(glpat-)[A-Za-z0-9_\-]{20,}"#) { m in m[1] + mark },
        Rule(#"(hf_)[A-Za-z0-9]{20,}"#) { m in m[1] + mark },
        Rule(#"(xox[baprs]-)[A-Za-z0-9\-]{8,}"#) { m in m[1] + mark },
        // Stripe secret and restricted keys (live and test), and webhook signing secrets.
        Rule(#"([sr]k_(?:live|test)_)[A-Za-z0-9]{16,}"#) { m in m[1] + mark },
        Rule(#"(whsec_)[A-Za-z0-9]{20,}"#) { m in m[1] + mark },
        // Google API keys and OAuth access tokens.
        Rule(#"(AIza)[0-9A-Za-z_\-]{35}"#) { m in m[1] + mark },
        Rule(#"(ya29\.)[0-9A-Za-z_\-]{20,}"#) { m in m[1] + mark },
        // npm, PyPI and SendGrid tokens.
        Rule(#"(npm_)[A-Za-z0-9]{36}"#) { m in m[1] + mark },
        Rule(#"(pypi-)AgE[A-Za-z0-9_\-]{40,}"#) { m in m[1] + mark },
        Rule(#"(SG\.)[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"#) { m in m[1] + mark },
        // OpenAI-style keys; a digit is required so kebab-case words never match, and a letter
        // or dash may not come first (`task-…`, `disk-…` are names), an underscore may.
        Rule(#"(?<![A-Za-z0-9\-])(sk-)([A-Za-z0-9_\-]{20,})"#) { m in
            m[2].contains(where: \.isNumber) ? m[1] + mark : nil
        },
        Rule(#"(AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"#) { m in m[1] + mark },
        // JWTs start a word: no attempt from inside a long `eyJ-eyJ-…` run.
        Rule(#"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"#) { _ in mark },
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
        Rule(#"(?i)(\bwandb\s+login\b[^\n]{0,256}?\s)([A-Za-z0-9_]{0,12}-?[0-9a-fA-F]{40}[A-Za-z0-9_]*)"#) { m in m[1] + mark },
        // NAME=value, NAME: value, "name": "value", --name=value, export NAME="value". An
        // unquoted value stops at `:` and `=`, and one that is followed by `: ` or `=x` is
        // taken for the next name, so in `INFO:root:password: x`, `db: password: x` and
        // `env: DB_PASS=x` the match is the last name's.
        Rule(#"(?<![A-Za-z0-9_.\-])(-{0,2})(["']?)([A-Za-z_][A-Za-z0-9_.\-]*)\2([ \t]*[:=](?![:=/])[ \t]*)("(?:[^"\\\n]|\\.){0,1024}"|'[^'\n]{0,1024}'|[^\s,;&)}\]"':=][^\s,;&)}\]"':=]*+(?!:(?:[ \t\r\n]|$)|=[^=\s]))"#, rescan: 5) { m in
            namedValue(m, leftToNext: false)
        },
        // The same, for a value followed by `: ` or `=x` (`token=abc: expired`, `key=abc=def`),
        // which the rule above left to the name after it.
        Rule(#"(?<![A-Za-z0-9_.\-])(-{0,2})(["']?)([A-Za-z_][A-Za-z0-9_.\-]*)\2([ \t]*[:=](?![:=/])[ \t]*)([^\s,;&)}\]"':=][^\s,;&)}\]"':=]*+)(?=:(?:[ \t\r\n]|$)|=[^=\s])"#) { m in
            namedValue(m, leftToNext: true)
        },
        // --password VALUE, --hub-token VALUE (flag and value as separate words).
        Rule(#"(?<![A-Za-z0-9_.\-])(--?)([A-Za-z][A-Za-z0-9_\-]*)([ \t]+)("(?:[^"\\\n]|\\.){0,1024}"|'[^'\n]{0,1024}'|[^\s"'\-][^\s"']*)"#, rescan: 4) { m in
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

    /// The replacement for a `NAME=value` match (groups: dashes, quote, name, separator,
    /// value), or nil when the name is no secret's or the value is harmless or code.
    /// `leftToNext`: the value is followed by `: ` or `=x` (the second NAME rule).
    private static func namedValue(_ m: Match, leftToNext: Bool) -> String? {
        let name = m[3], sep = m[4]
        guard isSecretName(name) else { return nil }
        var value = m[5]
        let quoted = value.first == "\"" || value.first == "'"
        // A secret's unquoted value runs on over `:` and `=` (`user:pass`, base64 `abc==`),
        // but not over the `: ` that ends it (`token=abc: expired`).
        let run = quoted || (leftToNext && m.character(afterMatch: 0) == 58) ? 0 : m.valueRunLength()
        if run > 0 { value += m.text(afterMatch: run) }
        guard !isHarmlessValue(unquoted(value)) else { return nil }
        // `token = self.token` / `key = os.environ.get(...)`: source code in a traceback.
        if sep.contains(" "), !quoted,
           value.contains("(") || value.range(of: #"^[A-Za-z_]\w*(\.\w+)+$"#, options: .regularExpression) != nil {
            return nil
        }
        m.extend = run
        // YAML / header / log line (`password: two words`, `13 password: two words`): the
        // value is the rest of the line, at a line's start or when more words follow it.
        if !leftToNext, sep.hasPrefix(":"), !quoted, m[1].isEmpty, m.wholeLine,
           m.startsLine || m.isBlank(afterMatch: run) {
            var rest = m.restOfLine
            if let hash = rest.range(of: " #") { rest = String(rest[..<hash.lowerBound]) }
            while let l = rest.last, l == " " || l == "\t" { rest.removeLast() }
            m.extend = max(run, (rest as NSString).length)
        }
        return m[1] + m[2] + name + m[2] + sep + masked(value)
    }
}
