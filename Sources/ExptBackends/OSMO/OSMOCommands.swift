import Foundation
import ExptModel

/// The exact argv expt runs (and Tests/EndToEndTests/Fixtures/fake-osmo accepts). Checked
/// against NVIDIA/OSMO src/cli/workflow.py, pool.py, resources.py at 1da31e19 and tag 6.3.1:
///
/// - long flags only: `-t` is `--format-type` in submit/restart/cancel/query/list/pool/resource
///   but `--task` in logs/events; `-p` is `--pool`, `-n` is `--name` in list but the line count
///   in logs (which has no long form for it).
/// - `--set` takes `nargs='+'`: every `k=v` follows ONE `--set` (OSMO ≤ 6.3.1 keeps only the last
///   of repeated `--set`, `action='store'`; later builds extend), after the file (a positional
///   after `--set` would be swallowed as a value).
/// - `restart` always gets `--pool`: without it OSMO 6.3.1 restarts on the profile's default pool
///   (`workflow_result.get(pool_name, None)`, fixed later).
/// - `logs --retry-id 0` is dropped by the CLI (`if args.retry_id:`), which then serves the
///   latest retry: retry 0 is asked for without the flag.
public enum OSMOCommands {
    /// `osmo workflow submit FILE --pool P [--set k=v …] [--set-string k=v …] [--priority P] --format-type json`.
    public static func submit(file: String, pool: String, set: [String: String] = [:], setString: [String: String] = [:],
                              priority: String? = nil) throws -> [String] {
        var argv = ["osmo", "workflow", "submit", file, "--pool", pool]
        argv += try values("--set", set) + values("--set-string", setString)
        if let priority { argv += ["--priority", priority.uppercased()] }
        return argv + ["--format-type", "json"]
    }

    /// `osmo workflow list --count N [--status S …] [--pool P …] [--name N] --format-type json`:
    /// the newest N of your workflows (default 20 in the CLI, so always pass enough).
    public static func list(count: Int = 100, statuses: [String] = [], pools: [String] = [], name: String? = nil) -> [String] {
        var argv = ["osmo", "workflow", "list", "--count", String(max(1, count))]
        if !statuses.isEmpty { argv += ["--status"] + statuses }
        if !pools.isEmpty { argv += ["--pool"] + pools }
        if let name { argv += ["--name", name] }
        return argv + ["--format-type", "json"]
    }

    /// `osmo workflow query ID --verbose --format-type json` (every retry of every task).
    public static func query(_ id: String, verbose: Bool = true) -> [String] {
        ["osmo", "workflow", "query", id] + (verbose ? ["--verbose"] : []) + ["--format-type", "json"]
    }

    /// `osmo workflow logs ID --task T [--retry-id N] [--error] [-n LINES]`.
    public static func logs(_ id: String, task: String, retryID: Int? = nil, lastLines: Int? = nil, error: Bool = false) -> [String] {
        var argv = ["osmo", "workflow", "logs", id, "--task", task]
        if let r = retryID, r > 0 { argv += ["--retry-id", String(r)] }
        if error { argv.append("--error") }
        if let n = lastLines, n > 0 { argv += ["-n", String(n)] }
        return argv
    }

    /// `osmo workflow events ID --task T [--retry-id N]`: the pod conditions and events.
    public static func events(_ id: String, task: String, retryID: Int? = nil) -> [String] {
        var argv = ["osmo", "workflow", "events", id, "--task", task]
        if let r = retryID, r > 0 { argv += ["--retry-id", String(r)] }
        return argv
    }

    /// `osmo workflow cancel ID --message M --format-type json` (see `OSMOCLI.cancelOutcome`).
    public static func cancel(_ id: String, message: String? = nil) -> [String] {
        ["osmo", "workflow", "cancel", id] + (message.map { ["--message", $0] } ?? []) + ["--format-type", "json"]
    }

    /// `osmo workflow restart ID --pool P --format-type json`: a NEW workflow (new ID, parent =
    /// ID) with only the groups that failed, on the stored spec unchanged (`set_variables=[]`:
    /// no new --set values), allowed only on a FAILED* workflow (workflow_service.py `restart_workflow`).
    public static func restart(_ id: String, pool: String) -> [String] {
        ["osmo", "workflow", "restart", id, "--pool", pool, "--format-type", "json"]
    }

    /// `osmo pool list [--pool P …] --format-type json`.
    public static func poolList(pools: [String] = []) -> [String] {
        ["osmo", "pool", "list"] + (pools.isEmpty ? [] : ["--pool"] + pools) + ["--format-type", "json"]
    }

    /// `osmo resource list --pool P … --format-type json` (without `--pool`: the default pool only).
    public static func resourceList(pools: [String]) -> [String] {
        ["osmo", "resource", "list"] + (pools.isEmpty ? ["--all"] : ["--pool"] + pools) + ["--format-type", "json"]
    }

    static func values(_ flag: String, _ pairs: [String: String]) throws -> [String] {
        guard !pairs.isEmpty else { return [] }
        for key in pairs.keys where key.isEmpty || key.contains("=") || key.hasPrefix("-") || key.contains(where: \.isWhitespace) {
            throw ExptError(.invalidInput, "'\(key)' cannot be an OSMO \(flag) name",
                            hint: "names are template variables of the workflow file: letters, digits and _")
        }
        return [flag] + pairs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
