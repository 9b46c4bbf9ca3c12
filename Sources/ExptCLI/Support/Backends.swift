import Foundation
import ExptCore
import ExptBackends
import ExptGitHub

/// The concrete backends the CLI knows, built from a configuration.
enum Backends {
    /// This expt binary: the local backend starts it again as the job's supervisor.
    static var selfExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func factory(for ws: Workspace) -> BackendFactory {
        { name, config in
            switch name {
            case "local":
                return LocalBackend(supervisorExecutable: selfExecutable, runsRoot: ws.runsDir)
            case "slurm":
                let s = config.slurm
                // The Slurm backend applies exec_prefix itself.
                let runner: ProcessRunner = SystemProcessRunner()
                let override = try? String(contentsOfFile: ws.root + "/.expt/templates/slurm.sbatch", encoding: .utf8)
                return SlurmBackend(runner: runner, config: SlurmConfig(
                    partition: s.partition, account: s.account, qos: s.qos, execPrefix: s.execPrefix,
                    signalSecondsBeforeLimit: s.signalBeforeLimit, requeue: s.requeue ?? true,
                    extraArgs: s.extraArgs, scriptTemplate: override))
            default:
                throw ExptError(.invalidInput, "unknown backend '\(name)'",
                                hint: "known backends: \(ExptConfig.backends.joined(separator: ", "))")
            }
        }
    }

    static func service(_ global: GlobalOptions) throws -> RunService {
        let ws = try global.workspace()
        return RunService(ws, makeBackend: factory(for: ws))
    }

    /// A service, after retrying pushes and PR comments still waiting in the outbox (each at
    /// most every 5 minutes): later commands deliver what fix-and-relaunch could not.
    static func serviceDeliveringOutbox(_ global: GlobalOptions) throws -> RunService {
        let s = try service(global)
        let backoff = ProcessInfo.processInfo.environment["EXPT_OUTBOX_BACKOFF"].flatMap(TimeInterval.init) ?? 300
        let delivered = s.retryOutbox(hostFactory: GitHubHost.factory, backoff: backoff)
        if delivered > 0 && !global.json { Console().note("delivered \(delivered) pending outbox item(s) (`expt outbox --all`)") }
        return s
    }
}
