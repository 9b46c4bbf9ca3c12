import Foundation

/// How patiently to poll (DESIGN.md section 2): queue waiting is not a failure, so only-pending
/// runs are polled rarely; running ones more often; and when something looks wrong (a failure
/// or a lost job while others still run), often.
public enum WatchPolicy {
    public static let pendingOnly = 600
    public static let running = 180
    public static let troubled = 60

    public static func interval(for runs: [RunRecord]) -> Int {
        let live = runs.filter { !$0.state.isTerminal }
        if runs.contains(where: { $0.state.isFailure }) && !live.isEmpty { return troubled }
        if live.contains(where: { $0.state == .running }) { return running }
        return pendingOnly
    }
}

/// One state change seen by `watch`.
public struct WatchEvent: Codable, Sendable {
    public var at: Date
    public var run: String
    public var branch: String
    public var from: String?
    public var to: String
    public var exitCode: Int32?
    public var diagnosis: String?

    enum CodingKeys: String, CodingKey { case at, run, branch, from, to, exitCode, diagnosis }

    /// Every key is always present (null when unknown).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(at, forKey: .at); try c.encode(run, forKey: .run); try c.encode(branch, forKey: .branch)
        try c.encode(from, forKey: .from); try c.encode(to, forKey: .to); try c.encode(exitCode, forKey: .exitCode)
        try c.encode(diagnosis, forKey: .diagnosis)
    }

    public init(at: Date, run: String, branch: String, from: String?, to: String, exitCode: Int32?, diagnosis: String?) {
        self.at = at; self.run = run; self.branch = branch; self.from = from; self.to = to
        self.exitCode = exitCode; self.diagnosis = diagnosis
    }
}
