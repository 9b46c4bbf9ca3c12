import Foundation

extension Ledger {
    /// The cached output tails of finished runs, by run id (`OutputTail.encoded`).
    public func outputTails() throws -> [String: String] {
        try withDB("reading the cached output tails") { db in
            var result: [String: String] = [:]
            for row in try db.query("SELECT run_id, tail FROM output_tails") {
                if let id = row.string("run_id"), let tail = row.string("tail") { result[id] = tail }
            }
            return result
        }
    }

    /// Caches the tails of runs that have ended, in one transaction.
    public func cacheOutputTails(_ tails: [String: String]) throws {
        guard !tails.isEmpty else { return }
        try write("caching the output tails of \(tails.count) runs") { db in
            for (id, tail) in tails {
                try db.query("INSERT OR REPLACE INTO output_tails (run_id, tail) VALUES (?, ?)", [.text(id), .text(tail)])
            }
        }
    }
}
