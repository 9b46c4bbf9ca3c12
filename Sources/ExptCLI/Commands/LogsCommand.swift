import ArgumentParser
import Foundation
import ExptCore

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print a run's output (default: the branch's latest run, stdout).")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(name: .customLong("run"), help: "The run id, e.g. r12.") var runID: String?
    @Flag(help: "Show stderr instead of stdout.") var stderr = false
    @Option(help: "Only the last N lines.") var tail: Int?
    @Flag(name: .shortAndLong, help: "Keep printing new output until the run ends.") var follow = false

    struct Output: Encodable { var run: String; var file: String; var lines: [String] }

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail takes a number of lines, 0 or more") }
        if follow && global.json { throw ValidationError("--follow cannot be combined with --json") }
    }

    func run() throws {
        let service = try Backends.service(global)
        try service.refresh(branches: [branch])
        let record = try service.findRun(branch: branch, run: runID)
        guard let dir = record.logDir else { throw ExptError(.notFound, "run \(record.id) has no log directory") }
        let file = dir + (stderr ? "/stderr.log" : "/stdout.log")
        guard FileManager.default.fileExists(atPath: file) else {
            throw ExptError(.notFound, "run \(record.id) has no \(stderr ? "stderr" : "stdout") log yet (\(file))",
                            hint: record.state == .pending ? "the job has not started" : nil)
        }
        let lines = try LogTail.lines(file, count: tail ?? 10_000)
        if global.json { return try Console().emit(Output(run: record.id, file: file, lines: lines), json: true) { "" } }
        let console = Console()
        for l in lines { console.out(l) }
        guard follow else { return }
        var offset = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? UInt64) ?? 0
        while true {
            let (data, next) = LogTail.read(file, from: offset ?? 0)
            if !data.isEmpty { console.writeOut(String(decoding: data, as: UTF8.self)) }
            offset = next
            if let r = try service.refresh(branches: [branch]).first(where: { $0.id == record.id }), r.state.isTerminal {
                let (rest, _) = LogTail.read(file, from: next)
                if !rest.isEmpty { console.writeOut(String(decoding: rest, as: UTF8.self)) }
                console.note("run \(r.id) ended: \(r.state.rawValue)")
                return
            }
            usleep(500_000)
        }
    }
}
