import Foundation
import ExptModel

/// One state change seen by `watch`.
public struct WatchEvent: Codable, Sendable {
    public var at: Date
    public var run: String
    public var branch: String
    public var from: String?
    public var to: String
    public var exitCode: Int32?
    public var diagnosis: String?
    /// "epoch 2/10, step 340/1000 (34%), loss ↓" when the run's progress is known.
    public var progress: String?

    public init(at: Date, run: String, branch: String, from: String?, to: String, exitCode: Int32?, diagnosis: String?,
                progress: String? = nil) {
        self.at = at; self.run = run; self.branch = branch; self.from = from; self.to = to
        self.exitCode = exitCode; self.diagnosis = diagnosis; self.progress = progress
    }
}

/// A discrepancy `watch` saw appear (a zombie, a stall): said once per run and kind.
public struct WatchWarning: Codable, Sendable {
    public var at: Date
    public var run: String
    public var branch: String
    public var warning: String
    public var detail: String
    public var lastLine: String?

    public init(at: Date, run: String, branch: String, _ d: Discrepancy) {
        self.at = at; self.run = run; self.branch = branch
        warning = d.kind.rawValue; detail = d.detail; lastLine = d.lastLine
    }
}
