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
        try withLocalConfig(key) { local in try check(git_config_set_string(local, key, value), "write config", key) }
    }

    /// Removes a key from the repository's own config file; an absent key is not an error.
    public func deleteConfig(_ key: String) throws {
        try withLocalConfig(key) { local in
            let rc = git_config_delete_entry(local, key)
            if rc == GIT_ENOTFOUND.rawValue { git_error_clear(); return }
            try check(rc, "delete config", key)
        }
    }

    /// The repository's own config file (`<common-dir>/config`), open for `body`.
    private func withLocalConfig(_ key: String, _ body: (OpaquePointer?) throws -> Void) throws {
        var cfg: OpaquePointer?
        try check(git_repository_config(&cfg, pointer), "open config", key)
        defer { git_config_free(cfg) }
        var local: OpaquePointer?
        try check(git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL), "open local config", key)
        defer { git_config_free(local) }
        try body(local)
    }
}

extension Repository {
    /// Every config entry whose name matches `regex` (POSIX, as `git config --get-regexp`),
    /// from one snapshot: reading many keys one by one would snapshot the config each time.
    public func configEntries(matching regex: String) throws -> [(name: String, value: String)] {
        var cfg: OpaquePointer?
        try check(git_repository_config_snapshot(&cfg, pointer), "read config", regex)
        defer { git_config_free(cfg) }
        var iter: OpaquePointer?
        try check(git_config_iterator_glob_new(&iter, cfg, regex), "read config", regex)
        defer { git_config_iterator_free(iter) }
        var out: [(String, String)] = []
        var entry: UnsafeMutablePointer<git_config_entry>?
        while true {
            let rc = git_config_next(&entry, iter)
            if rc == GIT_ITEROVER.rawValue { git_error_clear(); break }
            try check(rc, "read config", regex)
            if let e = entry?.pointee, let n = e.name, let v = e.value { out.append((String(cString: n), String(cString: v))) }
        }
        return out
    }
}
