import CLibGit2

extension Repository {
    /// Reads a config value as git resolves it (local, global, system), nil when unset.
    /// From the repository's live config (libgit2 re-reads a file whose stamp changed), not a
    /// snapshot: each snapshot copies every entry, a tenth of `expt list` with 500
    /// experiments' `branch.<name>.exptbase` entries.
    public func configString(_ key: String) throws -> String? {
        try withConfig(key) { cfg in
            var buf = git_buf()
            defer { git_buf_dispose(&buf) }
            let rc = git_config_get_string_buf(&buf, cfg, key)
            if rc == GIT_ENOTFOUND.rawValue { git_error_clear(); return nil }
            try check(rc, "read config", key)
            return buf.ptr.map { String(cString: $0) } ?? ""
        }
    }

    /// The repository's config (every level), for `body`.
    private func withConfig<T>(_ key: String, _ body: (OpaquePointer?) throws -> T) throws -> T {
        var cfg: OpaquePointer?
        try check(git_repository_config(&cfg, pointer), "read config", key)
        defer { git_config_free(cfg) }
        return try body(cfg)
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
    /// The values of `<section>.<subsection>.<key>` for every subsection, as
    /// `git config --get-regexp '^section\..*\.key$'` lists them (`section` and `key` in lower
    /// case, as git normalises them). Names are compared as bytes before any becomes a String:
    /// a regex over 1,500 entries was a tenth of `expt list`.
    public func configSubsections(section: String, key: String) throws -> [(subsection: String, value: String)] {
        let prefix = Array((section + ".").utf8), suffix = Array(("." + key).utf8)
        return try withConfig(section + ".*." + key) { cfg in
            var iter: OpaquePointer?
            try check(git_config_iterator_new(&iter, cfg), "read config", section + ".*." + key)
            defer { git_config_iterator_free(iter) }
            var out: [(String, String)] = []
            var entry: UnsafeMutablePointer<git_config_entry>?
            while true {
                let rc = git_config_next(&entry, iter)
                if rc == GIT_ITEROVER.rawValue { git_error_clear(); break }
                try check(rc, "read config", section + ".*." + key)
                guard let e = entry?.pointee, let n = e.name, let v = e.value else { continue }
                let name = UnsafeBufferPointer(start: UnsafeRawPointer(n).assumingMemoryBound(to: UInt8.self), count: strlen(n))
                guard name.count >= prefix.count + suffix.count, name.starts(with: prefix),
                      name.suffix(suffix.count).elementsEqual(suffix) else { continue }
                out.append((String(decoding: name[prefix.count..<(name.count - suffix.count)], as: UTF8.self), String(cString: v)))
            }
            return out
        }
    }
}
