import Foundation
import ExptModel

extension Diagnosis {
    /// The `--json` form: snake_case keys, sorted, pretty printed; absent optionals are written
    /// as explicit nulls (at every level) so consumers can rely on every key being there.
    /// NaN losses become "nan". `JSONOutput` does all of that for the synthesized Encodable.
    public func jsonData() throws -> Data {
        Data(try JSONOutput.encode(self).utf8)
    }

    /// Human output for the terminal. `explain` adds every rule that fired and why the winner won.
    public func render(explain: Bool) -> String {
        var out = category.rawValue
        if let secondary { out += " (secondary: \(secondary.rawValue))" }
        out += resumable ? " — resumable" + (checkpoint.map { " from \($0)" } ?? "") : " — not resumable"
        out += "\n"
        if !evidence.isEmpty {
            out += "Evidence:\n"
            for e in evidence { out += "  \(e.location): \(e.text)\n" }
        }
        out += "Remedy (\(remedy.kind.rawValue)): \(remedy.description)\n"
        if let p = progress, let line = Diagnosis.progressLine(p) { out += "Progress: \(line)\n" }
        for w in warnings { out += "Warning: \(w)\n" }
        if explain {
            out += "Why: \(explanation)\n"
            if let rule = evidence.first?.rule, let h = hits.first(where: { $0.rule == rule }), let from = Diagnosis.provenance(h) {
                out += "Decided by: \(rule) (\(from))\n"
            }
            if hits.isEmpty {
                out += "Rules fired: none\n"
            } else {
                out += "Rules fired (best first):\n"
                for h in hits {
                    out += "  \(h.rule) → \(h.category.rawValue) [\(h.effect.rawValue), precedence \(h.precedence)] at \(h.evidence.location): \(h.evidence.text)\n"
                    if let from = Diagnosis.provenance(h) { out += "    \(from)\n" }
                }
            }
        }
        return out
    }

    /// "family kubernetes; wording from kubernetes/kubernetes pkg/kubelet/…", or nil.
    static func provenance(_ h: RuleHit) -> String? {
        switch (h.family, h.wordingFrom) {
        case let (f?, w?): return "family \(f); wording from \(w)"
        case let (f?, nil): return "family \(f)"
        case let (nil, w?): return "wording from \(w)"
        default: return nil
        }
    }

    static func progressLine(_ p: Progress) -> String? {
        var parts: [String] = []
        if let s = p.lastStep { parts.append("step \(s)" + (p.totalSteps.map { "/\($0)" } ?? "")) }
        if let e = p.lastEpoch { parts.append("epoch \(e)") }
        if let l = p.lastLoss { parts.append("loss \(l)" + (p.lossTrend.map { " (\($0))" } ?? "")) }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
