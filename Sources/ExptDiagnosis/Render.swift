import Foundation

extension Diagnosis {
    /// The `--json` form: snake_case keys, sorted, pretty printed; absent optionals are written
    /// as explicit nulls so consumers can rely on every key being there. NaN losses become "nan".
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(DiagnosisJSON(self))
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
        if explain {
            out += "Why: \(explanation)\n"
            if hits.isEmpty {
                out += "Rules fired: none\n"
            } else {
                out += "Rules fired (best first):\n"
                for h in hits {
                    out += "  \(h.rule) → \(h.category.rawValue) [\(h.effect.rawValue), precedence \(h.precedence)] at \(h.evidence.location): \(h.evidence.text)\n"
                }
            }
        }
        return out
    }

    static func progressLine(_ p: Progress) -> String? {
        var parts: [String] = []
        if let s = p.lastStep { parts.append("step \(s)" + (p.totalSteps.map { "/\($0)" } ?? "")) }
        if let e = p.lastEpoch { parts.append("epoch \(e)") }
        if let l = p.lastLoss { parts.append("loss \(l)" + (p.lossTrend.map { " (\($0))" } ?? "")) }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}

/// The JSON shape of a diagnosis, with explicit nulls (synthesized Codable omits them).
private struct DiagnosisJSON: Encodable {
    let d: Diagnosis
    init(_ d: Diagnosis) { self.d = d }

    enum Keys: String, CodingKey {
        case category, secondary, evidence, resumable, checkpoint, remedy, progress, hits, explanation
    }
    enum RemedyKeys: String, CodingKey { case kind, description, change }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(d.category, forKey: .category)
        try c.encode(d.secondary, forKey: .secondary)
        try c.encode(d.evidence, forKey: .evidence)
        try c.encode(d.resumable, forKey: .resumable)
        try c.encode(d.checkpoint, forKey: .checkpoint)
        var r = c.nestedContainer(keyedBy: RemedyKeys.self, forKey: .remedy)
        try r.encode(d.remedy.kind, forKey: .kind)
        try r.encode(d.remedy.description, forKey: .description)
        try r.encode(d.remedy.change, forKey: .change)
        try c.encode(d.progress, forKey: .progress)
        try c.encode(d.hits, forKey: .hits)
        try c.encode(d.explanation, forKey: .explanation)
    }
}
