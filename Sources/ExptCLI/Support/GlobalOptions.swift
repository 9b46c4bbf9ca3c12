import ArgumentParser
import Foundation
import ExptCore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON on stdout.")
    var json = false

    @Option(name: [.customShort("C"), .customLong("repo")], help: "Run as if expt was started in this directory.")
    var repo: String?

    /// The directory the command works from.
    var directory: String { repo ?? FileManager.default.currentDirectoryPath }

    /// Opens the workspace around `directory`, with errors in words.
    func workspace() throws -> Workspace { try Workspace(at: directory) }
}
