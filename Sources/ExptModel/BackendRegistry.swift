import Foundation
import ExptTOML

/// What configuration loading needs to know of the backends: their names (each may have a
/// `[name]` table in expt.toml) and how to check a table, so a typo in any backend's table is an
/// error with file and line even while another backend is in use.
public protocol BackendCatalog {
    var backendNames: [String] { get }
    /// The backend of a repository whose expt.toml names none.
    var defaultBackend: String { get }
    func validateSettings(backend: String, table: TOMLTable) throws
}

extension BackendCatalog {
    /// The first registered backend (the embedded local one in the standard registry).
    public var defaultBackend: String { backendNames.first ?? "" }
}

/// What every backend may use to build itself: where runs live, this binary (the local
/// backend's supervisor), the runner for external commands, and the repository's templates.
public struct BackendContext: Sendable {
    public var repoRoot: String
    /// `<git-common-dir>/expt/runs`: run directories are `<runsDir>/<run-id>`.
    public var runsDir: String
    public var selfExecutable: String
    public var runner: ProcessRunner
    public var templates: Templates

    public init(repoRoot: String, runsDir: String, selfExecutable: String, runner: ProcessRunner) {
        self.repoRoot = repoRoot; self.runsDir = runsDir; self.selfExecutable = selfExecutable
        self.runner = runner; self.templates = Templates(repoRoot: repoRoot)
    }
}

/// One backend as the registry knows it: its name, its settings type and how to build it.
public struct BackendEntry: Sendable {
    public let name: String
    let validate: @Sendable (TOMLTable) throws -> Void
    let make: @Sendable (TOMLTable, BackendContext) throws -> Backend

    /// A backend whose settings are `Settings`, decoded from its `[name]` table (an empty table
    /// when absent, so every field needs a default); unknown keys are rejected by the decoder.
    public init<Settings: Decodable & Sendable>(name: String, settings: Settings.Type,
                                     make: @escaping @Sendable (Settings, BackendContext) throws -> Backend) {
        self.name = name
        self.validate = { table in _ = try TOMLDecoder().decode(Settings.self, from: table) }
        self.make = { table, context in try make(try TOMLDecoder().decode(Settings.self, from: table), context) }
    }
}

/// The backends expt knows. Adding one is one folder in ExptBackends plus one line where the
/// standard registry is assembled (`BackendRegistry.standard` in ExptBackends).
public struct BackendRegistry: BackendCatalog, Sendable {
    public let entries: [BackendEntry]

    public init(_ entries: [BackendEntry]) { self.entries = entries }

    public var backendNames: [String] { entries.map(\.name) }

    public func entry(_ name: String) throws -> BackendEntry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw ExptError(.invalidInput, "unknown backend '\(name)'",
                            hint: "known backends: \(backendNames.joined(separator: ", "))")
        }
        return e
    }

    public func validateSettings(backend: String, table: TOMLTable) throws {
        try entry(backend).validate(table)
    }

    /// Builds `name` from its table (nil: the backend's defaults).
    public func make(_ name: String, table: TOMLTable?, context: BackendContext) throws -> Backend {
        try entry(name).make(table ?? TOMLTable(), context)
    }
}
