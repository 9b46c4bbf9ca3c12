import Foundation
import ExptModel
import ExptTOML

/// The retry budget and escalation factors of fix-and-relaunch.
public struct RetryPolicy: Codable, Sendable, Equatable {
    public var maxFailures = 3
    public var maxPreemptions = 10
    public var memoryFactor = 1.5
    public var memoryCapMB = 65536
    public var timeFactor = 1.5
    public init() {}
}

/// Facts about the run that sharpen diagnosis (all optional).
public struct RunFactsConfig: Codable, Sendable, Equatable {
    public var batchSize: Int?
    public var gradAccumulation: Int?
    public var expectedSteps: Int?
    public var expectedEpochs: Int?
    /// A running job with no new log line (and no tracker heartbeat) for this long is stalled.
    public var stallAfterSeconds = 1800
    /// How long the run is expected to take: ending far sooner is a red flag.
    public var expectedRuntimeSeconds: Int?
    /// A success with fewer than this share of the expected steps or runtime is a false success
    /// (and a tenth of it of the time limit).
    public var falseSuccessFraction = 0.5
    public init() {}
}

/// Per-item outputs (`[outputs]`): see `ItemOutputs`.
public struct OutputsConfig: Codable, Sendable, Equatable {
    /// Where item `{item}` writes, relative to the worktree or absolute.
    public var itemDir: String?
    /// A file inside the item's directory whose presence means the item finished.
    public var doneMarker: String?
    public init() {}
}

/// Sweep health bands (fractions of tasks): watch <= degraded <= systemic.
public struct HealthBandsConfig: Codable, Sendable, Equatable {
    /// Up to this share of all tasks failing (any causes) is noise; defaults to `degraded`.
    public var watch = 0.10
    public var degraded = 0.10
    public var systemic = 0.15
    public init() {}
}

/// The effective configuration of one experiment: the repository's `expt.toml`, overridden
/// key by key by the `expt.toml` committed in the experiment's worktree.
public struct ExptConfig: Sendable, Equatable {
    public var command: String?
    public var resumeCommand: String?
    public var checkpointGlob: String?
    public var wandbDir: String?
    /// The backend's name; the catalog's default when expt.toml names none.
    public var backend = ""
    public var base: String?
    /// An array job (sweep): the task indices, e.g. "0-99%10".
    public var array: ArraySpec?
    public var env: [String: String] = [:]
    public var resources = Resources()
    public var profiles: [String: Resources] = [:]
    public var retry = RetryPolicy()
    public var run = RunFactsConfig()
    public var health = HealthBandsConfig()
    public var outputs = OutputsConfig()
    /// `[wandb]`: the run tracker, nil when the table is absent.
    public var tracker: TrackerSettings?
    /// The merged `[name]` table of every registered backend present in the files, already
    /// validated by that backend; it decodes its own settings from it.
    public var backendTables: [String: TOMLTable] = [:]
    /// The files read, in order (later ones win).
    public var sources: [String] = []
    /// The files merged key by key, each key remembering its file and line.
    public private(set) var table = TOMLTable()

    public init() {}

    /// Loads `<repoRoot>/expt.toml`, then `<worktree>/expt.toml` when it is a different file.
    /// A missing root file is an error that says how to create it.
    public static func load(repoRoot: String, worktree: String?, backends: BackendCatalog) throws -> ExptConfig {
        let rootFile = repoRoot + "/expt.toml"
        var files: [String] = []
        if FileManager.default.fileExists(atPath: rootFile) { files.append(rootFile) }
        if let wt = worktree, wt != repoRoot, FileManager.default.fileExists(atPath: wt + "/expt.toml") {
            files.append(wt + "/expt.toml")
        }
        guard !files.isEmpty else {
            throw ExptError(.notFound, "no expt.toml in \(repoRoot)\(worktree.map { " or \($0)" } ?? "")",
                            hint: "run `expt init` to create one, then set `command` in it")
        }
        var merged: TOMLTable?
        for f in files {
            let text = try readConfigFile(f)
            let parsed: TOMLTable
            do { parsed = try TOML.parse(text, file: f) } catch let e as TOMLError { throw configError(e, file: f) }
            merged = merged.map { $0.overlaid(by: parsed) } ?? parsed
        }
        return try ExptConfig(table: merged ?? TOMLTable(), sources: files, backends: backends)
    }

    /// True when the worktree has an expt.toml with the very bytes of the root's (a worktree
    /// overlaid on an identical root changes nothing). Positions in errors then name the root
    /// file, whose line is the same.
    static func worktreeFileIsTheRoots(repoRoot: String, worktree: String) -> Bool {
        guard worktree != repoRoot, let root = FileManager.default.contents(atPath: repoRoot + "/expt.toml"),
              let own = FileManager.default.contents(atPath: worktree + "/expt.toml") else { return false }
        return root == own
    }

