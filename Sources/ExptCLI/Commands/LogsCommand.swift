import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct LogsCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print a run's output (default: the branch's latest run, stdout).",
        discussion: "Read through the run's backend: an array task's own output with --task, and output on a cluster reached through exec_prefix.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(name: .customLong("run"), help: "The run id, e.g. r12.") var runID: String?
    @Option(help: "The task of an array run.") var task: Int?
    @Flag(help: "Show stderr instead of stdout.") var stderr = false
    @Option(help: "Only the last N lines.") var tail: Int?
    @Flag(name: .shortAndLong, help: "Keep printing new output until the run ends.") var follow = false

    struct Output: Encodable { var run: String; var task: Int?; var file: String; var remote: Bool; var lines: [String] }

    /// How much `expt logs` reads at most in one go: the end of a multi-GB log, never all of it.
    static let maxBytes = 4 << 20

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail takes a number of lines, 0 or more") }
        if let task, task < 0 { throw ValidationError("--task takes a task index, 0 or more") }
        if follow && global.json { throw ValidationError("--follow cannot be combined with --json") }
    }

    func run(in env: ExptEnvironment) throws {
        let service = try env.service(global)
        try service.refresh(branches: [branch])
        let record = try service.findRun(branch: branch, run: runID)
        let source = try service.outputSource(record, task: task, stderr: stderr)
        let chunk: LogChunk
        do { chunk = try service.read(record, source, .tail(bytes: Self.maxBytes)) } catch let e as ExptError where e.kind == .notFound {
            throw ExptError(.notFound, "run \(record.id) has no \(stderr ? "stderr" : "stdout") output yet (\(source.path))",
                            hint: record.state == .pending ? "the job has not started" : e.message)
        }
        let lines = Array(chunk.lines(droppingPartialFirst: chunk.end > UInt64(Self.maxBytes)).suffix(tail ?? Int.max))
        if global.json {
            return try env.console.emit(Output(run: record.id, task: task, file: source.path, remote: source.remote, lines: lines),
                                        json: true) { "" }
        }
        for l in lines { env.console.out(l) }
        if follow { try follow(record, source, from: chunk.end, service, env) }
    }

    /// Prints what is appended until the run ends, polling the scheduler with a back-off.
    private func follow(_ record: RunRecord, _ source: LogSource, from start: UInt64, _ service: RunService,
                        _ env: ExptEnvironment) throws {
        var offset = start
        /// Prints the next chunk; true when the file already held more than it.
        func printNew() throws -> Bool {
            let next = try service.read(record, source, .from(offset: offset, max: Self.maxBytes))
            if !next.head.isEmpty { env.console.writeOut(String(decoding: next.head, as: UTF8.self)) }
            offset = next.end
            return Self.morePending(after: next)
        }
        var backoff = Backoff()
        var nextPoll = env.now()
        while true {
            let behind = try printNew()
            if env.now() >= nextPoll {
                if let r = try service.refresh(branches: [branch], fresh: true).first(where: { $0.id == record.id }), r.state.isTerminal {
                    // The run may end with a burst still unread: print all of it.
                    while try printNew() {}
                    env.console.note("run \(r.id) ended: \(r.state.rawValue)")
                    return
                }
                nextPoll = env.now().addingTimeInterval(backoff.next() ?? 8)
            }
            // Behind a burst, read on at once: one chunk per pause fell far behind 1 GB (R33).
            if behind { continue }
            // Local output is cheap to reread every half second; a remote read is not.
            env.sleep(source.remote ? max(0.5, nextPoll.timeIntervalSince(env.now())) : 0.5)
        }
    }

    /// Whether a follow read stopped short of the end of the file as it was then, so more is
    /// already there to read. A read that brought nothing never counts: no busy loop.
    static func morePending(after chunk: LogChunk) -> Bool {
        !chunk.head.isEmpty && chunk.end < chunk.size
    }
}
