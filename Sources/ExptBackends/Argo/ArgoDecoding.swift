import Foundation
import ExptModel

/// Parses the CLI's JSON. Errors are `.external` and name the command and the field.
public enum ArgoJSON {
    /// `argo get -n NS NAME -o json`. `command` names it in errors (e.g. `ShellQuote.join(argv)`).
    public static func workflow(_ output: String, command: String) throws -> ArgoWorkflow {
        try decode(ArgoWorkflow.self, output, command: command)
    }

    /// `argo list -n NS -l SEL -o json`: a bare JSON array (`[]` when nothing matches). The Argo
    /// Server's REST form `{"metadata": …, "items": [...]}` (items null when empty) is read too.
    public static func workflows(_ output: String, command: String) throws -> [ArgoWorkflow] {
        let text = try payload(output, command: command)
        if text.first == "{" { return try decode(ListBody.self, output, command: command).items ?? [] }
        return try decode([ArgoWorkflow].self, output, command: command)
    }

    /// The REST list body; `items` must be there (null when empty), so a lone workflow or an
    /// error object is not taken for an empty list.
    struct ListBody: Decodable {
        var items: [ArgoWorkflow]?
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: ArgoKey.self)
            guard c.contains(ArgoKey("items")) else {
                throw DecodingError.keyNotFound(ArgoKey("items"), .init(codingPath: [], debugDescription: "no items"))
            }
            items = try c.decodeIfPresent([ArgoWorkflow].self, forKey: ArgoKey("items"))
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ output: String, command: String) throws -> T {
        let text = try payload(output, command: command)
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw problem(error, output: text, command: command)
        }
    }

    /// The JSON part of the output: leading blank lines and WSL's own warnings (`wsl: Processing
    /// /etc/fstab with mount -a failed`, harmless per the reference user's cluster/argo/README.md)
    /// are skipped; anything else before the JSON means the tool printed something else.
    static func payload(_ output: String, command: String) throws -> Substring {
        var rest = Substring(output)
        while let first = rest.first(where: { !$0.isWhitespace }), first != "{", first != "[" {
            let line = rest.drop { $0.isWhitespace }
            guard line.hasPrefix("wsl:"), let end = line.firstIndex(where: \.isNewline) else {
                throw notJSON(output, command: command)
            }
            rest = line[line.index(after: end)...]
        }
        guard rest.contains(where: { !$0.isWhitespace }) else { throw notJSON(output, command: command) }
        return rest
    }

    static func notJSON(_ output: String, command: String) -> ExptError {
        let shown = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let got = shown.isEmpty ? "nothing" : "'" + String(shown.prefix(200)) + (shown.count > 200 ? "…'" : "'")
        return ExptError(.external, "could not parse the output of `\(command)`: expected JSON, got \(got)",
                         hint: "run the command by hand to see what it prints; an exec_prefix or shell profile that "
                             + "writes to stdout breaks it")
    }

    static func problem(_ error: DecodingError, output: Substring, command: String) -> ExptError {
        let hint = "expt reads Argo 3.4 to 4.x output; if this Argo prints workflows differently, please report it "
            + "with that command's output"
        func path(_ keys: [CodingKey]) -> String {
            keys.reduce("") { text, key in
                if let i = key.intValue, key.stringValue == "Index \(i)" || key.stringValue == "\(i)" { return text + "[\(i)]" }
                return text.isEmpty ? key.stringValue : text + "." + key.stringValue
            }
        }
        let what: String
        switch error {
        case .keyNotFound(let key, let context): what = "missing field '\(path(context.codingPath + [key]))'"
        case .valueNotFound(_, let context): what = "field '\(path(context.codingPath))' is null"
        case .typeMismatch(let type, let context):
            what = "field '\(path(context.codingPath))' is not \(type == String.self ? "a string" : "of type \(type)")"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                // malformed or cut off (a command killed at its deadline prints half a document)
                let why = context.underlyingError.map { String(describing: $0) } ?? context.debugDescription
                what = "the JSON is malformed (\(why)); it is \(output.utf8.count) bytes long"
            } else {
                what = "field '\(path(context.codingPath))' is unreadable"
            }
        @unknown default: what = "unexpected JSON"
        }
        return ExptError(.external, "could not parse the output of `\(command)`: \(what)", hint: hint)
    }
}

// MARK: - Decodable