    /// The file's text, or an error that says what is wrong with it (R28): a directory, a file
    /// that cannot be read, or bytes that are not UTF-8 (with the line of the first bad one).
    static func readConfigFile(_ f: String) throws -> String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: f, isDirectory: &isDir), isDir.boolValue {
            throw ExptError(.invalidInput, "\(f) is a directory, not a file", hint: "move it aside and write expt.toml as a file (`expt init` writes one)")
        }
        guard let data = FileManager.default.contents(atPath: f) else {
            throw ExptError(.invalidInput, "cannot read \(f)", hint: "check its permissions")
        }
        if let text = String(data: data, encoding: .utf8) { return text }
        let bytes = [UInt8](data)
        let bad = firstInvalidUTF8(bytes) ?? 0
        let line = 1 + bytes[..<bad].filter { $0 == 0x0A }.count
        throw ExptError(.invalidInput, "\(f):\(line): invalid UTF-8 byte 0x\(String(format: "%02X", bytes[bad])): expt.toml must be UTF-8",
                        hint: "save the file as UTF-8")
    }

    /// The offset of the first byte that does not belong to a well-formed UTF-8 sequence.
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        while i < b.count {
            let lead = b[i]
            let n = lead < 0x80 ? 1 : (lead >> 5) == 0b110 && lead >= 0xC2 ? 2 : (lead >> 4) == 0b1110 ? 3 : (lead >> 3) == 0b11110 && lead <= 0xF4 ? 4 : 0
            guard n > 0, i + n <= b.count, b[(i + 1)..<(i + n)].allSatisfy({ $0 & 0xC0 == 0x80 }),
                  String(bytes: b[i..<(i + n)], encoding: .utf8) != nil else { return i }
            i += n
        }
        return nil
    }

    /// Like `load`, but no expt.toml at all means the defaults. A file that exists and is
    /// invalid is still an error: silently using the defaults instead (another backend, no
    /// exec prefix) would poll or diagnose the wrong way.
    public static func loadIfPresent(repoRoot: String, worktree: String?, backends: BackendCatalog) throws -> ExptConfig {
        let candidates = [repoRoot] + (worktree.map { [$0] } ?? [])
        guard candidates.contains(where: { FileManager.default.fileExists(atPath: $0 + "/expt.toml") }) else {
            return try ExptConfig(table: TOMLTable(), sources: [], backends: backends)
        }
        return try load(repoRoot: repoRoot, worktree: worktree, backends: backends)
    }

    /// Layers one more file's keys over this configuration (as the worktree's file is layered
    /// over the repository's) and decodes the result again.
    public mutating func apply(text: String, file: String, backends: BackendCatalog) throws {
        let parsed: TOMLTable
        do { parsed = try TOML.parse(text, file: file) } catch let e as TOMLError { throw ExptConfig.configError(e, file: file) }
        let merged = sources.isEmpty ? parsed : table.overlaid(by: parsed)
        self = try ExptConfig(table: merged, sources: sources + [file], backends: backends)
    }

    /// Decodes a merged table (see `TOMLTable.overlaid(by:)`) once.
    public init(table: TOMLTable, sources: [String], backends: BackendCatalog) throws {
        self.init()
        self.table = table
        self.sources = sources
        do { try decode(table, backends: backends) } catch let e as TOMLError {
            throw ExptConfig.configError(e, file: sources.last ?? "expt.toml")
        }
    }

    /// A TOML error as the configuration error users see, pointing at file and line.
    static func configError(_ e: TOMLError, file: String) -> ExptError {
        ExptError(.invalidInput, "invalid configuration: \(e.description)",
                  hint: "fix \(e.file ?? file) at line \(e.line); templates/expt.toml documents every key")
    }

    private mutating func decode(_ t: TOMLTable, backends: BackendCatalog) throws {
        var decoder = TOMLDecoder()
        decoder.userInfo[ConfigRoot.backendNames] = backends.backendNames
        let doc = try decoder.decode(ConfigRoot.self, from: t).document

        command = doc.command
        resumeCommand = doc.resumeCommand
        checkpointGlob = doc.checkpointGlob
        wandbDir = doc.wandbDir
        base = doc.base
        array = doc.array?.spec
        backend = backends.defaultBackend
        if let b = doc.backend {
            guard backends.backendNames.contains(b) else {
                throw t.error("unknown backend '\(b)' (known: \(backends.backendNames.joined(separator: ", ")))", key: "backend")
            }
            backend = b
        }
        env = doc.env ?? [:]
        if let r = doc.resources { try ExptConfig.checkCounts(r, try t.table("resources") ?? TOMLTable()) }
        for (name, p) in doc.profiles ?? [:] {
            try ExptConfig.checkCounts(p, try t.table("profiles")?.table(name) ?? TOMLTable())
        }
        resources = doc.resources?.resources ?? Resources()
        profiles = (doc.profiles ?? [:]).mapValues { $0.resources }

        if let r = doc.retry {
            let rt = try t.table("retry") ?? TOMLTable()
            retry.maxFailures = try ExptConfig.atLeast(0, r.maxFailures, "max_failures", rt) ?? retry.maxFailures
            retry.maxPreemptions = try ExptConfig.atLeast(0, r.maxPreemptions, "max_preemptions", rt) ?? retry.maxPreemptions
            retry.memoryFactor = try ExptConfig.factor(r.memoryFactor, "memory_factor", "memory request", rt) ?? retry.memoryFactor
            retry.timeFactor = try ExptConfig.factor(r.timeFactor, "time_factor", "time limit", rt) ?? retry.timeFactor
            retry.memoryCapMB = r.memoryCap?.value ?? retry.memoryCapMB
            if let cap = r.memoryCap?.value, let mem = resources.memoryMB, cap < mem {
                throw rt.error("memory_cap (\(Units.memoryString(cap))) is below [resources] mem (\(Units.memoryString(mem))): a memory fix could never escalate", key: "memory_cap")
            }
        }
        if let r = doc.run {
            run.batchSize = r.batchSize
            run.gradAccumulation = r.gradAccumulation
            run.expectedSteps = r.expectedSteps
            run.expectedEpochs = r.expectedEpochs
            let rt = try t.table("run") ?? TOMLTable()
            if let s = r.stallAfter?.value {
                guard s >= 1 else { throw rt.error("stall_after must be at least a second", key: "stall_after") }
                run.stallAfterSeconds = s
            }
            run.expectedRuntimeSeconds = r.expectedRuntime?.value
            if let f = r.falseSuccessFraction {
                guard f > 0, f < 1 else { throw rt.error("false_success_fraction must be between 0 and 1", key: "false_success_fraction") }
                run.falseSuccessFraction = f
            }
        }
        if let w = doc.wandb { tracker = try w.settings(try t.table("wandb") ?? TOMLTable(), env: env) }
        if let o = doc.outputs {
            let ot = try t.table("outputs") ?? TOMLTable()
            if let dir = o.itemDir {
                guard dir.contains("{item}") else { throw ot.error("'\(dir)' has no {item} placeholder", key: "item_dir") }
                guard !dir.split(separator: "/").contains("..") else { throw ot.error("'\(dir)' may not contain '..'", key: "item_dir") }
            }
            if let m = o.doneMarker, m.isEmpty || m.hasPrefix("/") || m.split(separator: "/").contains("..") {
                throw ot.error("'\(m)' must be a file name inside the item's directory", key: "done_marker")
            }
            if o.doneMarker != nil && o.itemDir == nil { throw ot.error("done_marker needs item_dir", key: "done_marker") }
            outputs.itemDir = o.itemDir
            outputs.doneMarker = o.doneMarker
        }
        if let h = doc.health {
            let ht = try t.table("health") ?? TOMLTable()
            health = try ExptConfig.bands(h, ht)
        }

        // Every backend's table is checked, not only the one in use: a typo in a cluster's
        // table is an error today, not on the day the experiment moves to the cluster.
        for name in backends.backendNames {
            guard let bt = try t.table(name) else { continue }
            try backends.validateSettings(backend: name, table: bt)
            backendTables[name] = bt
        }
    }

    /// CPU and GPU counts a scheduler can grant: cpus 1–4096, gpus 0–1024 (a backend's own
    /// renderer may reject them only when the job reaches its scheduler; expt says so at once,
    /// with file:line, whatever the backend).
    static func checkCounts(_ r: ResourcesTable, _ t: TOMLTable) throws {
        if let c = r.cpus, !(1...4096).contains(c) { throw t.error("cpus must be a whole number from 1 to 4096, found \(c)", key: "cpus") }
        if let g = r.gpus, !(0...1024).contains(g) { throw t.error("gpus must be a whole number from 0 to 1024, found \(g)", key: "gpus") }
    }

    static func atLeast(_ minimum: Int, _ value: Int?, _ key: String, _ t: TOMLTable) throws -> Int? {
        guard let value else { return nil }
        guard value >= minimum else { throw t.error("must be at least \(minimum), found \(value)", key: key) }
        return value
    }

    static func factor(_ value: Double?, _ key: String, _ what: String, _ t: TOMLTable) throws -> Double? {
        guard let value else { return nil }
        guard value.isFinite, value >= 1 else {
            throw t.error("must be a number of at least 1 (the \(what) is multiplied by it on each retry), found \(value)", key: key)
        }
        return value
    }

    /// Each band in 0...1, and watch <= degraded <= systemic; an unset watch is degraded (the
    /// behaviour before `watch` existed). Errors point at a key the file sets.
    static func bands(_ h: HealthTable, _ t: TOMLTable) throws -> HealthBandsConfig {
        for (key, value) in [("watch", h.watch), ("degraded", h.degraded), ("systemic", h.systemic)] {
            if let v = value, !(0.0...1.0).contains(v) {
                throw t.error("must be a fraction of tasks between 0 and 1, found \(v)", key: key)
            }
        }
        var bands = HealthBandsConfig()
        bands.degraded = h.degraded ?? bands.degraded
        bands.systemic = h.systemic ?? bands.systemic
        bands.watch = h.watch ?? bands.degraded
        func shown(_ key: String, _ v: Double, set: Bool) -> String { "\(key) = \(v)\(set ? "" : " (the default)")" }
        let order = "the bands must satisfy watch <= degraded <= systemic"
        if bands.watch > bands.degraded {
            throw t.error("\(order): \(shown("watch", bands.watch, set: true)) is above \(shown("degraded", bands.degraded, set: h.degraded != nil))",
                          key: "watch")
        }
        if bands.degraded > bands.systemic {
            throw t.error("\(order): \(shown("degraded", bands.degraded, set: h.degraded != nil)) is above \(shown("systemic", bands.systemic, set: h.systemic != nil))",
                          key: h.systemic != nil ? "systemic" : "degraded")
        }
        return bands
    }

    /// The resources of a run: [resources], then the profile, then command-line overrides.
    public func resources(profile: String?, overrides: Resources) throws -> Resources {
        var r = resources
        if let profile {
            guard let p = profiles[profile] else {
                throw ExptError(.invalidInput, "unknown profile '\(profile)'",
                                hint: profiles.isEmpty ? "define [profiles.\(profile)] in expt.toml"
                                    : "known profiles: \(profiles.keys.sorted().joined(separator: ", "))")
            }
            r = r.overridden(by: p)
        }
        return r.overridden(by: overrides)
    }
}

