import CLibGit2
import Foundation

/// Where push credentials come from: ssh-agent for ssh remotes, a token (e.g. `gh auth token`)
/// for https ones. The token is asked for lazily, only if the remote wants one.
public struct PushCredentials {
    public var httpsToken: () -> String?
    public init(httpsToken: @escaping () -> String? = { nil }) { self.httpsToken = httpsToken }
}

/// State shared with libgit2's C callbacks through their payload pointer.
private final class PushContext {
    let credentials: PushCredentials
    var attempts = 0
    var rejected: [(ref: String, reason: String)] = []
    init(_ c: PushCredentials) { credentials = c }
}

extension Repository {
    /// The URL of a remote as configured (`remote.<name>.url`), nil when there is no such
    /// remote. Read raw: libgit2 hands back the URL after `url.*.insteadOf` rewriting, which
    /// would hide the GitHub repository a remote names.
    public func remoteURL(_ name: String = "origin") throws -> String? {
        try configString("remote.\(name).url")
    }

    /// Pushes `refs/heads/<branch>` to the same name on `remote`. A non-fast-forward is refused
    /// (libgit2 checks client-side; history is never rewritten, so expt never forces).
    /// Credentials are tried once each: a wrong token fails instead of looping.
    public func push(branch: String, remote name: String = "origin", credentials: PushCredentials = PushCredentials()) throws {
        var remote: OpaquePointer?
        // libgit2 1.5 pushes to the (insteadOf-rewritten) url even when remote.<name>.pushurl is
        // set; git pushes to pushurl. Honour it with an anonymous remote on that URL.
        if let pushURL = try configString("remote.\(name).pushurl") {
            try check(git_remote_create_anonymous(&remote, pointer, pushURL), "use push URL of remote", name)
        } else {
            try check(git_remote_lookup(&remote, pointer, name), "look up remote", name)
        }
        defer { git_remote_free(remote) }
        var opts = git_push_options()
        try check(git_push_options_init(&opts, UInt32(GIT_PUSH_OPTIONS_VERSION)), "push", branch)
        let context = PushContext(credentials)
        let payload = Unmanaged.passRetained(context)
        defer { payload.release() }
        opts.callbacks.payload = payload.toOpaque()
        opts.callbacks.credentials = { out, url, usernameFromURL, allowed, payload in
            guard let payload else { return GIT_PASSTHROUGH.rawValue }
            let ctx = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
            ctx.attempts += 1
            if ctx.attempts > 2 { return GIT_EAUTH.rawValue }
            let user = usernameFromURL.map { String(cString: $0) } ?? "git"
            if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
                return git_credential_ssh_key_from_agent(out, user)
            }
            if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0, let token = ctx.credentials.httpsToken() {
                return git_credential_userpass_plaintext_new(out, "x-access-token", token)
            }
            return GIT_PASSTHROUGH.rawValue
        }
        opts.callbacks.push_update_reference = { refname, status, payload in
            if let status, let payload {
                let ctx = Unmanaged<PushContext>.fromOpaque(payload).takeUnretainedValue()
                ctx.rejected.append((refname.map { String(cString: $0) } ?? "?", String(cString: status)))
            }
            return 0
        }
        // The CA bundle whose parse libgit2's initialisation deferred (DeferredCertificates).
        DeferredCertificates.loadPending()
        let refspec = "refs/heads/\(branch):refs/heads/\(branch)"
        try refspec.withCString { spec in
            var strings: [UnsafeMutablePointer<CChar>?] = [UnsafeMutablePointer(mutating: spec)]
            try strings.withUnsafeMutableBufferPointer { buf in
                var arr = git_strarray(strings: buf.baseAddress, count: 1)
                try check(git_remote_push(remote, &arr, &opts), "push \(branch) to", name)
            }
        }
        if let r = context.rejected.first {
            throw GitError(operation: "push \(branch) to", subject: name, code: -1, message: "the remote rejected \(r.ref): \(r.reason)")
        }
    }
}
