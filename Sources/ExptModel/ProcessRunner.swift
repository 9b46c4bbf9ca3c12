import Foundation

/// The result of running an external command. A non-zero status is data, not an error:
/// the adapter decides what counts as failure.
public struct ProcessResult: Sendable, Equatable {
    public var argv: [String]
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public init(argv: [String], status: Int32, stdout: String, stderr: String) {
        self.argv = argv; self.status = status; self.stdout = stdout; self.stderr = stderr
    }
    /// The last few lines of stderr, for error messages.
    public var stderrTail: String {
        stderr.split(separator: "\n", omittingEmptySubsequences: true).suffix(8).joined(separator: "\n")
    }
}

/// The seam for every external command expt runs (sbatch, gh, kubectl, ...). argv only: never a
/// shell string built from user data.
public protocol ProcessRunner: Sendable {
    /// Runs argv[0] (searched on PATH) to completion. Throws only when it cannot be started.
    func run(_ argv: [String], stdin: Data?, environment: [String: String]?, cwd: String?) throws -> ProcessResult
}

extension ProcessRunner {
    public func run(_ argv: [String]) throws -> ProcessResult {
        try run(argv, stdin: nil, environment: nil, cwd: nil)
    }
}
