import ExptDiagnosis
import Foundation

/// What the end of a run's stdout says: its progress, its last line and when it was last
/// written. A finished run's tail never changes, so it is read once and cached in the ledger
/// (`output_tails`); `status --all` over 1,000 runs otherwise re-read and re-parsed 1,000 logs.
public struct OutputTail: Equatable, Sendable {
    public var progress: ExptDiagnosis.Progress?
    public var lastLine: String?
    public var modified: Date?

    public init(progress: ExptDiagnosis.Progress?, lastLine: String?, modified: Date?) {
        self.progress = progress; self.lastLine = lastLine; self.modified = modified
    }

    /// One line of tab-separated fields (the last line, which may hold tabs, comes last): a
    /// cache that is read for every shown run wants no JSON decoder.
    public var encoded: String {
        let p = progress
        let fields: [String?] = [
            "1", p.map { _ in "p" }, p?.lastStep.map(String.init), p?.totalSteps.map(String.init),
            p?.lastEpoch.map(String.init), p?.totalEpochs.map(String.init), p?.lastLoss.map { "\($0)" },
            p?.minLoss.map { "\($0)" }, p?.lossTrend, modified.map { "\($0.timeIntervalSince1970)" },
            lastLine.map { $0.replacingOccurrences(of: "\n", with: " ") },
        ]
        return fields.map { $0 ?? "" }.joined(separator: "\t")
    }

    /// Nil for text this version did not write (another format version, or damage).
    public init?(encoded: String) {
        // Split on the bytes: String.split walks Characters, a tenth of `status --all`.
        var f: [String] = []
        var utf8 = Array(encoded.utf8)[...]
        while f.count < 10, let tab = utf8.firstIndex(of: 0x09) {
            f.append(String(decoding: utf8[..<tab], as: UTF8.self))
            utf8 = utf8[(tab + 1)...]
        }
        f.append(String(decoding: utf8, as: UTF8.self))
        guard f.count == 11, f[0] == "1" else { return nil }
        func int(_ i: Int) -> Int? { Int(f[i]) }
        func double(_ i: Int) -> Double? { Double(f[i]) }
        progress = f[1] == "p" ? ExptDiagnosis.Progress(lastStep: int(2), totalSteps: int(3), lastEpoch: int(4),
                                                          lastLoss: double(6), minLoss: double(7),
                                                          lossTrend: f[8].isEmpty ? nil : f[8]) : nil
        progress?.totalEpochs = int(5)
        modified = double(9).map(Date.init(timeIntervalSince1970:))
        lastLine = f[10].isEmpty ? nil : f[10]
    }
}