// MARK: - The file's shape

/// The declared keys plus the backends' tables, which are left to the backends to decode.
struct ConfigRoot: Decodable {
    static let backendNames = CodingUserInfoKey(rawValue: "expt.backendNames")!
    var document: ConfigDocument

    init(from decoder: Decoder) throws {
        document = try ConfigDocument(from: decoder)
        let keys = try decoder.container(keyedBy: NameKey.self)
        for name in decoder.userInfo[ConfigRoot.backendNames] as? [String] ?? [] {
            _ = keys.contains(NameKey(stringValue: name))
        }
    }

    struct NameKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// Every key of `templates/expt.toml` outside the backends' tables. Property names are the
/// keys in camelCase; all optional, the defaults live in `ExptConfig`.
struct ConfigDocument: Decodable {
    var command: String?
    var resumeCommand: String?
    var checkpointGlob: String?
    var wandbDir: String?
    var backend: String?
    var base: String?
    var array: ArrayRange?
    var env: [String: String]?
    var resources: ResourcesTable?
    var profiles: [String: ResourcesTable]?
    var retry: RetryTable?
    var run: RunTable?
    var health: HealthTable?
    var outputs: OutputsTable?
    var wandb: WandbTable?
}

struct OutputsTable: Decodable {
    var itemDir: String?
    var doneMarker: String?
}

struct ResourcesTable: Decodable {
    var mem: Megabytes?
    var cpus: Int?
    var gpus: Int?
    var time: Seconds?
    var partition: String?
    var account: String?
    var qos: String?

    var resources: Resources {
        Resources(memoryMB: mem?.value, cpus: cpus, gpus: gpus, timeLimitSeconds: time?.value,
                  partition: partition, account: account, qos: qos)
    }
}

struct RetryTable: Decodable {
    var maxFailures: Int?
    var maxPreemptions: Int?
    var memoryFactor: Double?
    var memoryCap: Megabytes?
    var timeFactor: Double?
}

struct RunTable: Decodable {
    var batchSize: Int?
    var gradAccumulation: Int?
    var expectedSteps: Int?
    var expectedEpochs: Int?
    var stallAfter: Seconds?
    var expectedRuntime: Seconds?
    var falseSuccessFraction: Double?
}

struct HealthTable: Decodable {
    var watch: Double?
    var degraded: Double?
    var systemic: Double?
}
