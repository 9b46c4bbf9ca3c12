import Foundation
import ExptModel
#if canImport(XCTest)
import XCTest
#endif

/// A strict in-memory backend for in-process command tests: jobs live in a table, each poll
/// moves a job one step along its scripted states, output is served from memory. Every
/// capability must be armed; a call nobody armed fails the test and throws.
public final class FakeBackend: Backend, @unchecked Sendable {
    /// One job's script: the statuses successive polls report (the last one sticks), and its
    /// output by log kind.
    public struct Script: Sendable {
        public var states: [JobState]
        public var exitCode: Int32?
        public var reason: String?
        public var maxRSSMB: Int?
        public var stdout: String
        public var stderr: String
        /// For an array job: each task's final state (default: the job's) and output.
        public var taskStates: [Int: JobState]
        public var taskStdout: [Int: String]
        public init(states: [JobState], exitCode: Int32? = nil, reason: String? = nil, maxRSSMB: Int? = nil,
                    stdout: String = "", stderr: String = "", taskStates: [Int: JobState] = [:], taskStdout: [Int: String] = [:]) {
            self.states = states; self.exitCode = exitCode; self.reason = reason; self.maxRSSMB = maxRSSMB
            self.stdout = stdout; self.stderr = stderr; self.taskStates = taskStates; self.taskStdout = taskStdout
        }
    }

    public let name: String
    private let lock = NSLock()
    /// Scripts for the next submissions, in order.
    private var scripts: [Script] = []
    private var jobs: [String: (spec: JobSpec, script: Script, polls: Int)] = [:]
    private var order: [String] = []
    private var _calls: [String] = []
    public var allowCancel = false

    public init(name: String = "fake") { self.name = name }

    /// Arms one more submission: the job it creates follows `script`.
    public func willSubmit(_ script: Script) { lock.withLock { scripts.append(script) } }

    /// What was called, in order ("submit r1", "poll fake-1", "read fake-1 stdout", …).
    public var calls: [String] { lock.withLock { _calls } }
    /// The specs submitted, in order.
    public var submitted: [JobSpec] { lock.withLock { order.compactMap { jobs[$0]?.spec } } }

    /// The registry line that puts this fake under `name` (settings: none).
    public var entry: BackendEntry {
        BackendEntry(name: name, settings: NoSettings.self) { [self] _, _ in self }
    }
    public struct NoSettings: Decodable, Sendable {}

    public func submit(_ spec: JobSpec) throws -> JobRef {
        let id: String = try lock.withLock {
            _calls.append("submit \(spec.runID)")
            guard !scripts.isEmpty else { throw unexpected("submit of \(spec.runID): no submission was armed (willSubmit)") }
            let id = "\(name)-\(order.count + 1)"
            jobs[id] = (spec, scripts.removeFirst(), 0)
            order.append(id)
            return id
        }
        return JobRef(backend: name, jobID: id)
    }

    public func poll(_ refs: [JobRef]) throws -> [JobRef: JobStatus] {
        lock.withLock {
            _calls.append("poll " + refs.map(\.jobID).joined(separator: ","))
            var out: [JobRef: JobStatus] = [:]
            for ref in refs {
                guard var job = jobs[ref.jobID] else { continue }
                let state = job.script.states[min(job.polls, job.script.states.count - 1)]
                job.polls += 1
                jobs[ref.jobID] = job
                // An array's tasks end with the job, each in its scripted state.
                let tasks = (job.spec.array?.indices ?? []).map { i -> TaskStatus in
                    let s = state.isTerminal ? job.script.taskStates[i] ?? state : state
                    return TaskStatus(index: i, state: s, rawState: s.rawValue.uppercased(),
                                      exitCode: s.isTerminal ? (s == .succeeded ? 0 : job.script.exitCode) : nil)
                }
                out[ref] = JobStatus(ref: ref, state: state, rawState: state.rawValue.uppercased(),
                                     reason: state == .pending ? job.script.reason : nil,
                                     exitCode: state.isTerminal ? job.script.exitCode : nil,
                                     maxRSSMB: job.script.maxRSSMB, requestedMemoryMB: job.spec.resources.memoryMB, tasks: tasks)
            }
            return out
        }
    }

    public func cancel(_ ref: JobRef) throws {
        try lock.withLock {
            _calls.append("cancel \(ref.jobID)")
            guard allowCancel else { throw unexpected("cancel of \(ref.jobID) (set allowCancel)") }
            jobs[ref.jobID]?.script.states = [.cancelled]
            jobs[ref.jobID]?.polls = 0
        }
    }

