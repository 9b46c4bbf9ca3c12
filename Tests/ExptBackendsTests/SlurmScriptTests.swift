import XCTest
import ExptCore
import ExptModel
@testable import ExptBackends

/// The batch script rendered from templates/slurm.sbatch.
final class SlurmScriptTests: XCTestCase {
    static func spec(array: ArraySpec? = nil, env: [String: String] = [:],
                     resources: Resources = Resources()) -> JobSpec {
        JobSpec(runID: "r7", branch: "exp/lr", jobName: JobSpec.jobName(runID: "r7", branch: "exp/lr"),
                workdir: "/repo/.worktrees/exp-lr", command: "python3 train.py --lr 0.1 | tee x",
                environment: env, resources: resources, logDir: "/repo/.git/expt/runs/r7", array: array)
    }

    func testFullScript() throws {
        let spec = Self.spec(env: ["WANDB_MODE": "offline", "MSG": "it's $HOME"],
                             resources: Resources(memoryMB: 4096, cpus: 4, gpus: 2, timeLimitSeconds: 90061,
                                                  partition: "gpu"))
        let config = SlurmConfig(partition: "cpu", account: "proj1", qos: "normal",
                                 signalSecondsBeforeLimit: 120, requeue: true)
        let script = try SlurmScript.render(spec, config: config)
        let directives = script.split(separator: "\n").filter { $0.hasPrefix("#SBATCH") }.map(String.init)
        XCTAssertEqual(directives, [
            "#SBATCH --job-name=expt.r7.exp-lr",
            "#SBATCH --chdir=/repo/.worktrees/exp-lr",
            "#SBATCH --output=/repo/.git/expt/runs/r7/stdout.log",
            "#SBATCH --error=/repo/.git/expt/runs/r7/stderr.log",
            "#SBATCH --open-mode=append",
            "#SBATCH --partition=gpu",          // the run's resources win over [slurm]
            "#SBATCH --account=proj1",
            "#SBATCH --qos=normal",
            "#SBATCH --mem=4096M",
            "#SBATCH --cpus-per-task=4",
            "#SBATCH --gres=gpu:2",
            "#SBATCH --time=1-01:01:01",
            "#SBATCH --signal=B:USR1@120",
            "#SBATCH --requeue",
        ])
        XCTAssertTrue(script.hasPrefix("#!/bin/bash\n"))
        XCTAssertTrue(script.contains("\nexport EXPT_RUN_ID=r7\nexport EXPT_BRANCH=exp/lr\n"))
        XCTAssertTrue(script.contains("\nexport MSG='it'\\''s $HOME'\nexport WANDB_MODE=offline\n"))
        XCTAssertTrue(script.contains("\ncmd='python3 train.py --lr 0.1 | tee x'\n"))
        XCTAssertTrue(script.contains("\nbash -c \"$cmd\" &\n"))
        XCTAssertTrue(script.contains("SLURM_RESTART_COUNT"), "a requeued job can resume")
        XCTAssertFalse(script.contains("{{"))
        XCTAssertTrue(script.hasSuffix("exit \"$status\"\n"))
    }

    func testMinimalScriptDropsAbsentLines() throws {
        let script = try SlurmScript.render(Self.spec(), config: SlurmConfig())
        for absent in ["--partition", "--account", "--qos", "--mem", "--cpus-per-task", "--gres", "--time",
                       "--signal", "--requeue", "--array"] {
            XCTAssertFalse(script.contains("#SBATCH \(absent)"), absent)
        }
        XCTAssertFalse(script.contains("{{"))
        XCTAssertTrue(script.contains("#SBATCH --open-mode=append"))
    }

    func testArrayAndOddPaths() throws {
        var spec = Self.spec(array: ArraySpec(indices: [0, 1, 2, 3, 9], maxConcurrent: 2))
        spec.logDir = "/data/my runs/100%/r7"
        let script = try SlurmScript.render(spec, config: SlurmConfig())
        XCTAssertTrue(script.contains("#SBATCH --array=0-3,9%2\n"))
        XCTAssertTrue(script.contains("#SBATCH --output=\"/data/my runs/100%%/r7/stdout.%a.log\"\n"))
        XCTAssertEqual(SlurmScript.stdoutPath(spec, task: 3), "/data/my runs/100%/r7/stdout.3.log")
    }

    func testInvalidInputs() {
        XCTAssertThrowsError(try SlurmScript.render(Self.spec(env: ["BAD-NAME": "x"]), config: SlurmConfig())) {
            XCTAssertEqual(($0 as? ExptError)?.kind, .invalidInput)
        }
        XCTAssertThrowsError(try SlurmScript.render(Self.spec(resources: Resources(memoryMB: 0)), config: SlurmConfig()))
        XCTAssertThrowsError(try SlurmScript.render(Self.spec(array: ArraySpec(indices: [])), config: SlurmConfig()))
    }

    func testRendererRules() {
        let t = "a={{a}}\n{{?flag}}flag line\nb={{b}} and {{a}}\n{{?missing}}gone\nplain\n"
        XCTAssertEqual(SlurmScript.render(template: t, values: ["a": "1", "flag": ""]), "a=1\nflag line\nplain\n")
    }

    func testRepoTemplateOverride() throws {
        let config = SlurmConfig(scriptTemplate: "#!/bin/sh\n#SBATCH -J {{job_name}}\n{{command_quoted}}\n")
        XCTAssertEqual(try SlurmScript.render(Self.spec(), config: config),
                       "#!/bin/sh\n#SBATCH -J expt.r7.exp-lr\n'python3 train.py --lr 0.1 | tee x'\n")
    }
}
