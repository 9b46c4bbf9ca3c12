import XCTest
@testable import ExptCore
import ExptModel
import ExptTOML
import ExptTemplates

/// Two backends whose settings are decoded the way a registry decodes them.
private struct StubBackends: BackendCatalog {
    struct Slurm: Decodable {
        var partition: String?
        var account: String?
        var qos: String?
        var execPrefix: [String]?
        var signalBeforeLimit: Int?
        var requeue: Bool?
        var extraArgs: [String]?
    }
    struct Local: Decodable {}

    var backendNames: [String] { ["local", "slurm"] }

    func validateSettings(backend: String, table: TOMLTable) throws {
        if backend == "slurm" { _ = try TOMLDecoder().decode(Slurm.self, from: table) }
        else { _ = try TOMLDecoder().decode(Local.self, from: table) }
    }
}

/// expt.toml through the decoder: defaults, layering, validation, messages; and the
/// batch-size edit of fix-and-relaunch on each way of writing `run.batch_size`.
final class ConfigDecodingTests: XCTestCase {
    private let backends = StubBackends()

    private func config(_ files: [(String, String)]) throws -> ExptConfig {
        var c = ExptConfig()
        for (file, text) in files { try c.apply(text: text, file: file, backends: backends) }
        return c
    }

    private func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try config([("x/expt.toml", text)])
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch { return "\(error)" }
    }

    func testTheTemplateDecodes() throws {
        let c = try config([("expt.toml", try XCTUnwrap(EmbeddedTemplates.text("expt.toml")))])
        XCTAssertEqual(c.command, "python3 train.py")
        XCTAssertEqual(c.resources, Resources(memoryMB: 4096, cpus: 1, gpus: 0, timeLimitSeconds: 3600))
        XCTAssertEqual(c.profiles["highmem"]?.memoryMB, 16384)
        XCTAssertEqual(c.retry.memoryFactor, 1.5)
        XCTAssertEqual(c.retry.memoryCapMB, 65536)
        XCTAssertEqual(c.health.watch, c.health.degraded, "watch defaults to degraded")
        XCTAssertEqual(c.health.systemic, 0.15)
        XCTAssertNotNil(c.backendTables["slurm"])
        XCTAssertEqual(c.sources, ["expt.toml"])
    }

    func testEveryDocumentedKeyTakesEffect() throws {
        let c = try config([("expt.toml", """
        command = "a"
        resume_command = "a --resume {checkpoint}"
        checkpoint_glob = "ck/*.pt"
        wandb_dir = "wandb"
        backend = "slurm"
        base = "main"
        array = "0-9%2"
        [env]
        WANDB_MODE = "offline"
        [resources]
        mem = 2048
        time = "90m"
        partition = "gpu"
        [retry]
        max_failures = 5
        max_preemptions = 2
        memory_factor = 2
        memory_cap = "32G"
        time_factor = 1.25
        [run]
        batch_size = 32
        grad_accumulation = 4
        expected_steps = 1000
        expected_epochs = 3
        stall_after = "45m"
        expected_runtime = "6h"
        false_success_fraction = 0.3
        [health]
        watch = 0.05
        degraded = 0.2
        systemic = 0.3
        [slurm]
        partition = "gpu"
        exec_prefix = ["ssh", "login1"]
        [wandb]
        entity = "lab"
        project = "traits"
        base_url = "https://wandb.example.org/"
        sweep = "lab/traits/abc123"
        timeout = "45s"
        python = "/opt/venv/bin/python"
        """)])
        XCTAssertEqual([c.run.stallAfterSeconds, c.run.expectedRuntimeSeconds], [2700, 21600])
        XCTAssertEqual(c.run.falseSuccessFraction, 0.3)
        let w = try XCTUnwrap(c.tracker)
        XCTAssertEqual([w.entity, w.project, w.baseURL, w.sweep, w.python], ["lab", "traits", "https://wandb.example.org", "lab/traits/abc123", "/opt/venv/bin/python"])
        XCTAssertEqual(w.timeout, 45)
        XCTAssertEqual(w.jobEnvironment, ["WANDB_MODE": "offline"], "the job's [env] decides offline mode")
        XCTAssertEqual(c.resumeCommand, "a --resume {checkpoint}")
        XCTAssertEqual(c.checkpointGlob, "ck/*.pt")
        XCTAssertEqual(c.wandbDir, "wandb")
        XCTAssertEqual(c.backend, "slurm")
        XCTAssertEqual(c.base, "main")
        XCTAssertEqual(c.array, ArraySpec(indices: Array(0...9), maxConcurrent: 2))
        XCTAssertEqual(c.env, ["WANDB_MODE": "offline"])
        XCTAssertEqual(c.resources, Resources(memoryMB: 2048, timeLimitSeconds: 5400, partition: "gpu"))
        XCTAssertEqual([c.retry.maxFailures, c.retry.maxPreemptions, c.retry.memoryCapMB], [5, 2, 32768])
        XCTAssertEqual(c.retry.memoryFactor, 2.0)
        XCTAssertEqual(c.retry.timeFactor, 1.25)
        XCTAssertEqual([c.run.batchSize, c.run.gradAccumulation, c.run.expectedSteps, c.run.expectedEpochs], [32, 4, 1000, 3])
        XCTAssertEqual([c.health.watch, c.health.degraded, c.health.systemic], [0.05, 0.2, 0.3])
        XCTAssertEqual(try c.backendTables["slurm"]?.stringArray("exec_prefix"), ["ssh", "login1"])
    }

    func testBadTrackerAndRunSettingsNameTheLine() {
        for (text, said) in [("[wandb]\nproject = \"a b\"\n", "x/expt.toml:3"), ("[wandb]\nbase_url = \"wandb.local\"\n", "not a URL"),
                             ("[wandb]\nsweep = \"abc\"\n", "entity/project/sweep-id"), ("[wandb]\ntimeout = \"1h\"\n", "between 5 s and 10 minutes"), ("[env]\nWANDB_ENTITY = \"x\"\n[wandb]\nentity = \"lab\"\n", "disagree"),
                             ("[wandb]\nprojct = \"a\"\n", "projct"), ("[run]\nfalse_success_fraction = 1.5\n", "between 0 and 1"),
                             ("[run]\nstall_after = \"soon\"\n", "not a time")] {
            let e = error("command = \"a\"\n" + text)
            XCTAssertTrue(e.contains(said), "\(text): \(e)")
        }
        XCTAssertNil(try? config([("x/expt.toml", "command = \"a\"\n")]).tracker ?? nil, "no [wandb]: no tracker")
    }

    func testTheWorktreeFileOverridesKeyByKey() throws {
        let c = try config([("root/expt.toml", "command = \"a\"\n[resources]\nmem = \"4G\"\ncpus = 2\n[slurm]\npartition = \"cpu\"\nqos = \"low\"\n"),
                            ("wt/expt.toml", "[resources]\nmem = \"8G\"\n[slurm]\npartition = \"gpu\"\n")])
        XCTAssertEqual(c.resources, Resources(memoryMB: 8192, cpus: 2))
        XCTAssertEqual(try c.backendTables["slurm"]?.string("partition"), "gpu")
        XCTAssertEqual(try c.backendTables["slurm"]?.string("qos"), "low")
        XCTAssertEqual(c.sources, ["root/expt.toml", "wt/expt.toml"])
    }

    func testErrorsKeepTheirShape() {
        XCTAssertEqual(error("comand = \"a\"\n"), """
        invalid configuration: x/expt.toml:1: key 'comand': unknown key; did you mean 'command'?
        hint: fix x/expt.toml at line 1; templates/expt.toml documents every key
        """)
        XCTAssertTrue(error("\n[resources]\ncpus = \"two\"\n").contains("x/expt.toml:3: key 'resources.cpus': expected an integer, found a string"))
        XCTAssertTrue(error("[resources]\ntime = \"soon\"\n").contains("'soon' is not a time like 01:30:00 or 90m"))
        XCTAssertTrue(error("[resources]\nmem = \"8 gigs\"\n").contains("x/expt.toml:2: key 'resources.mem': '8 gigs' is not a size like 4G or 512M"))
        XCTAssertTrue(error("[retry]\nmemory_cap = \"big\"\n").contains("key 'retry.memory_cap'"))
        XCTAssertTrue(error("array = \"9-1\"\n").contains("'9-1' is not an array range"))
        XCTAssertTrue(error("[run]\nbatch_sise = 3\n").contains("did you mean 'batch_size'?"))
    }

    func testErrorsInTheWorktreeFileNameIt() {
        XCTAssertThrowsError(try config([("root/expt.toml", "command = \"a\"\n[retry]\nmax_failures = 3\n"),
                                         ("wt/expt.toml", "[retry]\n\nmax_failures = \"3\"\n")])) {
            XCTAssertTrue("\($0)".contains("wt/expt.toml:3: key 'retry.max_failures'"), "\($0)")
            XCTAssertTrue("\($0)".contains("fix wt/expt.toml at line 3"), "\($0)")
        }
    }

    func testBackendsComeFromTheCatalog() {
        XCTAssertTrue(error("backend = \"k8s\"\n").contains("x/expt.toml:1: key 'backend': unknown backend 'k8s' (known: local, slurm)"))
        XCTAssertTrue(error("[kubernetes]\nnamespace = \"a\"\n").contains("key 'kubernetes': unknown key"))
        XCTAssertTrue(error("[slrum]\n").contains("did you mean 'slurm'?"))
    }

    func testEveryBackendTableIsValidatedEvenWhenNotInUse() {
        let typo = error("backend = \"local\"\n[slurm]\n\npartiton = \"gpu\"\n")
        XCTAssertTrue(typo.contains("x/expt.toml:4: key 'slurm.partiton': unknown key; did you mean 'partition'?"), typo)
        XCTAssertTrue(error("[slurm]\nexec_prefix = \"ssh login1\"\n").contains("array of strings"))
        XCTAssertTrue(error("[local]\nanything = 1\n").contains("key 'local.anything': unknown key"))
        XCTAssertTrue(error("slurm = 3\n").contains("key 'slurm': expected a table, found an integer"))
    }

    func testHealthBandsAreValidated() throws {
        XCTAssertEqual(try config([("e.toml", "[health]\ndegraded = 0.05\nsystemic = 0.1\n")]).health.watch, 0.05)
        let order = error("[health]\nwatch = 0.2\n")
        XCTAssertTrue(order.contains("x/expt.toml:2: key 'health.watch': the bands must satisfy watch <= degraded <= systemic: watch = 0.2 is above degraded = 0.1 (the default)"), order)
        XCTAssertTrue(error("[health]\nsystemic = 0.05\n").contains("key 'health.systemic'"))
        XCTAssertTrue(error("[health]\ndegraded = 0.5\nsystemic = 1.5\n").contains("x/expt.toml:3: key 'health.systemic': must be a fraction of tasks between 0 and 1, found 1.5"))
    }

    func testRetryFactorsAreValidated() {
        XCTAssertTrue(error("[retry]\nmemory_factor = 0.5\n").contains("key 'retry.memory_factor': must be a number of at least 1"))
        XCTAssertTrue(error("[retry]\nmax_failures = -1\n").contains("key 'retry.max_failures': must be at least 0"))
    }

    // MARK: - The batch-size edit

    private func rescale(_ text: String, batch: Int = 24, accumulation: Int? = 6) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("expt-rescale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("expt.toml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        do {
            try FixRecord.rescaleBatch(file, batch: batch, accumulation: accumulation)
        } catch {
            XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), text, "a refused edit leaves the file alone")
            throw error
        }
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    func testRescaleInARunSection() throws {
        let out = try rescale("command = \"a\"\n[run]\nbatch_size = 32   # per device\ngrad_accumulation = 4\n[health]\ndegraded = 0.1\n")
        XCTAssertEqual(out, "command = \"a\"\n[run]\nbatch_size = 24   # per device\ngrad_accumulation = 6\n[health]\ndegraded = 0.1\n")
        let added = try rescale("[run]\nbatch_size = 32\n[health]\ndegraded = 0.1\n")
        XCTAssertEqual(added, "[run]\ngrad_accumulation = 6\nbatch_size = 24\n[health]\ndegraded = 0.1\n")
    }

    func testRescaleDottedKeys() throws {
        let out = try rescale("command = \"a\"\nrun.batch_size = 32\nrun . \"grad_accumulation\" = 4\n[health]\ndegraded = 0.1\n")
        XCTAssertEqual(out, "command = \"a\"\nrun.batch_size = 24\nrun . \"grad_accumulation\" = 6\n[health]\ndegraded = 0.1\n")
        let added = try rescale("run.batch_size = 32\n[health]\ndegraded = 0.1\n")
        XCTAssertEqual(added, "run.grad_accumulation = 6\nrun.batch_size = 24\n[health]\ndegraded = 0.1\n")
        let parsed = try TOML.parse(added).table("run")
        XCTAssertEqual(try parsed?.int("grad_accumulation"), 6)
    }

    func testRescaleRefusesAnInlineTable() {
        XCTAssertThrowsError(try rescale("command = \"a\"\nrun = { batch_size = 32 }\n")) { e in
            let text = "\(e)"
            XCTAssertEqual((e as? ExptError)?.kind, .invalidInput)
            XCTAssertTrue(text.contains("expt.toml:2: `run` is an inline table"), text)
            XCTAssertTrue(text.contains("set run.batch_size = 24 and run.grad_accumulation = 6 in "), text)
        }
    }

    func testRescaleAddsARunSectionWhenThereIsNone() throws {
        let out = try rescale("command = \"a\"\n[health]\ndegraded = 0.1\n", accumulation: nil)
        XCTAssertEqual(out, "command = \"a\"\n[health]\ndegraded = 0.1\n\n[run]\nbatch_size = 24\n")
    }
}

