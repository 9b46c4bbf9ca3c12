import Foundation
import ExptModel
import GitKit

/// Pushes and PR comments that could not be delivered yet wait in the ledger's outbox; any
/// later expt command may retry them. Each item has a dedupe key, so nothing is queued twice,
/// and a comment whose earlier attempt had an unknown outcome is first looked for on the PR
/// (by the HTML marker in its body), so nothing is sent twice. An item is claimed in the ledger
/// before it is sent, so two processes retrying the outbox at once never both send it.
public struct Outbox {
    public let ws: Workspace
    public let ledger: Ledger
    public let hostFactory: PullRequestHostFactory?
    public var now: @Sendable () -> Date = { Date() }
    /// When a delivery's claim lapses. Well above what one delivery may take (three gh calls of
    /// at most `EXPT_COMMAND_TIMEOUT`, 120 s by default), so only the claim of a process killed
    /// mid-delivery lapses; whoever takes it over looks for the comment on the PR first.
    public var claimStaleAfter: TimeInterval = 600

    public init(ws: Workspace, ledger: Ledger, hostFactory: PullRequestHostFactory?) {
        self.ws = ws; self.ledger = ledger; self.hostFactory = hostFactory
    }

    struct PushPayload: Codable { var branch: String; var remote: String }
    struct CommentPayload: Codable { var branch: String; var body: String; var marker: String }

    /// Queues a push of `branch` (at `commit`) and tries it at once. Returns nil when delivered,
    /// else why it waits.
    public func push(branch: String, commit: String, remote: String = "origin") throws -> String? {
        let item = try ledger.enqueue(kind: "push", branch: branch, dedupeKey: "push:\(branch):\(commit)",
                                      payload: LedgerJSON.encode(PushPayload(branch: branch, remote: remote)), at: now())
        return try deliver(item)
    }

    /// Queues a PR comment (already redacted by the caller) and tries it at once.
    public func comment(branch: String, body: String, marker: String) throws -> String? {
        let item = try ledger.enqueue(kind: "pr_comment", branch: branch, dedupeKey: "comment:\(marker)",
                                      payload: LedgerJSON.encode(CommentPayload(branch: branch, body: body, marker: marker)), at: now())
        return try deliver(item)
    }

    /// Retries every pending item whose last attempt is older than `minimumAge` seconds.
    /// Returns (delivered, still pending).
    @discardableResult
    public func retryPending(minimumAge: TimeInterval = 0) -> (delivered: Int, pending: Int) {
        guard let items = try? ledger.pendingOutbox() else { return (0, 0) }
        var delivered = 0, pending = 0
        for item in items {
            if let last = item.lastAttemptAt, now().timeIntervalSince(last) < minimumAge { pending += 1; continue }
            do {
                if try deliver(item) == nil { delivered += 1 } else { pending += 1 }
            } catch {
                pending += 1
            }
        }
        return (delivered, pending)
    }

    /// Tries one item; nil when delivered (now or before), else the reason it still waits. An
    /// item another process is delivering is skipped.
    @discardableResult
    public func deliver(_ queued: OutboxItem) throws -> String? {
        if queued.deliveredAt != nil { return nil }
        // Claimed in a ledger transaction before anything is sent (R12): `outbox --retry`,
        // `status` and fix flows of other branches may all be retrying this item right now.
        let owner = Ledger.claimOwner()
        guard try ledger.claimOutbox(id: queued.id, owner: owner, at: now(), staleAfter: claimStaleAfter) else {
            let delivered = try ledger.outboxItem(id: queued.id)?.deliveredAt != nil
            return delivered ? nil : "another expt process is delivering it (retried after \(Int(claimStaleAfter / 60)) min if that process was killed)"
        }
        defer { try? ledger.releaseOutboxClaim(id: queued.id, owner: owner) }
        // Read again under the claim: another process may have tried it since `queued` was read,
        // and its attempt count decides whether the PR is searched for the comment first.
        let item = try ledger.outboxItem(id: queued.id) ?? queued
        do {
            switch item.kind {
            case "push":
                guard let p = LedgerJSON.decode(PushPayload.self, item.payload) else {
                    throw ExptError(.failure, "outbox item \(item.id) has an unreadable payload")
                }
                guard let url = try ws.repo.remoteURL(p.remote) else {
                    throw ExptError(.external, "there is no remote '\(p.remote)' to push to")
                }
                let host = hostFactory?(url)
                try PushScan.refuseSecrets(ws.repo, branch: p.branch, remote: p.remote, base: try ws.base(of: p.branch))
                try ws.repo.push(branch: p.branch, remote: p.remote, credentials: PushCredentials(httpsToken: { host?.authToken() }))
            case "pr_comment":
                guard let p = LedgerJSON.decode(CommentPayload.self, item.payload) else {
                    throw ExptError(.failure, "outbox item \(item.id) has an unreadable payload")
                }
                guard let url = try ws.repo.remoteURL("origin"), let host = hostFactory?(url) else {
                    throw ExptError(.external, "the remote 'origin' is not on a pull-request host expt knows")
                }
                guard let pr = try host.findPullRequest(branch: p.branch) else {
                    throw ExptError(.external, "\(p.branch) has no open pull request", hint: "create one with `expt pr \(p.branch)`")
                }
                // An earlier attempt may have posted it before expt was interrupted.
                if item.attempts > 0, try host.commentBodies(number: pr.number).contains(where: { $0.contains(p.marker) }) {
                    break
                }
                try ledger.markAttemptFailed(id: item.id, error: "in flight (outcome unknown)", at: now())
                try host.comment(number: pr.number, body: p.body)
                FaultInjection.point("outbox-comment-sent")
            default:
                throw ExptError(.failure, "unknown outbox item kind '\(item.kind)'")
            }
            try ledger.markDelivered(id: item.id, at: now())
            return nil
        } catch {
            let reason = (error as? UserFacingError)?.message ?? "\(error)"
            try? ledger.markAttemptFailed(id: item.id, error: reason, at: now())
            return reason
        }
    }
}
