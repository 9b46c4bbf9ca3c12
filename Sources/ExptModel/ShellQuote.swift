/// POSIX shell quoting, for the few places where a prefix (ssh, `bash -c`) needs one string.
public enum ShellQuote {
    /// Quotes one word so any POSIX shell reads it back unchanged.
    public static func quote(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:@%+,".contains($0)) }) {
            return word
        }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
    /// Joins argv into one command line for a remote shell.
    public static func join(_ argv: [String]) -> String { argv.map(quote).joined(separator: " ") }
}

extension ShellQuote {
    /// Replaces every `placeholder` in a shell command with `value`, quoted for the context the
    /// user put the placeholder in (R7): unquoted, inside "…", or inside '…'. No context lets
    /// the value's text be parsed by the shell, so a file name such as `a$(touch x).pt` stays a
    /// file name however the command quotes `{checkpoint}`.
    public static func substitute(_ placeholder: String, in command: String, with value: String) -> String {
        enum Context { case plain, double, single }
        var out = ""
        var context = Context.plain
        var i = command.startIndex
        while i < command.endIndex {
            if command[i...].hasPrefix(placeholder) {
                switch context {
                case .plain: out += quote(value)
                case .double: out += doubleQuoted(value)
                case .single: out += "'" + quote(value) + "'"   // close, the quoted word, reopen
                }
                i = command.index(i, offsetBy: placeholder.count)
                continue
            }
            let c = command[i]
            out.append(c)
            switch (context, c) {
            case (.plain, "\\"), (.double, "\\"):
                // An escaped character is literal: copy it as it is.
                let next = command.index(after: i)
                if next < command.endIndex { out.append(command[next]); i = command.index(after: next); continue }
            case (.plain, "'"): context = .single
            case (.single, "'"): context = .plain
            case (.plain, "\""): context = .double
            case (.double, "\""): context = .plain
            default: break
            }
            i = command.index(after: i)
        }
        return out
    }

    /// `value` for the inside of "…": `$`, backquote, `"` and `\` escaped, so nothing expands.
    static func doubleQuoted(_ value: String) -> String {
        var s = ""
        for c in value {
            if "$`\"\\".contains(c) { s.append("\\") }
            s.append(c)
        }
        return s
    }
}
