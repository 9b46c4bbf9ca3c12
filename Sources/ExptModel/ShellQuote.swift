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
