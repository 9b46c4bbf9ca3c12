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

    public init(at: Date, run: String, branch: String, from: String?, to: String, exitCode: Int32?, diagnosis: String?) {
        self.at = at; self.run = run; self.branch = branch; self.from = from; self.to = to
        self.exitCode = exitCode; self.diagnosis = diagnosis
    }
}
