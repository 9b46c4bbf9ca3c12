import Foundation
import ExptModel

// Decoding helpers for the OSMO CLI's JSON. The CLI prints the service's pydantic models with
// `json.dumps` (NVIDIA/OSMO src/cli/workflow.py, pool.py, resources.py): datetimes are naive
// ISO 8601 in UTC (`2026-05-09T09:01:30.123456`, sometimes with `+00:00`), durations are
// seconds as floats (`ser_json_timedelta='float'` in src/service/core/workflow/objects.py),
// pool quantities are strings (`coerce_numbers_to_str`) and node quantities strings or numbers.
// Every reader below accepts those variants; unknown fields are ignored.

/// Keys given at run time: only the fields expt reads are looked up.
struct OSMOKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension KeyedDecodingContainer where K == OSMOKey {
    func has(_ key: String) throws -> Bool {
        guard contains(OSMOKey(key)) else { return false }
        return try !decodeNil(forKey: OSMOKey(key))
    }
    /// A required string (missing, null or not a string throws, naming the field).
    func required(_ key: String) throws -> String { try decode(String.self, forKey: OSMOKey(key)) }
    func string(_ key: String) throws -> String? { try decodeIfPresent(String.self, forKey: OSMOKey(key)) }
    /// A string, or a number/bool printed as text.
    func text(_ key: String) throws -> String? {
        let k = OSMOKey(key)
        guard try has(key) else { return nil }
        if let s = try? decode(String.self, forKey: k) { return s }
        if let i = try? decode(Int64.self, forKey: k) { return String(i) }
        if let d = try? decode(Double.self, forKey: k) { return String(d) }
        if let b = try? decode(Bool.self, forKey: k) { return String(b) }
        return try decode(String.self, forKey: k)            // throws the type mismatch with its path
    }
    /// An integer, also when printed as `137.0` or `"137"`.
    func int(_ key: String) throws -> Int? {
        guard let t = try text(key) else { return nil }
        if let i = Int(t.trimmingCharacters(in: .whitespaces)) { return i }
        if let d = Double(t), d.isFinite, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        let path: [CodingKey] = codingPath + [OSMOKey(key)]
        throw DecodingError.typeMismatch(Int.self, .init(codingPath: path, debugDescription: "not an integer: \(t)"))
    }
    func bool(_ key: String) throws -> Bool? {
        guard try has(key) else { return nil }
        if let b = try? decode(Bool.self, forKey: OSMOKey(key)) { return b }
        return try text(key).map { ["true", "1", "yes"].contains($0.lowercased()) }
    }
    /// Informational times: an unreadable one is nil rather than a failed poll.
    func date(_ key: String) throws -> Date? { (try? text(key)).flatMap(OSMOTime.parse) }
    /// Seconds: a number, a numeric string or an ISO 8601 duration (`PT1H2M`).
    func seconds(_ key: String) throws -> Double? { (try? text(key)).flatMap(OSMOTime.seconds) }
    func strings(_ key: String) throws -> [String] { try decodeIfPresent([String].self, forKey: OSMOKey(key)) ?? [] }
    func stringMap(_ key: String) throws -> [String: String] {
        try decodeIfPresent([String: String].self, forKey: OSMOKey(key)) ?? [:]
    }
    func nested(_ key: String) throws -> KeyedDecodingContainer<OSMOKey>? {
        guard try has(key) else { return nil }
        return try nestedContainer(keyedBy: OSMOKey.self, forKey: OSMOKey(key))
    }
    /// Every key of the object (a map whose keys are data: pools, platforms).
    var keys: [String] { allKeys.map(\.stringValue).sorted() }
}

/// Times and durations as the OSMO service prints them.
public enum OSMOTime {
    /// `2026-05-09T09:01:30`, `…30.123456`, `…30+00:00`, `…30Z`, or with a space for the `T`.
    /// A time without a zone is UTC (the service stores naive UTC times).
    public static func parse(_ text: String) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard t.utf8.count >= 19 else { return nil }
        let zoned = t.utf8.dropFirst(19).contains { $0 == 0x5A || $0 == 0x7A || $0 == 0x2B || $0 == 0x2D }
        return ArgoTime.parse(zoned ? t : t + "Z")
    }

    /// `90.0`, `"90"`, or ISO 8601 `PT1H30M`, `P1DT2H`, `PT0.5S` → seconds.
    public static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let d = Double(t), d.isFinite { return d }
        var rest = Substring(t.uppercased())
        guard rest.hasPrefix("P") || rest.hasPrefix("-P") else { return nil }
        let negative = rest.hasPrefix("-")
        rest = rest.drop { $0 == "-" || $0 == "P" }
        var total = 0.0, number = "", inTime = false, any = false
        for c in rest {
            if c == "T" { inTime = true; continue }
            if c.isNumber || c == "." { number.append(c); continue }
            guard let v = Double(number) else { return nil }
            switch (c, inTime) {
            case ("W", false): total += v * 604_800
            case ("D", false): total += v * 86_400
            case ("H", true): total += v * 3600
            case ("M", true): total += v * 60
            case ("S", true): total += v
            default: return nil
            }
            number = ""; any = true
        }
        guard any, number.isEmpty else { return nil }
        return negative ? -total : total
    }
}
