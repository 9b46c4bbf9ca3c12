import Foundation
import ExptModel

/// How patiently to poll (docs/commands.md, `watch`): queue waiting is not a failure, so only-pending
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

