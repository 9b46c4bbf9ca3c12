import Foundation
import ExptModel

/// Runs real processes with extra variables (a fake's PATH, PYTHONPATH and state directory) and
/// records what each call passed, so a test can check that no secret reached argv or stdin.
public final class RecordingRunner: ProcessRunner, @unchecked Sendable {
    public let extra: [String: String]
    private let lock = NSLock()
    private var _calls: [(argv: [String], stdin: String)] = []

    public init(_ extra: [String: String]) { self.extra = extra }

    public var calls: [(argv: [String], stdin: String)] { lock.withLock { _calls } }

    public func run(_ argv: [String], stdin: Data?, environment: [String: String]?, cwd: String?) throws -> ProcessResult {
        lock.withLock { _calls.append((argv, stdin.map { String(decoding: $0, as: UTF8.self) } ?? "")) }
        return try SystemProcessRunner(timeout: 60).run(argv, stdin: stdin, environment: extra.merging(environment ?? [:]) { $1 }, cwd: cwd)
    }
}
