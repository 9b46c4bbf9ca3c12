import ArgumentParser
import ExptBackends

/// `expt __supervise <run-dir>`: the detached wrapper the local backend starts around a job.
/// Hidden: users never call it.
struct SuperviseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "__supervise", abstract: "Internal: supervise a local job.", shouldDisplay: false)

    @Argument var runDir: String

    func run() throws {
        let status = LocalSupervisor.run(runDir: runDir)
        if status != 0 { throw ExitCode(status) }
    }
}
