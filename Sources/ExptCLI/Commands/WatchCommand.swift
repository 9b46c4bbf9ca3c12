import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct WatchCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow runs patiently until they end, printing only changes.",
        discussion: """
        Polls every 600 s while runs only wait in the queue, 180 s while they run, 60 s when \
        something looks wrong (--interval overrides). Exit 0 when every watched run succeeded, \
        6 when one failed, 7 when --max-duration ran out first.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Branches to watch (default: every live run).") var branches: [String] = []
    @Option(help: "Seconds between polls (default: the adaptive cadence).") var interval: Int?
    @Option(help: "Stop after this long, e.g. 30m or 3600 (seconds when a bare number).") var maxDuration: String?

    func validate() throws {
        if let interval, interval < 1 { throw ValidationError("--interval must be at least 1 second") }
        if let m = maxDuration, WatchCommand.parseDuration(m) == nil { throw ValidationError("--max-duration '\(m)' is not a duration like 30m") }
    }

    /// Seconds, from a bare number or a duration; nil when negative or not a duration (0 looks
    /// once and stops).
    static func parseDuration(_ s: String) -> Int? { (Int(s) ?? Units.seconds(s)).flatMap { $0 >= 0 ? $0 : nil } }

    struct Summary: Encodable { var done: Bool; var succeeded: [String]; var failed: [String]; var live: [String] }

    func run(in env: ExptEnvironment) throws {
        let service = try env.serviceDeliveringOutbox(global)
        for b in branches { try service.ws.requireBranch(b) }
        let console = env.console
        let scope: Set<String>? = branches.isEmpty ? nil : Set(branches)
        let deadline = maxDuration.flatMap(WatchCommand.parseDuration).map { env.now().addingTimeInterval(TimeInterval($0)) }
        let initiallyLive = Set(try service.refresh(branches: scope).filter { !$0.state.isTerminal }.map(\.id))
        var seen: [String: String] = [:]
        var warned: Set<String> = []
        var first = true
        while true {
            let records = try service.refresh(branches: scope, fresh: !first)
            let watched = service.diagnoseNewFailures(StatusCommand.latestAndLive(records)).filter { scope != nil || initiallyLive.contains($0.id) || !$0.state.isTerminal }
            if watched.isEmpty {
                if !global.json { console.out("nothing to watch: no live runs") }
                return
            }
            for (r, view) in zip(watched, service.views(watched)) {
                if seen[r.id] != view.stateText {
                    let event = WatchEvent(at: env.now(), run: r.id, branch: r.branch, from: seen[r.id], to: r.state.rawValue,
                                           exitCode: r.exitCode, diagnosis: r.diagnosis, progress: view.progress)
                    if global.json {
                        console.out(try JSONOutput.encode(event, style: .line))
                    } else {
                        let arrow = first || seen[r.id] == nil ? "" : "\(seen[r.id]!) → "
                        console.out("\(ISO8601.timestamp(env.now())) \(r.branch) \(r.id): \(arrow)\(view.stateText)"
                                    + (view.progress.map { " · \($0)" } ?? ""))
                    }
                    seen[r.id] = view.stateText
                }
                for d in view.discrepancies where warned.insert("\(r.id) \(d.kind.rawValue)").inserted {
                    if global.json {
                        console.out(try JSONOutput.encode(WatchWarning(at: env.now(), run: r.id, branch: r.branch, d), style: .line))
                    } else {
                        console.out("\(ISO8601.timestamp(env.now())) \(r.branch) \(r.id): warning: \(d.kind.rawValue): \(d.detail)"
                                    + (d.lastLine.map { "\n  last line: \($0)" } ?? ""))
                    }
                }
            }
            if first { TrackerText.notices(service, console) }
            first = false
            // A stalled run needs a fix, not more waiting: it ends the watch as a failure.
            if watched.allSatisfy({ $0.state.isTerminal || $0.state == .stalled }) {
                let failed = watched.filter { $0.state.isFailure }
                try summary(watched, done: true, console)
                if !failed.isEmpty { throw ExitCode(ExitStatus.runsFailed.rawValue) }
                return
            }
            let wait = interval ?? WatchPolicy.interval(for: watched)
            if let deadline, env.now().addingTimeInterval(TimeInterval(wait)) > deadline {
                env.sleep(max(0, deadline.timeIntervalSince(env.now())))
                if env.now() >= deadline {
                    try summary(try service.refresh(branches: scope, fresh: true).filter { r in watched.contains { $0.id == r.id } }, done: false, console)
                    if !global.json { console.err("watch: --max-duration reached with runs still live") }
                    throw ExitCode(ExitStatus.timedOut.rawValue)
                }
            }
            sleep(wait, watched, env)
        }
    }

    /// Sleeps, with a countdown line on a TTY (plain output stays quiet).
    func sleep(_ seconds: Int, _ watched: [RunRecord], _ env: ExptEnvironment) {
        let console = env.console
        guard env.stdoutIsTTY && !global.json else { env.sleep(TimeInterval(seconds)); return }
        let counts = Dictionary(grouping: watched, by: \.state).map { "\($0.value.count) \($0.key.rawValue)" }.sorted().joined(separator: ", ")
        for left in stride(from: seconds, to: 0, by: -1) {
            console.writeErr("\r\u{1B}[2Kwatching \(watched.count) run(s): \(counts); next poll in \(left)s")
            env.sleep(1)
        }
        console.writeErr("\r\u{1B}[2K")
    }

    func summary(_ runs: [RunRecord], done: Bool, _ console: Console) throws {
        let s = Summary(done: done, succeeded: runs.filter { $0.state == .succeeded }.map(\.id),
                        failed: runs.filter { $0.state.isFailure }.map(\.id), live: runs.filter { !$0.state.isTerminal && $0.state != .stalled }.map(\.id))
        if global.json { console.out(try JSONOutput.encode(s, style: .line)) }
        else if done { console.out("all \(runs.count) watched run(s) ended: \(s.succeeded.count) succeeded, \(s.failed.count) failed") }
    }
}