/// Issue 10, R20: out-of-range resources and retry settings are refused with file:line, in
/// every way of writing them, not only the one the probe tried.
final class ResourceRangeTests: XCTestCase {
    private func problem(_ text: String) -> String? {
        var c = ExptConfig()
        do { try c.apply(text: text, file: "wt/expt.toml", backends: BackendRegistry.fakes("local", "slurm")); return nil } catch { return "\(error)" }
    }

    func testCountsOutsideWhatASchedulerGrantsAreRefused() {
        for (value, ok) in [("-3", false), ("0", false), ("1", true), ("4096", true), ("4097", false), ("9223372036854775807", false)] {
            for table in ["[resources]", "[profiles.big]"] {
                let p = problem("\(table)\ncpus = \(value)\n")
                XCTAssertEqual(p == nil, ok, "\(table) cpus = \(value): \(p ?? "accepted")")
                if let p { XCTAssertTrue(p.contains("wt/expt.toml:2") && p.contains("cpus must be a whole number from 1 to 4096"), p) }
            }
        }
        for (value, ok) in [("-1", false), ("0", true), ("8", true), ("1025", false)] {
            XCTAssertEqual(problem("[resources]\ngpus = \(value)\n") == nil, ok, "gpus = \(value)")
        }
    }

    func testTimesWithFieldsOutOfRangeAreRefused() {
        for (value, seconds) in [("25:99:99", nil), ("01:60:00", nil), ("00:59:60", nil), ("1-24:00:00", nil), ("99:30", 5970),
                                 ("1-23:59:59", 172_799), ("25:00:00", 90_000), ("59:59", 3599), ("90m", 5400), ("2-12", 216_000),
                                 ("1e300h", nil)] as [(String, Int?)] {
            XCTAssertEqual(Units.seconds(value), seconds, value)
            XCTAssertEqual(problem("[resources]\ntime = \"\(value)\"\n") == nil, seconds != nil, value)
        }
    }

    func testAMemoryCapBelowTheMemoryIsRefused() {
        let p = problem("[resources]\nmem = \"4G\"\n[retry]\nmemory_cap = \"1M\"\n")
        XCTAssertTrue(p?.contains("wt/expt.toml:4") == true && p?.contains("memory_cap (1M) is below [resources] mem (4G)") == true, p ?? "accepted")
        XCTAssertNil(problem("[resources]\nmem = \"4G\"\n[retry]\nmemory_cap = \"4G\"\n"))
        XCTAssertNotNil(problem("[retry]\nmemory_factor = 0\n"))
        XCTAssertNotNil(problem("[retry]\nmax_failures = -1\n"))
        XCTAssertNotNil(problem("[health]\ndegraded = 5\n"))
    }
}