/// Keys given at run time: only the fields expt reads are looked up.
struct ArgoKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension KeyedDecodingContainer where K == ArgoKey {
    func string(_ key: String) throws -> String? { try decodeIfPresent(String.self, forKey: ArgoKey(key)) }
    func nested(_ key: String) throws -> KeyedDecodingContainer<ArgoKey>? {
        guard contains(ArgoKey(key)), try !decodeNil(forKey: ArgoKey(key)) else { return nil }
        return try nestedContainer(keyedBy: ArgoKey.self, forKey: ArgoKey(key))
    }
    func date(_ key: String) throws -> Date? { try string(key).flatMap(ArgoTime.parse) }
    func strings(_ key: String) throws -> [String: String] { try decodeIfPresent([String: String].self, forKey: ArgoKey(key)) ?? [:] }
    func parameters(_ key: String) throws -> [ArgoParameter] {
        try nested(key)?.decodeIfPresent([ArgoParameter].self, forKey: ArgoKey("parameters")) ?? []
    }
    /// A string, or a number/bool printed as text (parameter values, exit codes).
    func text(_ key: String) throws -> String? {
        let k = ArgoKey(key)
        guard contains(k), try !decodeNil(forKey: k) else { return nil }
        if let s = try? decode(String.self, forKey: k) { return s }
        if let i = try? decode(Int64.self, forKey: k) { return String(i) }
        if let d = try? decode(Double.self, forKey: k) { return String(d) }
        if let b = try? decode(Bool.self, forKey: k) { return String(b) }
        return try decode(String.self, forKey: k)            // throws the type mismatch with its path
    }
}

extension ArgoWorkflow: Decodable {
    public init(from decoder: Decoder) throws {
        let top = try decoder.container(keyedBy: ArgoKey.self)
        let meta = try top.nestedContainer(keyedBy: ArgoKey.self, forKey: ArgoKey("metadata"))
        let spec = try top.nested("spec"), status = try top.nested("status")
        self.init(name: try meta.decode(String.self, forKey: ArgoKey("name")),
                  namespace: try meta.string("namespace"), generateName: try meta.string("generateName"),
                  uid: try meta.string("uid"), labels: try meta.strings("labels"), annotations: try meta.strings("annotations"),
                  createdAt: try meta.date("creationTimestamp"),
                  parameters: try spec?.parameters("arguments") ?? [],
                  workflowTemplate: try spec?.nested("workflowTemplateRef")?.string("name"),
                  entrypoint: try spec?.string("entrypoint"), shutdown: try spec?.string("shutdown"),
                  phase: try status?.string("phase") ?? "", message: try status?.string("message"),
                  startedAt: try status?.date("startedAt"), finishedAt: try status?.date("finishedAt"),
                  progress: try status?.string("progress"))
        var nodes = try status?.decodeIfPresent([String: ArgoNode].self, forKey: ArgoKey("nodes")) ?? [:]
        for (key, node) in nodes where node.id.isEmpty { nodes[key]?.id = key }   // the map key is the id
        self.nodes = nodes
        let offloaded = try status?.text("offloadNodeStatusVersion") ?? ""
        let compressed = try status?.string("compressedNodes") ?? ""
        nodesElsewhere = !offloaded.isEmpty || !compressed.isEmpty
    }
}

extension ArgoParameter: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ArgoKey.self)
        self.init(name: try c.decode(String.self, forKey: ArgoKey("name")), value: try c.text("value"))
    }
}

extension ArgoNode: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ArgoKey.self)
        let ref = try c.nested("templateRef")
        self.init(id: try c.string("id") ?? "", name: try c.decode(String.self, forKey: ArgoKey("name")),
                  displayName: try c.string("displayName"), type: try c.decode(String.self, forKey: ArgoKey("type")),
                  templateName: try c.string("templateName"),
                  templateRef: try ref.map { ArgoTemplateRef(name: try $0.string("name"), template: try $0.string("template"),
                                                             clusterScope: try $0.decodeIfPresent(Bool.self, forKey: ArgoKey("clusterScope")) ?? false) },
                  phase: try c.string("phase") ?? "", message: try c.string("message"),
                  startedAt: try c.date("startedAt"), finishedAt: try c.date("finishedAt"),
                  boundaryID: try c.string("boundaryID"),
                  children: try c.decodeIfPresent([String].self, forKey: ArgoKey("children")) ?? [],
                  inputs: try c.parameters("inputs"), exitCodeText: try c.nested("outputs")?.text("exitCode"),
                  hostNodeName: try c.string("hostNodeName"))
    }
}
