import Foundation

/// Untrusted text (file names from the worktree) placed into text that leaves the machine or
/// that expt reads back: the branch doc's Fix entry, the commit trailers, the PR comment (R6).
public enum SafeText {
    /// A file name as one inert word: names of ordinary characters as they are; any other in
    /// double quotes with JSON-style escapes, so a name can hold no newline (no forged Fix entry,
    /// no multi-line trailer), no `<!--` (no forged dedupe marker), no `@` (no mention) and no
    /// backquote or markdown that breaks the surrounding text.
    public static func fileName(_ name: String) -> String {
        let plain = name.unicodeScalars.allSatisfy { s in
            s.isASCII && (CharacterSet.alphanumerics.contains(s) || "._-/+=,:%~ ".unicodeScalars.contains(s))
        }
        if plain && !name.isEmpty && !name.hasPrefix(" ") && !name.hasSuffix(" ") { return name }
        var out = "\""
        for s in name.unicodeScalars {
            switch s {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "@", "`", "|", "*", "_", "[", "]", "#", "!", "&":
                out += String(format: "\\u%04x", s.value)
            default:
                if s.value < 0x20 || s.value == 0x7F || (0x80...0x9F).contains(s.value) || isInvisible(s) {
                    out += String(format: "\\u%04x", s.value)
                } else {
                    out.unicodeScalars.append(s)
                }
            }
        }
        return out + "\""
    }

    /// Bidi controls and zero-width characters: they reorder or hide what a reader sees.
    static func isInvisible(_ s: Unicode.Scalar) -> Bool {
        [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF].contains(s.value)
            || (0x202A...0x202E).contains(s.value) || (0x2066...0x2069).contains(s.value)
    }

    /// Inline code for any text: a fence one backquote longer than the longest run inside it
    /// (CommonMark), so a name holding backquotes cannot close the span and let `@team` out (R32).
    public static func code(_ text: String) -> String {
        var longest = 0, run = 0
        for c in text { run = c == "`" ? run + 1 : 0; longest = max(longest, run) }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = text.hasPrefix("`") || text.hasSuffix("`") ? " " : ""
        return fence + pad + text.replacingOccurrences(of: "\n", with: " ") + pad + fence
    }
}
