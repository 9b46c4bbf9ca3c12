import Foundation
import ExptModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a W&B run directory says about a run: its console output (`files/output.log`), and,
/// when present, the last step/epoch/loss (`files/wandb-summary.json`) and the config
/// (`files/config.yaml`). Offline runs of wandb 0.31 write only output.log, so both JSON and
/// YAML are optional.
struct WandbRun {
    var runDir: String
    var outputLog: String?
    var summary: Progress
    var config: RunFacts

    static let metadataLimit = 1 << 20

    /// The run directory for `path`: a run dir itself, a `wandb/` dir (its `latest-run`, else
    /// the newest `run-*`/`offline-run-*`), or a project dir containing `wandb/`.
    static func locate(_ path: String) -> String? {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return nil }
        if fm.fileExists(atPath: path + "/files") { return path }
        let latest = path + "/latest-run"
        if fm.fileExists(atPath: latest + "/files") {
            // Report the real run dir, not the symlink, so evidence names the run.
            return (try? fm.destinationOfSymbolicLink(atPath: latest)).map { $0.hasPrefix("/") ? $0 : path + "/" + $0 } ?? latest
        }
        if fm.fileExists(atPath: path + "/wandb") { return locate(path + "/wandb") }
        let runs = ((try? fm.contentsOfDirectory(atPath: path)) ?? [])
            .filter { $0.hasPrefix("run-") || $0.hasPrefix("offline-run-") }
            .sorted { runTimestamp($0) < runTimestamp($1) }
        return runs.last.map { path + "/" + $0 }
    }

    /// `run-20261122_223151-98gj9zuq` and `offline-run-…` sort by their timestamp.
    static func runTimestamp(_ name: String) -> String {
        name.hasPrefix("offline-") ? String(name.dropFirst("offline-".count)) : name
    }

    static func read(_ path: String) -> WandbRun? {
        guard let dir = locate(path) else { return nil }
        let fm = FileManager.default
        let output = dir + "/files/output.log"
        var run = WandbRun(runDir: dir, outputLog: fm.fileExists(atPath: output) ? output : nil,
                           summary: Progress(), config: RunFacts())
        if let text = readBounded(dir + "/files/wandb-summary.json") { run.summary = parseSummary(text) }
        if let text = readBounded(dir + "/files/config.yaml") { run.config = parseConfig(text) }
        return run
    }

    static func readBounded(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let bytes = LocalLogFile.preadFully(fd, offset: 0, count: metadataLimit) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Top-level numbers of the one-line summary JSON. Parsed by pattern, not JSONSerialization,
    /// because wandb writes NaN and Infinity, which are not JSON.
    static func parseSummary(_ text: String) -> Progress {
        var p = Progress()
        func value(_ keys: [String]) -> Double? {
            for key in keys {
                let pattern = "\"" + NSRegularExpression.escapedPattern(for: key)
                    + #""\s*:\s*(-?(?:NaN|Infinity|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))"#
                guard let re = try? NSRegularExpression(pattern: pattern),
                      let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                      let r = Range(m.range(at: 1), in: text) else { continue }
                switch text[r] {
                case "NaN", "-NaN": return .nan
                case "Infinity": return .infinity
                case "-Infinity": return -.infinity
                default: if let d = Double(text[r]) { return d }
                }
            }
            return nil
        }
        p.lastStep = value(["_step", "global_step", "trainer/global_step", "step"]).flatMap(ProgressParser.toInt)
        p.lastEpoch = value(["epoch", "train/epoch"]).flatMap(ProgressParser.toInt)
        if let loss = value(["train/loss", "train_loss", "loss", "train/loss_step", "train/loss_epoch"]) {
            p.lastLoss = loss
            if !loss.isFinite { p.lossTrend = "nan" }
        }
        return p
    }

    /// The run's config.yaml (`key:\n  value: X` per item, or plain `key: X`).
    static func parseConfig(_ text: String) -> RunFacts {
        var values: [String: String] = [:]
        var pendingKey: String?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let indented = line.hasPrefix(" ") || line.hasPrefix("\t")
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = String(trimmed[..<colon])
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !indented {
                if value.isEmpty { pendingKey = key } else { values[key] = value; pendingKey = nil }
            } else if key == "value", let k = pendingKey, !value.isEmpty {
                values[k] = value
            }
        }
        func int(_ keys: [String]) -> Int? {
            for k in keys { if let v = values[k], let d = Double(v), let i = ProgressParser.toInt(d) { return i } }
            return nil
        }
        return RunFacts(batchSize: int(["batch_size", "train_batch_size", "per_device_train_batch_size", "micro_batch_size"]),
                        gradAccumulation: int(["gradient_accumulation_steps", "grad_accum", "accumulate_grad_batches",
                                               "gradient_accumulation"]),
                        expectedSteps: int(["max_steps", "total_steps", "num_steps", "train_steps"]),
                        expectedEpochs: int(["epochs", "num_epochs", "max_epochs", "num_train_epochs"]))
    }
}
