import CLibGit2

extension Repository {
    /// Reads a config value as git resolves it (local, global, system), nil when unset.
    public func configString(_ key: String) throws -> String? {
        var cfg: OpaquePointer?
        try check(git_repository_config_snapshot(&cfg, pointer), "read config", key)
        defer { git_config_free(cfg) }
        var value: UnsafePointer<CChar>?
        let rc = git_config_get_string(&value, cfg, key)
        if rc == GIT_ENOTFOUND.rawValue { git_error_clear(); return nil }
        try check(rc, "read config", key)
        return value.map { String(cString: $0) }
    }

    /// Writes a value into the repository's own config file (`<common-dir>/config`).
    public func setConfigString(_ key: String, _ value: String) throws {
        var cfg: OpaquePointer?
        try check(git_repository_config(&cfg, pointer), "open config", key)
        defer { git_config_free(cfg) }
        var local: OpaquePointer?
        try check(git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL), "open local config", key)
        defer { git_config_free(local) }
        try check(git_config_set_string(local, key, value), "write config", key)
    }
}
