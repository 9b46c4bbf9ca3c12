import Foundation
import ExptModel

/// One pool of `osmo pool list --format-type json`: the service's `PoolResponse`
/// (`{"node_sets": [{"pools": [PoolResourceUsage…]}], "resource_sum": …}`,
/// src/service/core/workflow/objects.py; computed in workflow_service.py `calculate_pool_quotas`).
/// Pools of one node set share nodes, so their `totalFree` is the same GPUs counted once.
public struct OSMOPool: Sendable, Equatable {
    public var name: String
    public var description: String
    /// ONLINE, OFFLINE, MAINTENANCE (src/utils/connectors/postgres.py `PoolStatus`); may be null.
    public var status: String?
    public var backend: String?
    public var defaultPlatform: String?
    /// Platform name → description (`x86-h100` → `H100 80GB`).
    public var platforms: [String: String]
    /// GPUs for HIGH/NORMAL priority: limit (the guarantee), used, free (may be negative).
    public var quotaLimit: Int?
    public var quotaUsed: Int?
    public var quotaFree: Int?
    /// GPUs on the pool's nodes: capacity, used by every workflow, free.
    public var totalCapacity: Int?
    public var totalUsage: Int?
    public var totalFree: Int?
    /// Which node set it is in (its index in `node_sets`).
    public var nodeSet: Int

    public init(name: String, description: String = "", status: String? = "ONLINE", backend: String? = nil,
                defaultPlatform: String? = nil, platforms: [String: String] = [:], quotaLimit: Int? = nil,
                quotaUsed: Int? = nil, quotaFree: Int? = nil, totalCapacity: Int? = nil, totalUsage: Int? = nil,
                totalFree: Int? = nil, nodeSet: Int = 0) {
        self.name = name; self.description = description; self.status = status; self.backend = backend
        self.defaultPlatform = defaultPlatform; self.platforms = platforms; self.quotaLimit = quotaLimit
        self.quotaUsed = quotaUsed; self.quotaFree = quotaFree; self.totalCapacity = totalCapacity
        self.totalUsage = totalUsage; self.totalFree = totalFree; self.nodeSet = nodeSet
    }

    public var isUsable: Bool { status == nil || status == "ONLINE" }

    /// GPUs a workflow can get now: `min(quota free, free on nodes)` at HIGH/NORMAL priority (the
    /// vendor's rule, skills/osmo-user/references/resource-check-format.md); LOW priority is not
    /// bound by the quota (it may be preempted).
    public func freeGPUs(priority: String = "NORMAL") -> Int? {
        if priority.uppercased() == "LOW" { return totalFree ?? quotaFree }
        switch (quotaFree, totalFree) {
        case let (q?, t?): return min(q, t)
        case let (q, t): return q ?? t
        }
    }
}

/// One node of `osmo resource list --pool P… --format-type json` (`{"resources": [ResourcesEntry…]}`,
/// src/utils/job/workflow.py `ResourcesEntry`; the CLI lists the default pool's nodes unless
/// `--pool` or `--all` is given, src/cli/resources.py).
public struct OSMONode: Sendable, Equatable {
    public var hostname: String
    public var backend: String?
    /// pool → platforms this node serves (`pool_platform_labels`, else `exposed_fields["pool/platform"]`).
    public var poolPlatforms: [String: [String]]
    /// pool → platform → GPUs free for workflows (`platform_available_fields[pool][platform].gpu`).
    public var availableGPUs: [String: [String: Int]]
    /// pool → platform → GPUs of the node (`platform_allocatable_fields`).
    public var allocatableGPUs: [String: [String: Int]]
    /// SHARED, RESERVED, UNUSED.
    public var resourceType: String?

    public init(hostname: String, backend: String? = nil, poolPlatforms: [String: [String]] = [:],
                availableGPUs: [String: [String: Int]] = [:], allocatableGPUs: [String: [String: Int]] = [:],
                resourceType: String? = nil) {
        self.hostname = hostname; self.backend = backend; self.poolPlatforms = poolPlatforms
        self.availableGPUs = availableGPUs; self.allocatableGPUs = allocatableGPUs; self.resourceType = resourceType
    }
}

extension OSMOJSON {
    /// `osmo pool list [--pool P…] --format-type json`, every pool of every node set.
    public static func pools(_ output: String, command: String) throws -> [OSMOPool] {
        try decode(PoolBody.self, output, command: command).pools
    }

    /// `osmo resource list --pool P… --format-type json`.
    public static func nodes(_ output: String, command: String) throws -> [OSMONode] {
        try decode(ResourceBody.self, output, command: command).nodes
    }

    struct PoolBody: Decodable {
        var pools: [OSMOPool] = []
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: OSMOKey.self)
            var sets = try c.nestedUnkeyedContainer(forKey: OSMOKey("node_sets"))
            var index = 0
            while !sets.isAtEnd {
                let set = try sets.nestedContainer(keyedBy: OSMOKey.self)
                if try set.has("pools") {
                    var list = try set.nestedUnkeyedContainer(forKey: OSMOKey("pools"))
                    while !list.isAtEnd {
                        var pool = try list.decode(OSMOPool.self)
                        pool.nodeSet = index
                        pools.append(pool)
                    }
                }
                index += 1
            }
        }
    }

    struct ResourceBody: Decodable {
        var nodes: [OSMONode]
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: OSMOKey.self)
            nodes = try c.decodeIfPresent([OSMONode].self, forKey: OSMOKey("resources")) ?? []
        }
    }
}

extension OSMOPool: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: OSMOKey.self)
        var platforms: [String: String] = [:]
        if let p = try c.nested("platforms") {
            for key in p.keys { platforms[key] = (try? p.nested(key)?.text("description")) ?? "" }
        }
        let usage = try c.nested("resource_usage")
        self.init(name: try c.required("name"), description: try c.text("description") ?? "", status: try c.string("status"),
                  backend: try c.text("backend"), defaultPlatform: try c.text("default_platform"), platforms: platforms,
                  quotaLimit: try usage?.int("quota_limit"), quotaUsed: try usage?.int("quota_used"),
                  quotaFree: try usage?.int("quota_free"), totalCapacity: try usage?.int("total_capacity"),
                  totalUsage: try usage?.int("total_usage"), totalFree: try usage?.int("total_free"))
    }
}

extension OSMONode: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: OSMOKey.self)
        var poolPlatforms: [String: [String]] =
            (try? c.decodeIfPresent([String: [String]].self, forKey: OSMOKey("pool_platform_labels"))) ?? [:]
        if poolPlatforms.isEmpty, let exposed = try c.nested("exposed_fields") {
            for pair in (try? exposed.strings("pool/platform")) ?? [] {
                let parts = pair.split(separator: "/", maxSplits: 1).map(String.init)
                if parts.count == 2 { poolPlatforms[parts[0], default: []].append(parts[1]) }
            }
        }
        func gpus(_ key: String) throws -> [String: [String: Int]] {
            guard let byPool = try c.nested(key) else { return [:] }
            var out: [String: [String: Int]] = [:]
            for pool in byPool.keys {
                guard let byPlatform = try byPool.nested(pool) else { continue }
                for platform in byPlatform.keys {
                    out[pool, default: [:]][platform] = try byPlatform.nested(platform)?.int("gpu") ?? 0
                }
            }
            return out
        }
        self.init(hostname: try c.required("hostname"), backend: try c.text("backend"), poolPlatforms: poolPlatforms,
                  availableGPUs: try gpus("platform_available_fields"), allocatableGPUs: try gpus("platform_allocatable_fields"),
                  resourceType: try c.text("resource_type"))
    }
}