    public func logs(_ ref: JobRef, spec: JobSpec) -> [LogSource] {
        // Paths that exist nowhere: reading them from disk instead of through `read` would fail.
        guard let array = spec.array else {
            return [LogSource(kind: .stdout, path: "fake://\(ref.jobID)/stdout", remote: true),
                    LogSource(kind: .stderr, path: "fake://\(ref.jobID)/stderr", remote: true)]
        }
        return array.indices.flatMap { i in
            [LogSource(kind: .stdout, path: "fake://\(ref.jobID)/\(i)/stdout", remote: true, task: i),
             LogSource(kind: .stderr, path: "fake://\(ref.jobID)/\(i)/stderr", remote: true, task: i)]
        }
    }

    public func read(_ source: LogSource, _ range: LogRange) throws -> LogChunk {
        try lock.withLock {
            let parts = source.path.replacingOccurrences(of: "fake://", with: "").split(separator: "/")
            let id = String(parts.first ?? "")
            _calls.append("read \(id) \(parts.dropFirst().joined(separator: " "))")
            guard let job = jobs[id] else { throw unexpected("read of \(source.path): no such job") }
            let text = source.task.map { job.script.taskStdout[$0] ?? "" } ?? job.script.stdout
            let bytes = Array((source.kind == .stderr ? (source.task == nil ? job.script.stderr : "") : text).utf8)
            switch range {
            case .headAndTail, .tail:
                return LogChunk(head: bytes, size: UInt64(bytes.count), end: UInt64(bytes.count))
            case .from(let offset, let max):
                let start = min(Int(offset), bytes.count)
                let slice = Array(bytes[start..<min(bytes.count, start + max)])
                return LogChunk(head: slice, size: UInt64(bytes.count), end: UInt64(start + slice.count))
            }
        }
    }

    public func lookup(jobName: String, spec: JobSpec) throws -> JobRef? {
        lock.withLock {
            _calls.append("lookup \(jobName)")
            return order.first { jobs[$0]?.spec.jobName == jobName }.map { JobRef(backend: name, jobID: $0) }
        }
    }

    public func pendingVerdict(reason: String?) -> PendingVerdict {
        reason == "Blocked" ? .blocked("the fake scheduler will never start it") : .waiting
    }

    private func unexpected(_ what: String) -> Error {
        #if canImport(XCTest)
        XCTFail("FakeBackend: unexpected \(what)")
        #endif
        return ExptError(.failure, "FakeBackend: unexpected \(what)")
    }
}

/// A strict in-memory pull-request host: PRs by branch, comments by number, every call recorded.
public final class FakePullRequestHost: PullRequestHost, @unchecked Sendable {
    private let lock = NSLock()
    private var prs: [String: PullRequestRef] = [:]
    private var comments: [Int: [String]] = [:]
    private var _calls: [String] = []
    /// When set, every call throws this (an offline gh).
    public var failure: ExptError?

    public init() {}

    public var calls: [String] { lock.withLock { _calls } }
    /// The comments posted on PR `number`, in order.
    public func posted(on number: Int) -> [String] { lock.withLock { comments[number] ?? [] } }

    /// A PR that already exists for `branch`.
    public func addPullRequest(branch: String, number: Int) {
        lock.withLock { prs[branch] = PullRequestRef(number: number, url: "https://github.com/o/r/pull/\(number)") }
    }

    /// The factory the environment takes: this host for every remote.
    public var factory: PullRequestHostFactory { { [self] _ in self } }

    public func findPullRequest(branch: String) throws -> PullRequestRef? {
        try record("find \(branch)") { prs[branch] }
    }

    public func createPullRequest(branch: String, base: String, title: String, body: String, draft: Bool) throws -> PullRequestRef {
        try record("create \(branch) → \(base)") {
            let pr = PullRequestRef(number: 100 + prs.count, url: "https://github.com/o/r/pull/\(100 + prs.count)")
            prs[branch] = pr
            return pr
        }
    }

    public func comment(number: Int, body: String) throws {
        try record("comment \(number)") { comments[number, default: []].append(body) }
    }

    public func commentBodies(number: Int) throws -> [String] {
        try record("comments \(number)") { comments[number] ?? [] }
    }

    public func authToken() -> String? { nil }

    private func record<T>(_ call: String, _ body: () throws -> T) throws -> T {
        try lock.withLock {
            _calls.append(call)
            if let failure { throw failure }
            return try body()
        }
    }
}

extension BackendRegistry {
    /// A registry of fakes under these names, for tests of configuration and planning that
    /// never submit (their tables take no keys).
    public static func fakes(_ names: String...) -> BackendRegistry {
        BackendRegistry(names.map { name in FakeBackend(name: name).entry })
    }
}
