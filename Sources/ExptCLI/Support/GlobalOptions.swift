import ArgumentParser
import Foundation
import ExptCore
import ExptModel

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON on stdout.")
    var json = false

    @Option(name: [.customShort("C"), .customLong("repo")], help: "Run as if expt was started in this directory.")
    var repo: String?
}
