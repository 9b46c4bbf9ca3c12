import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCore

/// R12: an outbox item is claimed in a ledger transaction before it is sent, so two processes
/// (two `Ledger` connections on one file here) never both deliver it.
final class OutboxClaimTests: XCTestCase {
    var dir: String!
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "outbox-claim-tests-\(UUID().uuidString)/expt"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent)
    }

    func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    // MARK: - The ledger's claim

    func testOnlyOneConnectionClaimsAnItemAndADeliveredOneIsNeverClaimed() throws {
        let a = try Ledger(dir: dir), b = try Ledger(dir: dir)
        let item = try a.enqueue(kind: "pr_comment", branch: "exp/lr", dedupeKey: "comment:expt:fix:r1", payload: "{}")

        XCTAssertTrue(try a.claimOutbox(id: item.id, owner: "a", at: at(0), staleAfter: 600))
        XCTAssertFalse(try b.claimOutbox(id: item.id, owner: "b", at: at(1), staleAfter: 600), "a holds it")
        XCTAssertFalse(try a.claimOutbox(id: item.id, owner: "a2", at: at(1), staleAfter: 600), "a holds it")
        try b.releaseOutboxClaim(id: item.id, owner: "b")
        XCTAssertFalse(try b.claimOutbox(id: item.id, owner: "b", at: at(2), staleAfter: 600), "only the holder releases")

        // A failed delivery releases the item for the next try.
        try a.markAttemptFailed(id: item.id, error: "gh: offline", at: at(3))
        try a.releaseOutboxClaim(id: item.id, owner: "a")
        XCTAssertTrue(try b.claimOutbox(id: item.id, owner: "b", at: at(4), staleAfter: 600))

        try b.markDelivered(id: item.id, at: at(5))
        try b.releaseOutboxClaim(id: item.id, owner: "b")
        XCTAssertFalse(try a.claimOutbox(id: item.id, owner: "a", at: at(6), staleAfter: 600), "delivered")
        XCTAssertFalse(try a.claimOutbox(id: item.id, owner: "a", at: at(86_400), staleAfter: 600), "delivered, however late")
        XCTAssertFalse(try a.claimOutbox(id: item.id + 1, owner: "a", at: at(6), staleAfter: 600), "no such item")
        XCTAssertEqual(try a.outboxItem(id: item.id)?.attempts, 1)
        XCTAssertNil(try a.outboxItem(id: item.id + 1))
    }

    func testAClaimOfAProcessThatIsGoneLapsesAtOnce() throws {
        let a = try Ledger(dir: dir), b = try Ledger(dir: dir)
        let item = try a.enqueue(kind: "pr_comment", branch: "exp/lr", dedupeKey: "comment:expt:fix:r9", payload: "{}")
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let host = ProcessInfo.processInfo.hostName
        XCTAssertTrue(try a.claimOutbox(id: item.id, owner: "pid \(dead.processIdentifier) host \(host) x", at: at(0), staleAfter: 600))
        XCTAssertTrue(try b.claimOutbox(id: item.id, owner: Ledger.claimOwner(), at: at(1), staleAfter: 600),
                      "its holder exited: no 10-minute wait")
        let live = Ledger.claimOwner()
        let c = try Ledger(dir: dir)
        let other = try c.enqueue(kind: "pr_comment", branch: "exp/lr", dedupeKey: "comment:expt:fix:r10", payload: "{}")
        XCTAssertTrue(try c.claimOutbox(id: other.id, owner: live, at: at(0), staleAfter: 600))
        XCTAssertFalse(try a.claimOutbox(id: other.id, owner: Ledger.claimOwner(), at: at(1), staleAfter: 600), "a live holder keeps it")
        XCTAssertFalse(try a.claimOutbox(id: other.id, owner: "x", at: at(2), staleAfter: 600))
        _ = other
    }

    func testAStaleClaimIsTakenOverAndTheOldOwnerCannotReleaseIt() throws {
        let a = try Ledger(dir: dir), b = try Ledger(dir: dir)
        let item = try a.enqueue(kind: "push", branch: "exp/lr", dedupeKey: "push:exp/lr:abc", payload: "{}")

        XCTAssertTrue(try a.claimOutbox(id: item.id, owner: "killed", at: at(0), staleAfter: 600))
        XCTAssertFalse(try b.claimOutbox(id: item.id, owner: "b", at: at(599), staleAfter: 600), "still fresh")
        XCTAssertTrue(try b.claimOutbox(id: item.id, owner: "b", at: at(600), staleAfter: 600), "stale: taken over")
        XCTAssertFalse(try a.claimOutbox(id: item.id, owner: "c", at: at(601), staleAfter: 600), "b's claim is fresh")
        try a.releaseOutboxClaim(id: item.id, owner: "killed")
        XCTAssertFalse(try a.claimOutbox(id: item.id, owner: "c", at: at(602), staleAfter: 600), "b still holds it")
    }

    // MARK: - Two outboxes at once

    /// Two processes retry one pending comment; the second arrives while the first is inside
    /// gh (the host runs its retry from within the first `comment` call). Without the claim
    /// both would post: the first's comment is not on the PR yet when the second looks.
    func testTwoOutboxesRetryingOneCommentPostItOnce() throws {
        let repo = try TempRepo()
        defer { withExtendedLifetime(repo) {} }
        try repo.git("remote", "add", "origin", "https://github.com/acme/exp.git")
        let ws = try Workspace(at: repo.path)
        let first = try Ledger(dir: ws.stateDir), second = try Ledger(dir: ws.stateDir)
        let host = RacingHost()
        let a = Outbox(ws: ws, ledger: first, hostFactory: { _ in host })
        let b = Outbox(ws: ws, ledger: second, hostFactory: { _ in host })

        host.offline = true
        let body = "<!-- expt:fix:r1 -->\nfixed the OOM"
        XCTAssertNotNil(try a.comment(branch: "exp/lr", body: body, marker: "expt:fix:r1"), "queued while offline")
        host.offline = false

        var meanwhile: (delivered: Int, pending: Int)?
        host.whilePosting = { meanwhile = b.retryPending() }
        let result = a.retryPending()

        XCTAssertEqual(host.posted, [body], "posted exactly once")
        XCTAssertEqual(result.delivered, 1)
        XCTAssertEqual(meanwhile?.delivered, 0, "the second process skipped the item the first had claimed")
        XCTAssertEqual(meanwhile?.pending, 1)
        XCTAssertEqual(try second.pendingOutbox(), [])
        XCTAssertEqual(b.retryPending().delivered, 0, "nothing left")
        XCTAssertEqual(host.posted.count, 1)
    }

    /// A process killed after posting holds its claim until it lapses; then the next retry
    /// finds the comment by its marker instead of posting it again.
    func testAClaimLeftByAKilledProcessLapsesAndItsCommentIsNotPostedAgain() throws {
        let repo = try TempRepo()
        defer { withExtendedLifetime(repo) {} }
        try repo.git("remote", "add", "origin", "https://github.com/acme/exp.git")
        let ws = try Workspace(at: repo.path)
        let first = try Ledger(dir: ws.stateDir), second = try Ledger(dir: ws.stateDir)
        let host = RacingHost()
        let body = "<!-- expt:fix:r2 -->\nfixed the OOM"
        let item = try first.enqueue(kind: "pr_comment", branch: "exp/lr", dedupeKey: "comment:expt:fix:r2",
                                     payload: LedgerJSON.encode(Outbox.CommentPayload(branch: "exp/lr", body: body, marker: "expt:fix:r2")),
                                     at: at(0))
        // What the killed process left: its claim, the in-flight attempt, the comment on the PR.
        XCTAssertTrue(try first.claimOutbox(id: item.id, owner: "pid 1 killed", at: at(0), staleAfter: 600))
        try first.markAttemptFailed(id: item.id, error: "in flight (outcome unknown)", at: at(0))
        host.posted = [body]

        var later = Outbox(ws: ws, ledger: second, hostFactory: { _ in host })
        let killedAt = at(0)
        later.now = { killedAt.addingTimeInterval(60) }
        let early = later.retryPending()
        XCTAssertEqual(early.delivered, 0)
        XCTAssertEqual(early.pending, 1)
        XCTAssertEqual(host.calls, [], "a claimed item is not touched")

        later.now = { killedAt.addingTimeInterval(601) }
        XCTAssertEqual(later.retryPending().delivered, 1)
        XCTAssertEqual(host.posted, [body], "found by its marker, not posted again")
        XCTAssertEqual(try first.pendingOutbox(), [])
    }
}

/// A pull-request host whose first `comment` call runs `whilePosting` before it posts: another
/// process's retry arriving while this one waits on gh, deterministically.
private final class RacingHost: PullRequestHost {
    var offline = false
    var whilePosting: (() -> Void)?
    var posted: [String] = []
    private(set) var calls: [String] = []

    func findPullRequest(branch: String) throws -> PullRequestRef? {
        calls.append("find \(branch)")
        if offline { throw ExptError(.external, "gh: offline") }
        return PullRequestRef(number: 7, url: "https://github.com/acme/exp/pull/7")
    }

    func createPullRequest(branch: String, base: String, title: String, body: String, draft: Bool) throws -> PullRequestRef {
        throw ExptError(.failure, "RacingHost: unexpected create")
    }

    func comment(number: Int, body: String) throws {
        calls.append("comment \(number)")
        if let hook = whilePosting {
            whilePosting = nil
            hook()
        }
        posted.append(body)
    }

    func commentBodies(number: Int) throws -> [String] {
        calls.append("comments \(number)")
        return posted
    }

    func authToken() -> String? { nil }
}
