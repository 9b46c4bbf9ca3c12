import Foundation
import ExptModel

/// kubectl's failures in words that say what to do. The texts are real kubectl 1.32.4 output
/// (Tests/ExptBackendsTests/Fixtures/kubernetes/SOURCES.md): a missing kubeconfig or current
/// context falls back to localhost:8080; `Error in configuration: … context was not found`;
/// `Error from server (Forbidden|NotFound): [error when creating "STDIN": ]…`; `The Job "…" is
/// invalid: …`. Note that a refused list still prints an empty List on stdout: check first.
public enum KubeCLI {
    /// `r` when kubectl succeeded, else the error. `namespace` names where it ran.
    public static func check(_ r: ProcessResult, _ argv: [String], namespace: String?, hint: String? = nil) throws -> ProcessResult {
        guard r.status != 0 else { return r }
        // client-go's E-lines repeat the dial error; WSL prints an fstab warning on every start
        let lines = r.stderr.split(separator: "\n").filter { !($0.contains("wsl:") && $0.contains("fstab")) }
        let meaningful = lines.filter { !$0.hasPrefix("E") || !$0.contains("memcache.go") }
        let stderr = (meaningful.isEmpty ? lines : meaningful).suffix(6).joined(separator: "\n")
        let command = "`\(ShellQuote.join(argv))`"
        let ns = namespace ?? "?"
        if r.status == 127 {
            throw ExptError(.external, "kubectl is not installed or not on PATH where \(command) ran",
                            hint: "install kubectl there, or set [kubernetes] exec_prefix to reach a host that has it")
        }
        if stderr.contains("localhost:8080 was refused") || stderr.contains("no configuration has been provided") {
            throw ExptError(.external, "kubectl has no cluster to talk to (no kubeconfig, or one without a current context): \(stderr)",
                            hint: "set KUBECONFIG: [kubernetes] env = { KUBECONFIG = \"/path/to/kubeconfig\" }; check it with `kubectl config current-context`")
        }
        if stderr.contains("Error in configuration") || stderr.contains("context was not found") || stderr.contains("does not exist") && stderr.contains("context") {
            throw ExptError(.external, "the kubeconfig is not usable: \(stderr)",
                            hint: "`kubectl config get-contexts` lists its contexts; `kubectl config use-context NAME` picks one")
        }
        if stderr.contains("You must be logged in to the server") || stderr.contains("Unauthorized") {
            throw ExptError(.external, "the cluster did not accept your credentials (\(command)): \(stderr)",
                            hint: "log in again (refresh the kubeconfig's token)")
        }
        if stderr.contains("Unable to connect to the server") || stderr.contains("was refused") || stderr.contains("connection refused")
            || stderr.contains("i/o timeout") || stderr.contains("no such host") {
            throw ExptError(.external, "the cluster cannot be reached (\(command)): \(stderr)", hint: "check the VPN or network, and the kubeconfig's server")
        }
        if stderr.contains("(Forbidden)") || stderr.contains("is forbidden") {
            throw ExptError(.external, "the cluster refused \(command): \(stderr)",
                            hint: hint ?? "your account lacks permission in namespace \(ns): `kubectl auth can-i create jobs -n \(ns)`")
        }
        if stderr.contains("namespaces \"") && stderr.contains("not found") || stderr.contains("does not match the namespace") {
            throw ExptError(.notFound, "the namespace \(ns) is not there (\(command)): \(stderr)",
                            hint: "`kubectl get namespaces` lists them; set [kubernetes] namespace")
        }
        if stderr.contains("is invalid") {
            throw ExptError(.invalidInput, "the cluster rejected the Job (\(command)): \(stderr)", hint: hint)
        }
        if stderr.contains("(NotFound)") || stderr.contains("not found") {
            throw ExptError(.notFound, "\(command) found nothing: \(stderr)", hint: hint)
        }
        throw ExptError(.external, "\(command) failed (exit \(r.status)): \(stderr)", hint: hint)
    }

    /// The Job name `kubectl create -o name` printed (`job.batch/NAME`), skipping WSL's lines.
    public static func createdName(_ stdout: String) -> String? {
        let line = stdout.split(separator: "\n").last { !$0.hasPrefix("wsl:") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let line, let name = line.trimmingCharacters(in: .whitespaces).split(separator: "/").last, !name.isEmpty else { return nil }
        return String(name)
    }
}
