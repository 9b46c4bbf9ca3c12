import XCTest
import ExptModel
@testable import ExptBackends

/// The project's Argo captures (Fixtures/argo, see SOURCES.md there), and the shared real
/// captures next to the checkout when this machine has them.
enum ArgoFixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/argo")
    static func text(_ name: String) throws -> String {
        try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
    }
    static func workflow(_ name: String) throws -> ArgoWorkflow {
        try ArgoJSON.workflow(text(name), command: "argo get \(name)")
    }
    /// `<checkout>/../shared/fixtures/argo`.
    static var shared: URL? {
        let url = dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/argo")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}

final class ArgoJSONTests: XCTestCase {
    // MARK: real captures

    func testOOMKilledCapture() throws {
        let wf = try ArgoFixtures.workflow("dls-get-workflow-qhb59-failed.json")
        XCTAssertEqual(wf.name, "numpy-benchmark-qhb59")
        XCTAssertEqual(wf.namespace, "mg36964-1")
        XCTAssertEqual(wf.generateName, "numpy-benchmark-")
        XCTAssertEqual(wf.annotations[ArgoNames.podNameFormatAnnotation], "v2")
        XCTAssertEqual(wf.labels["workflows.argoproj.io/resubmitted-from-workflow"], "numpy-benchmark-vmh8q")
        XCTAssertEqual(wf.createdAt, Date(timeIntervalSince1970: 1_727_867_477))
        XCTAssertEqual(wf.parameters, [ArgoParameter(name: "size", value: "50000"), ArgoParameter(name: "memory", value: "20Gi")])
        XCTAssertEqual(wf.parameter("memory"), "20Gi")
        XCTAssertEqual(wf.workflowTemplate, "numpy-benchmark")
        XCTAssertEqual(wf.entrypoint, "numpy-test")
        XCTAssertEqual(wf.phase, "Failed")
        XCTAssertTrue(wf.isCompleted)
        XCTAssertEqual(wf.message, "OOMKilled (exit code 137)")
        XCTAssertEqual(wf.finishedAt, Date(timeIntervalSince1970: 1_727_867_552))
        XCTAssertEqual(ArgoProgress(wf.progress), ArgoProgress(done: 0, total: 1))
        XCTAssertFalse(wf.nodesElsewhere)
        let node = try XCTUnwrap(wf.nodes["numpy-benchmark-qhb59"])
        XCTAssertEqual(node.type, "Pod")
        XCTAssertEqual(node.templateName, "numpy-test")
        XCTAssertNil(node.templateRef)
        XCTAssertEqual(node.exitCodeText, "137")
        XCTAssertEqual(node.exitCode, 137)
        XCTAssertEqual(node.input("memory"), "20Gi")
        XCTAssertEqual(node.hostNodeName, "cs05r-sc-cloud-19.diamond.ac.uk")
        XCTAssertEqual(ArgoPhase.jobState(phase: node.phase, message: node.message), .oom)
        // a workflow whose only node is the workflow: the pod is named like it (v2)
        XCTAssertEqual(ArgoNames.podName(workflow: wf, node: node), "numpy-benchmark-qhb59")
    }

    func testErrorRunningAndSucceededCaptures() throws {
        let errored = try ArgoFixtures.workflow("dls-get-workflow-jwcfp-errored.json")
        XCTAssertEqual(errored.phase, "Error")
        XCTAssertEqual(errored.message, "error in entry template execution: Error applying PodSpecPatch")
        XCTAssertEqual(ArgoPhase.jobState(phase: errored.phase, message: errored.message), .failed)
        XCTAssertEqual(errored.nodes.values.first?.message, "Error applying PodSpecPatch")

        let running = try ArgoFixtures.workflow("dls-get-workflow-kc7pf-running.json")
        XCTAssertEqual(running.phase, "Running")
        XCTAssertNil(running.finishedAt)                     // printed as null
        XCTAssertEqual(running.nodes.values.first?.phase, "Running")
        XCTAssertNil(running.nodes.values.first?.finishedAt)
        XCTAssertEqual(ArgoPhase.jobState(phase: running.phase), .running)

        let done = try ArgoFixtures.workflow("dls-get-workflow-wdkwj.json")
        XCTAssertEqual(done.phase, "Succeeded")
        XCTAssertEqual(done.nodes.values.first?.exitCode, 0)
        XCTAssertEqual(ArgoPhase.jobState(phase: done.phase), .succeeded)
    }

    func testListIsABareArray() throws {
        let list = try ArgoJSON.workflows(ArgoFixtures.text("argo-list.dls.json"), command: "argo list -o json")
        XCTAssertEqual(list.map(\.name), ["numpy-benchmark-wdkwj", "numpy-benchmark-n6jsg"])
        XCTAssertEqual(list.map(\.phase), ["Succeeded", "Succeeded"])
        XCTAssertEqual(list[0].progress, "1/1")
        XCTAssertEqual(list[0].parameters, [])               // "arguments": {}
        XCTAssertTrue(list[0].nodes.isEmpty)
        XCTAssertEqual(try ArgoJSON.workflows("[]\n", command: "argo list"), [])
        // the Argo Server's REST body, as the shared capture has it
        let body = #"{"metadata": {"continue": "2"}, "items": [{"metadata": {"name": "a"}}]}"#
        XCTAssertEqual(try ArgoJSON.workflows(body, command: "argo list").map(\.name), ["a"])
        XCTAssertEqual(try ArgoJSON.workflows(#"{"metadata": {}, "items": null}"#, command: "argo list"), [])
        // WSL's warning before the JSON is skipped (also with Windows line ends)
        let wsl = "wsl: Processing /etc/fstab with mount -a failed.\r\n\n[{\"metadata\": {\"name\": \"b\"}}]"
        XCTAssertEqual(try ArgoJSON.workflows(wsl, command: "argo list").map(\.name), ["b"])
    }

    func testRetryAndOmittedShapesFromArgoTestdata() throws {
        let dag = try ArgoFixtures.workflow("argotest-dag-disable-fail-fast.json")
        let c = try XCTUnwrap(ArgoItems.step(of: dag, named: "C"))
        XCTAssertEqual(c.owner?.type, "Retry")
        XCTAssertEqual(c.attempts, 2)
        XCTAssertEqual(c.pod?.displayName, "C(1)")
        XCTAssertEqual(c.phase, "Failed")
        XCTAssertEqual(c.message, "failed with exit code 2")  // the pod's, not "No more retries left"
        XCTAssertEqual(c.state, .failed)
        XCTAssertFalse(c.retrying)
        XCTAssertEqual(c.podName, "dag-disable-fail-fast-r6xdc-c-3457680277")
        XCTAssertEqual(dag.nodes["dag-disable-fail-fast-r6xdc-4286504589"]?.children, ["dag-disable-fail-fast-r6xdc-3978769156"])

        let steps = try ArgoFixtures.workflow("argotest-steps-failed-retries.json")
        let delayed = try XCTUnwrap(ArgoItems.step(of: steps, named: "delayed-fail"))
        XCTAssertEqual(delayed.phase, "Running")            // the Retry node will try again
        XCTAssertTrue(delayed.retrying)
        XCTAssertEqual(delayed.state, .running)
        XCTAssertNil(delayed.finishedAt)
        XCTAssertEqual(steps.nodes["failed-retries-tjjsc-2095973878"]?.displayName, "[0]")

        let omitted = try ArgoFixtures.workflow("argotest-dag-exhausted-retries-xfail.json")
        let s2 = try XCTUnwrap(ArgoItems.step(of: omitted, named: "success2"))
        XCTAssertNil(s2.pod)
        XCTAssertNil(s2.podName)
        XCTAssertEqual(s2.owner?.type, "Skipped")
        XCTAssertEqual(s2.phase, "Omitted")
        XCTAssertEqual(s2.message, "omitted: depends condition not met")
        XCTAssertEqual(s2.state, .cancelled)
        XCTAssertEqual(omitted.nodes["retry-with-dags-731586981"]?.exitCode, 0)
    }

    // MARK: names

    func testNodeIDsAndPodNamesAgreeWithEveryCapturedNode() throws {
        let files = ["argotest-dag-disable-fail-fast.json", "argotest-steps-failed-retries.json",
                     "argotest-dag-exhausted-retries-xfail.json", "dls-get-workflow-qhb59-failed.json",
                     "gwas-186-items.json", "gwas-retry-4-items-succeeded.json"]
        var checked = 0
        for file in files {
            let wf = try ArgoFixtures.workflow(file)
            for (key, node) in wf.nodes {
                XCTAssertEqual(key, node.id, file)
                XCTAssertEqual(ArgoNames.nodeID(workflow: wf.name, nodeName: node.name), node.id, "\(file): \(node.name)")
                guard node.isPod, node.name != wf.name else { continue }
                // v2: the hash suffix of the pod name is the node id's suffix
                let v2 = ArgoNames.podName(workflow: wf, node: node, version: .v2)
                let suffix = String(node.id.dropFirst(wf.name.count))
                XCTAssertTrue(v2.hasSuffix(suffix), "\(file): \(v2) vs \(node.id)")
                XCTAssertEqual(v2, wf.name + (node.podTemplate.isEmpty ? "" : "-" + node.podTemplate) + suffix)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 200)
    }

    func testPodNameSchemes() throws {
        let gwas = try ArgoFixtures.workflow("gwas-186-items.json")
        let node = try XCTUnwrap(gwas.nodes["gapit3-gwas-parallel-h5nzl-357869516"])
        XCTAssertEqual(node.displayName, "run-all-traits(3:5)(3)")
        XCTAssertEqual(node.podTemplate, "run-gwas")                 // templateRef.template wins over templateName
        XCTAssertEqual(ArgoNames.podName(workflow: gwas, node: node), "gapit3-gwas-parallel-h5nzl-run-gwas-357869516")
        // the annotation wins over the caller's fallback
        XCTAssertEqual(ArgoNames.podName(workflow: gwas, node: node, version: .v1), "gapit3-gwas-parallel-h5nzl-run-gwas-357869516")
        var v1 = gwas
        v1.annotations[ArgoNames.podNameFormatAnnotation] = "v1"
        XCTAssertEqual(ArgoNames.podName(workflow: v1, node: node), "gapit3-gwas-parallel-h5nzl-357869516")
        v1.annotations[ArgoNames.podNameFormatAnnotation] = "v9"                  // unknown: Argo's default
        XCTAssertEqual(ArgoNames.podNameVersion(of: v1, fallback: .v1), .v2)
        v1.annotations = [:]                                                       // none: the controller's POD_NAMES
        XCTAssertEqual(ArgoNames.podName(workflow: v1, node: node, version: .v1), "gapit3-gwas-parallel-h5nzl-357869516")
        XCTAssertEqual(ArgoNames.podName(workflow: v1, node: node, version: .v2), "gapit3-gwas-parallel-h5nzl-run-gwas-357869516")
        // the prefix is cut at 242 bytes before the hash
        let long = String(repeating: "w", count: 250)
        let name = ArgoNames.podName(workflowName: long, nodeName: "n", template: "tmpl", nodeID: "x", version: .v2)
        XCTAssertEqual(name, String(repeating: "w", count: 242) + "-3943445553")
        XCTAssertEqual(ArgoNames.podName(workflowName: "wf", nodeName: "wf.a", template: "", nodeID: "x", version: .v2),
                       "wf-\(ArgoNames.fnv32a("wf.a"))")
        XCTAssertEqual(ArgoNames.fnv32a(""), 2_166_136_261)
        XCTAssertEqual(ArgoNames.fnv32a("dag-disable-fail-fast-r6xdc.C(0)"), 3_256_495_944)
    }

    func testDisplayNames() {
        func parts(_ s: String) -> [String] {
            let d = ArgoDisplayName(s)
            return [d.base, d.position.map(String.init) ?? "-", d.item ?? "-", d.attempts.map(String.init).joined(separator: ",")]
        }
        XCTAssertEqual(parts("run-all-traits(3:5)"), ["run-all-traits", "3", "5", ""])
        XCTAssertEqual(parts("run-all-traits(3:5)(1)"), ["run-all-traits", "3", "5", "1"])
        XCTAssertEqual(parts("retry-trait-5(0)"), ["retry-trait-5", "-", "-", "0"])
        XCTAssertEqual(parts("retry-trait-5"), ["retry-trait-5", "-", "-", ""])
        XCTAssertEqual(parts("C(1)"), ["C", "-", "-", "1"])
        XCTAssertEqual(parts("x(1)(2)"), ["x", "-", "-", "1,2"])
        XCTAssertEqual(parts("[0]"), ["[0]", "-", "-", ""])
        XCTAssertEqual(parts("task(0:group:dev,name:jesse)"), ["task", "0", "group:dev,name:jesse", ""])
        XCTAssertEqual(parts("task(12:)"), ["task", "12", "", ""])
        XCTAssertEqual(parts("odd(a:b)"), ["odd(a:b)", "-", "-", ""])
    }

    func testItemIndex() {
        func node(_ display: String, inputs: [ArgoParameter] = []) -> ArgoNode {
            ArgoNode(id: "x", name: "wf." + display, displayName: display, type: "Pod", inputs: inputs)
        }
        XCTAssertEqual(ArgoNames.itemIndex(of: node("run-all-traits(3:5)")), 5)       // the item, not the position
        XCTAssertEqual(ArgoNames.itemIndex(of: node("run-all-traits(3:5)(2)")), 5)
        XCTAssertEqual(ArgoNames.itemIndex(of: node("retry-trait-5")), 5)
        XCTAssertEqual(ArgoNames.itemIndex(of: node("retry-trait-28(0)")), 28)
        XCTAssertNil(ArgoNames.itemIndex(of: node("collect-results")))
        XCTAssertNil(ArgoNames.itemIndex(of: node("validate-inputs")))
        XCTAssertNil(ArgoNames.itemIndex(of: node("C(0)")))
        XCTAssertNil(ArgoNames.itemIndex(of: node("task(0:sample-a)")))
        XCTAssertNil(ArgoNames.itemIndex(of: node("run-all-traits")))
        let both = node("run-all-traits(3:5)", inputs: [ArgoParameter(name: "trait-index", value: "7")])
        XCTAssertEqual(ArgoNames.itemIndex(of: both, itemInput: "trait-index"), 7)     // the input wins
        XCTAssertEqual(ArgoNames.itemIndex(of: both), 5)
        let unset = node("run-all-traits(3:5)", inputs: [ArgoParameter(name: "trait-index", value: "{{item}}")])
        XCTAssertEqual(ArgoNames.itemIndex(of: unset, itemInput: "trait-index"), 5)
        XCTAssertEqual(ArgoNames.itemIndex(of: node("job", inputs: [ArgoParameter(name: "i", value: "3")]), itemInput: "i"), 3)
    }

    // MARK: items

    func testItemsOfTheGWASFanOut() throws {
        let wf = try ArgoFixtures.workflow("gwas-186-items.json")
        XCTAssertEqual(wf.nodes.count, 393)
        XCTAssertEqual(ArgoProgress(wf.progress), ArgoProgress(done: 184, total: 205))  // attempts, not items
        let items = ArgoItems.items(of: wf)
        XCTAssertEqual(items.map(\.index), Array(2...187))
        XCTAssertEqual(ArgoItems.items(of: wf, itemInput: "trait-index").map(\.index), Array(2...187))
        var states: [JobState: [Int]] = [:]
        for item in items { states[item.state, default: []].append(item.index) }
        XCTAssertEqual(states[.oom], [5, 28, 29])
        XCTAssertEqual(states[.pending], [30])
        XCTAssertEqual(states[.succeeded]?.count, 182)

        let oom = try XCTUnwrap(items.first { $0.index == 5 })
        XCTAssertEqual(oom.attempts, 4)
        XCTAssertEqual(oom.pod?.displayName, "run-all-traits(3:5)(3)")
        XCTAssertEqual(oom.podName, "gapit3-gwas-parallel-h5nzl-run-gwas-357869516")
        XCTAssertEqual(oom.phase, "Failed")
        XCTAssertEqual(oom.message, "main: OOMKilled (exit code 137)")
        XCTAssertEqual(oom.exitCode, 137)
        XCTAssertEqual(oom.owner?.message, "No more retries left")
        XCTAssertEqual(oom.taskStatus, TaskStatus(index: 5, state: .oom, rawState: "Failed", exitCode: 137,
                                                  message: "main: OOMKilled (exit code 137)"))

        let stuck = try XCTUnwrap(items.first { $0.index == 30 })
        XCTAssertEqual(stuck.phase, "Pending")                 // the live attempt, not its Running Retry node
        XCTAssertEqual(stuck.owner?.phase, "Running")
        XCTAssertEqual(stuck.message, "PodInitializing")
        XCTAssertEqual(stuck.startedAt, Date(timeIntervalSince1970: 1_767_626_283))
        XCTAssertNil(stuck.finishedAt)
        XCTAssertEqual(stuck.podName, "gapit3-gwas-parallel-h5nzl-run-gwas-3733273548")

        let flaky = try XCTUnwrap(items.first { $0.index == 12 })
        XCTAssertEqual(flaky.attempts, 2)
        XCTAssertEqual(flaky.state, .succeeded)
        XCTAssertNil(flaky.message)
        XCTAssertNil(ArgoItems.step(of: wf, named: "collect-results"))        // not created yet
        XCTAssertEqual(ArgoItems.step(of: wf, named: "validate-inputs")?.state, .succeeded)
    }

    func testItemsOfARetryWorkflowWithAggregation() throws {
        let running = try ArgoFixtures.workflow("gwas-retry-4-items-running.json")
        XCTAssertEqual(ArgoItems.items(of: running).map(\.index), [5, 28, 29, 30])
        XCTAssertEqual(Set(ArgoItems.items(of: running).map { $0.state }), [.running])
        let done = try ArgoFixtures.workflow("gwas-retry-4-items-succeeded.json")
        let items = ArgoItems.items(of: done, itemInput: "trait-index")
        XCTAssertEqual(items.map(\.index), [5, 28, 29, 30])
        XCTAssertEqual(items.map { $0.pod?.displayName }, ["retry-trait-5(0)", "retry-trait-28(0)", "retry-trait-29(0)", "retry-trait-30(0)"])
        let collect = try XCTUnwrap(ArgoItems.step(of: done, named: "collect-results"))
        XCTAssertNil(collect.owner)                                  // no retryStrategy: the pod is the task
        XCTAssertEqual(collect.state, .succeeded)
        XCTAssertEqual(collect.podName, "gapit3-gwas-retry-h5nzl-7qk2m-collect-results-744785405")
        XCTAssertEqual(ArgoItems.step(of: done, named: "gapit3-results-collector")?.podName, collect.podName)  // by template
        XCTAssertEqual(done.phase, "Succeeded")
    }

    // MARK: phases, times, progress

    func testPhaseMapping() throws {
        let cases: [(String, String?, JobState)] = [
            ("", nil, .pending), ("Pending", "PodInitializing", .pending), ("Running", nil, .running),
            ("Succeeded", nil, .succeeded), ("Skipped", "when 'false' evaluated false", .succeeded),
            ("Omitted", "omitted: depends condition not met", .cancelled),
            ("Failed", "OOMKilled (exit code 137)", .oom), ("Failed", "main: OOMKilled (exit code 137)", .oom),
            ("Failed", "Error (exit code 137)", .failed), ("Failed", "main: Error (exit code 1)", .failed),
            ("Failed", "Stopped with strategy 'Stop'", .cancelled), ("Failed", "Step exceeded its deadline", .timeout),
            ("Failed", "Pod was active on the node longer than the specified deadline", .timeout),
            ("Failed", "Max duration limit exceeded", .timeout), ("Error", "Error applying PodSpecPatch", .failed),
            ("Error", "pod deleted", .failed), ("Failed", nil, .failed), ("Suspended-ish", nil, .running),
        ]
        for (phase, message, state) in cases {
            XCTAssertEqual(ArgoPhase.jobState(phase: phase, message: message), state, "\(phase) \(message ?? "")")
        }
        // the RBAC exit 64 of the reference cluster is an Error, not an OOM: diagnosis calls it config
        let rbac = try ArgoFixtures.text("node-message-rbac-exit64.gapit3-docs.txt").replacingOccurrences(of: "\n", with: " ")
        XCTAssertEqual(ArgoPhase.jobState(phase: "Error", message: "wait: " + rbac), .failed)
    }

    func testTimes() {
        XCTAssertEqual(ArgoTime.parse("2024-10-02T11:11:17Z"), Date(timeIntervalSince1970: 1_727_867_477))
        XCTAssertEqual(ArgoTime.parse("1970-01-01T00:00:00Z"), Date(timeIntervalSince1970: 0))
        XCTAssertEqual(ArgoTime.parse("2000-02-29T23:59:59Z"), Date(timeIntervalSince1970: 951_868_799))
        XCTAssertEqual(ArgoTime.parse("2024-10-02T13:11:17+02:00"), Date(timeIntervalSince1970: 1_727_867_477))
        XCTAssertEqual(ArgoTime.parse("2024-10-02T11:11:17.250000Z")!.timeIntervalSince1970, 1_727_867_477.25, accuracy: 1e-6)
        for bad in ["", "null", "2024-10-02", "2024-10-02T11:11:17", "2024-13-02T11:11:17Z", "2024-10-02T11:11:17.Z",
                    "2024-10-02T11:11:17+0200", "2024-10-02T11:11:17Zjunk"] {
            XCTAssertNil(ArgoTime.parse(bad), bad)
        }
    }

    func testProgress() {
        XCTAssertEqual(ArgoProgress("80/166"), ArgoProgress(done: 80, total: 166))
        XCTAssertEqual(ArgoProgress("0/0"), ArgoProgress(done: 0, total: 0))
        for bad in [nil, "", "1", "3/2", "a/b", "1/2/3"] { XCTAssertNil(ArgoProgress(bad), bad ?? "nil") }
    }

    // MARK: defensive decoding

    func testLenientFields() throws {
        let text = """
        {"metadata": {"name": "w", "labels": null, "futureField": {"x": 1}},
         "spec": {"arguments": {"parameters": [{"name": "n", "value": 3}, {"name": "flag", "value": true}, {"name": "empty"}]}},
         "status": {"phase": "Running", "startedAt": "not a time", "finishedAt": null, "offloadNodeStatusVersion": "fnv:123",
                    "nodes": {"w-1": {"name": "w.a", "type": "Pod", "outputs": {"exitCode": 2}, "children": null}}}}
        """
        let wf = try ArgoJSON.workflow(text, command: "argo get w -o json")
        XCTAssertEqual(wf.parameters, [ArgoParameter(name: "n", value: "3"), ArgoParameter(name: "flag", value: "true"),
                                       ArgoParameter(name: "empty", value: nil)])
        XCTAssertEqual(wf.labels, [:])
        XCTAssertNil(wf.startedAt)
        XCTAssertTrue(wf.nodesElsewhere)
        let node = try XCTUnwrap(wf.nodes["w-1"])
        XCTAssertEqual(node.id, "w-1")                                  // from the map key
        XCTAssertEqual(node.displayName, "w.a")
        XCTAssertEqual(node.exitCode, 2)
        XCTAssertEqual(node.phase, "")
        XCTAssertEqual(try ArgoJSON.workflow(#"{"metadata": {"name": "fresh"}}"#, command: "argo submit").phase, "")
    }

    func testMissingAndBrokenFieldsNameTheCommandAndField() {
        func message(_ text: String, list: Bool = false) -> String {
            let command = "argo get -n runai-talmo-lab wf -o json"
            do {
                if list { _ = try ArgoJSON.workflows(text, command: command) } else { _ = try ArgoJSON.workflow(text, command: command) }
                return "no error"
            } catch let error as ExptError {
                XCTAssertEqual(error.kind, .external)
                XCTAssertNotNil(error.hint)
                return error.message
            } catch { return "other error: \(error)" }
        }
        let prefix = "could not parse the output of `argo get -n runai-talmo-lab wf -o json`: "
        XCTAssertEqual(message(#"{"metadata": {"namespace": "x"}}"#), prefix + "missing field 'metadata.name'")
        XCTAssertEqual(message(#"{"status": {}}"#), prefix + "missing field 'metadata'")
        XCTAssertEqual(message(#"{"metadata": {"name": "w"}, "status": {"nodes": {"w": {"id": "w", "name": "w"}}}}"#),
                       prefix + "missing field 'status.nodes.w.type'")
        XCTAssertEqual(message(#"[{"metadata": {"name": "a"}}, {"metadata": {}}]"#, list: true),
                       prefix + "missing field '[1].metadata.name'")
        XCTAssertEqual(message(#"{"metadata": {"name": 7}}"#), prefix + "field 'metadata.name' is not a string")
        XCTAssertEqual(message(#"{"metadata": {"name": "w"}}"#, list: true), prefix + "missing field 'items'")
        XCTAssertEqual(message("No workflows found\n", list: true), prefix + "expected JSON, got 'No workflows found'")
        XCTAssertEqual(message(""), prefix + "expected JSON, got nothing")
        XCTAssertTrue(message(#"{"metadata": {"name": "w"}, "status": {"phase": "Runn"#).hasPrefix(prefix + "the JSON is malformed"))
        XCTAssertEqual(message("time=\"2026-01-05T17:25:03.123Z\" level=fatal msg=\"rpc error\"\n{}"),
                       prefix + "expected JSON, got 'time=\"2026-01-05T17:25:03.123Z\" level=fatal msg=\"rpc error\"\n{}'")
    }

    /// The full captures under ../shared/fixtures/argo parse too (skipped when absent).
    func testSharedRealCaptures() throws {
        guard let shared = ArgoFixtures.shared else { throw XCTSkip("shared/fixtures/argo not found next to the checkout") }
        var parsed = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: shared.path).sorted()
        where file.hasPrefix("dls-get-workflow-") && file.hasSuffix(".json") {
            let text = try String(contentsOf: shared.appendingPathComponent(file), encoding: .utf8)
            let wf = try ArgoJSON.workflow(text, command: file)
            XCTAssertFalse(wf.nodes.isEmpty, file)
            parsed += 1
        }
        let list = try String(contentsOf: shared.appendingPathComponent("dls-get-workflows.json"), encoding: .utf8)
        XCTAssertEqual(try ArgoJSON.workflows(list, command: "list").count, 2)
        XCTAssertEqual(parsed, 4)
    }
}
