import Foundation
import XCTest
import ExptModel
import ExptBackends
import ExptTestSupport
@testable import ExptCLI

/// R33: `logs --follow` reads on without pausing while output is pending, and pauses only once
/// it has caught up.
final class LogsFollowTests: XCTestCase {
    func testFollowReadsABurstBackToBackAndSleepsOnlyOnceCaughtUp() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/a")
        h.backend.willSubmit(.init(states: Array(repeating: .running, count: 8) + [.succeeded], exitCode: 0))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)

        // 3.5 chunks of whole 1 KiB lines land once follow has started.
        let chunk = LogsCommand.maxBytes
        let burst = String(repeating: String(repeating: "x", count: 1023) + "\n", count: chunk / 1024 * 7 / 2)
        let events = Events()
        let log = GrowingLog(inner: h.backend, initial: "started\n", burst: burst, events: events)
        let (base, out) = h.environment()
        var env = base
        env.backends = BackendRegistry([LocalBackend.entry, log.entry])
        let clock = h.clock
        env.sleep = { events.append("sleep"); clock.advance($0) }

        let status = Expt.run(arguments: ["logs", "exp/a", "--follow"], in: env)
        XCTAssertEqual(status, 0, out.stderr)
        XCTAssertTrue(out.stdout == "started\n" + burst, "everything printed, in order (\(out.stdout.utf8.count) bytes)")
        XCTAssertTrue(out.stderr.contains("run r1 ended: succeeded"), out.stderr)

        let seen = events.all
        XCTAssertEqual(Array(seen.prefix(7)),
                       ["read \(chunk)", "read \(chunk)", "read \(chunk)", "read \(chunk / 2)", "sleep", "read 0", "sleep"], "\(seen)")
        for (a, b) in zip(seen, seen.dropFirst()) where a == "read \(chunk)" {
            XCTAssertNotEqual(b, "sleep", "no pause after a full chunk: \(seen)")
        }
        // The last read is the drain once the run has ended: no pause before it.
        let polling = Array(seen.dropLast())
        for (a, b) in zip(polling, polling.dropFirst()) where a == "read 0" {
            XCTAssertEqual(b, "sleep", "a pause when nothing is pending: \(seen)")
        }
        XCTAssertEqual(seen.last, "read 0", "drained before saying how the run ended")
    }

    func testMorePendingOnlyWhenAReadStoppedShortOfTheEnd() {
        XCTAssertTrue(LogsCommand.morePending(after: LogChunk(head: [1, 2], size: 10, end: 4)))
        XCTAssertFalse(LogsCommand.morePending(after: LogChunk(head: [1, 2], size: 4, end: 4)), "caught up")
        XCTAssertFalse(LogsCommand.morePending(after: LogChunk(head: [], size: 10, end: 4)), "nothing read: never a busy loop")
    }
}

/// What happened, in order: follow's reads (`read <bytes>`) and sleeps.
private final class Events: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    var all: [String] { lock.withLock { items } }
    func append(_ e: String) { lock.withLock { items.append(e) } }
}

/// The fake backend with a stdout that grows by `burst` at the first offset read (follow's
/// first), recording each such read.
private final class GrowingLog: Backend, @unchecked Sendable {
    let inner: FakeBackend
    private let lock = NSLock()
    private var bytes: [UInt8]
    private var burst: [UInt8]?
    private let events: Events

    init(inner: FakeBackend, initial: String, burst: String, events: Events) {
        self.inner = inner; self.bytes = Array(initial.utf8); self.burst = Array(burst.utf8); self.events = events
    }

    var entry: BackendEntry { BackendEntry(name: inner.name, settings: FakeBackend.NoSettings.self) { [self] _, _ in self } }

    var name: String { inner.name }
    func submit(_ spec: JobSpec) throws -> JobRef { try inner.submit(spec) }
    func poll(_ refs: [JobRef]) throws -> [JobRef: JobStatus] { try inner.poll(refs) }
    func cancel(_ ref: JobRef) throws { try inner.cancel(ref) }
    func logs(_ ref: JobRef, spec: JobSpec) -> [LogSource] { inner.logs(ref, spec: spec) }
    func lookup(jobName: String, spec: JobSpec) throws -> JobRef? { try inner.lookup(jobName: jobName, spec: spec) }
    func pendingVerdict(reason: String?) -> PendingVerdict { inner.pendingVerdict(reason: reason) }
    var needsCommand: Bool { inner.needsCommand }
    func check(_ spec: JobSpec) throws { try inner.check(spec) }
    var files: ClusterFiles { inner.files }
    func notes(_ ref: JobRef, spec: JobSpec) -> [String] { inner.notes(ref, spec: spec) }

    func read(_ source: LogSource, _ range: LogRange) throws -> LogChunk {
        guard source.kind == .stdout else { return try inner.read(source, range) }
        return lock.withLock {
            let size = UInt64(bytes.count)
            switch range {
            case .headAndTail(let head, let tail):
                guard bytes.count > head + tail else { return LogChunk(head: bytes, size: size, end: size) }
                return LogChunk(head: Array(bytes.prefix(head)), tail: Array(bytes.suffix(tail)), size: size, end: size)
            case .tail(let n):
                return LogChunk(head: Array(bytes.suffix(n)), size: size, end: size)
            case .from(let offset, let max):
                if let more = burst { bytes += more; burst = nil }
                let start = min(Int(offset), bytes.count)
                let part = Array(bytes[start..<min(bytes.count, start + max)])
                events.append("read \(part.count)")
                return LogChunk(head: part, size: UInt64(bytes.count), end: UInt64(start + part.count))
            }
        }
    }
}
