import Foundation
import ExptModel

/// The pool a submission goes to, and why (shown by `launch`, kept in the run's record).
public struct OSMOPoolChoice: Sendable, Equatable {
    public var pool: String
    /// One sentence: what matched, how many GPUs are free, and why the others were not taken.
    public var why: String
    /// Enough GPUs are free now. False: the best match was taken anyway and the workflow will
    /// queue (or the pool was set explicitly and its availability is unknown or short).
    public var fits: Bool
    /// GPUs free for the request in that pool, when known.
    public var freeGPUs: Int?
    public var explicit: Bool
}

/// Pool choice (issue 13, "Pool choice"): an explicit pool wins; otherwise the usable pools whose
/// GPUs match `gpu_type`, the one with enough free GPUs and the most headroom.
public enum OSMOPools {
    /// - gpus: GPUs the workflow needs (nil or 0: any pool of the type).
    /// - gpuType: `H100`, `l40s`, `GB200`, `RTX 6000`… matched as a whole token of a platform
    ///   name or description, the pool name or its description (`l40s` is not `L40`, `gb200` is
    ///   not `B200`, as skills/osmo-user/references/resource-check-format.md asks).
    /// - nodes: `osmo resource list` of those pools, when read: free GPUs are then counted on the
    ///   nodes of matching platforms only (a pool may mix GPU types).
    public static func choose(gpus: Int?, gpuType: String?, explicit: String? = nil, pools: [OSMOPool],
                              nodes: [OSMONode] = [], priority: String = "NORMAL") throws -> OSMOPoolChoice {
        let want = max(0, gpus ?? 0)
        let type = gpuType.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        if let explicit = explicit?.trimmingCharacters(in: .whitespaces), !explicit.isEmpty {
            guard pools.isEmpty || pools.contains(where: { $0.name == explicit }) else {
                throw ExptError(.invalidInput, "[osmo] pool '\(explicit)' is not a pool OSMO lists for you",
                                hint: "pools: \(pools.map(\.name).sorted().joined(separator: ", ")) (`osmo pool list`)")
            }
            let available = pools.first { $0.name == explicit }.flatMap {
                Self.free(in: $0, type: type, nodes: nodes, priority: priority)
            }
            let freeText = available.map { ", \($0) GPUs free now" } ?? ""
            return OSMOPoolChoice(pool: explicit, why: "\(explicit): set in expt.toml ([osmo] pool)\(freeText)",
                                  fits: available.map { $0 >= want } ?? false, freeGPUs: available, explicit: true)
        }
        guard !pools.isEmpty else {
            throw ExptError(.external, "`osmo pool list` shows no pool you may submit to",
                            hint: "ask your OSMO administrator for access to a pool, or set [osmo] pool in expt.toml")
        }
        var others: [String] = []
        var candidates: [(pool: OSMOPool, matched: String?, free: Int)] = []
        for pool in pools.sorted(by: { $0.name < $1.name }) {
            guard pool.isUsable else { others.append("\(pool.name) (\(pool.status ?? "unusable"))"); continue }
            var matched: String?
            if let type {
                guard let m = match(type, pool) else { others.append("\(pool.name) (not \(type))"); continue }
                matched = m
            }
            let available = Self.free(in: pool, type: type, nodes: nodes, priority: priority) ?? 0
            candidates.append((pool: pool, matched: matched, free: available))
        }
        guard !candidates.isEmpty else {
            var offered: [String] = []
            for pool in pools.sorted(by: { $0.name < $1.name }) {
                let what = (pool.platforms.keys.sorted() + [pool.description]).filter { !$0.isEmpty }
                offered.append("\(pool.name): " + what.joined(separator: ", "))
            }
            throw ExptError(.invalidInput, type.map { "no usable OSMO pool has \($0) GPUs" } ?? "no OSMO pool is ONLINE",
                            hint: "pools and their platforms: " + offered.joined(separator: "; ")
                                + ". Fix [osmo] gpu_type, or set [osmo] pool")
        }
        // enough free first, then the most free, then the name
        let best = candidates.max { a, b in
            let fa = a.free >= want, fb = b.free >= want
            if fa != fb { return !fa }
            if a.free != b.free { return a.free < b.free }
            return a.pool.name > b.pool.name
        }!
        for c in candidates where c.pool.name != best.pool.name {
            others.append("\(c.pool.name) (\(c.free) free)")
        }
        let fits = best.free >= want
        var why = "\(best.pool.name): \(best.free) GPU\(best.free == 1 ? "" : "s") free"
        if want > 0 { why += fits ? " for the \(want) requested" : ", fewer than the \(want) requested: no pool has enough now, the workflow will queue" }
        if let q = best.pool.quotaFree, let t = best.pool.totalFree, nodes.isEmpty { why += " (quota free \(q), free on nodes \(t))" }
        if let m = best.matched { why += "; \(m) matches \(type ?? "")" }
        if !others.isEmpty { why += ". Not chosen: " + others.prefix(8).joined(separator: ", ") + (others.count > 8 ? ", …" : "") }
        return OSMOPoolChoice(pool: best.pool.name, why: why, fits: fits, freeGPUs: best.free, explicit: false)
    }

    /// What in the pool names the GPU type (`platform x86-h100`, `pool description "H100 east"`),
    /// nil when nothing does.
    public static func match(_ gpuType: String, _ pool: OSMOPool) -> String? {
        for name in pool.platforms.keys.sorted() where names(gpuType, name) { return "platform \(name)" }
        for (name, text) in pool.platforms.sorted(by: { $0.key < $1.key }) where names(gpuType, text) {
            return "platform \(name) (\"\(text)\")"
        }
        if names(gpuType, pool.name) { return "pool name \(pool.name)" }
        if names(gpuType, pool.description) { return "pool description \"\(pool.description)\"" }
        return nil
    }

    /// True when `text` holds the type as a whole token, or as two adjacent tokens
    /// (`rtx-6000` for `RTX 6000`), ignoring case.
    static func names(_ type: String, _ text: String) -> Bool {
        let want = type.lowercased().filter { $0.isLetter || $0.isNumber }
        guard !want.isEmpty else { return false }
        let tokens = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        for (i, t) in tokens.enumerated() {
            if t == want { return true }
            if i + 1 < tokens.count, t + tokens[i + 1] == want { return true }
        }
        return false
    }

    /// Free GPUs in a pool for the type: from the nodes of matching platforms when `nodes`
    /// covers the pool (capped by the quota at HIGH/NORMAL), else the pool's own count.
    static func free(in pool: OSMOPool, type: String?, nodes: [OSMONode], priority: String) -> Int? {
        let onNodes = nodes.filter { $0.availableGPUs[pool.name] != nil }
        guard !onNodes.isEmpty else { return pool.freeGPUs(priority: priority) }
        let wholePool = type.map { names($0, pool.name) || names($0, pool.description) } ?? true
        var sum = 0
        for node in onNodes {
            for (platform, gpus) in node.availableGPUs[pool.name] ?? [:] {
                let description = pool.platforms[platform] ?? ""
                if wholePool || type.map({ names($0, platform) || names($0, description) }) ?? true { sum += max(0, gpus) }
            }
        }
        if priority.uppercased() != "LOW", let q = pool.quotaFree { return min(q, sum) }
        return sum
    }
}
