/// The one error type of the domain. Messages are in the user's words: what went wrong, why,
/// and (in `hint`) what to do. `ExptCLI` prints it and maps `kind` to an exit code.
public struct ExptError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case failure      // exit 1: an operation failed
        case invalidInput // exit 2: bad argument, name, config
        case conflict     // exit 3: refused because of state (dirty, locked, merge conflicts)
        case notFound     // exit 4: no such branch, run, file
        case external     // exit 5: an external tool (scheduler, gh) failed or is missing
    }
    public var kind: Kind
    public var message: String
    public var hint: String?

    public init(_ kind: Kind, _ message: String, hint: String? = nil) {
        self.kind = kind; self.message = message; self.hint = hint
    }
    public var description: String {
        hint.map { "\(message)\nhint: \($0)" } ?? message
    }
}
