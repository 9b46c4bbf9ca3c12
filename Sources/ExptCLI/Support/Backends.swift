import Foundation
import ExptCore
import ExptBackends

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
}
