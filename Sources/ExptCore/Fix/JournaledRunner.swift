import Foundation
import ExptModel

/// How one step of a recorded flow went. JSON: the raw value.
public enum StepStatus: String, Codable, Sendable {
    /// Done by this command.
    case done
    /// Done by an earlier, interrupted run of the flow (found in the journal), not redone.
    case resumed
    /// Not needed, or turned off (`--no-push`, no remote).
    case skipped
    /// Waiting in the outbox for a later command to deliver it.
    case queued
    /// Dry run: what the step would do.
    case would
    /// Gave up waiting (the relaunched run did not start within `--wait`).
    case timedOut = "timed_out"
    /// Checked and found failing (the relaunched run failed at once).
    case failed
}

/// How a step that ran came out.
enum StepOutcome {
    /// Journaled with `data`: a later run of the flow resumes the step instead of redoing it.
    case journaled(StepStatus, String, data: String?)
    /// Reported only: a later run does the step again (a push turned off by --no-push is
    /// pushed by a later run without the flag).
    case reported(StepStatus, String)
}

/// Thrown by a step that ends the flow with something to report first (a verify that timed
/// out): the runner reports it, then throws `error`.
struct StepFailed: Error {
    var status: StepStatus
    var detail: String
    var error: Error
    /// Set when the step did conclude (a relaunch that failed at once): journaled with this
    /// data, so the next run of the command starts a new flow instead of resuming this one.
    var journal: String? = nil
}

/// One step of a recorded flow.
struct JournaledStep {
    /// The name in reports, in the journal and in the crash points (`fix-<name>`).
    let name: String
    /// Dry run: what the step would do.
    let would: String
    /// Restores the step's result from the journal data an earlier run recorded and returns the
    /// detail to report; nil when that data is unusable, and the step is done again.
    let resume: (_ data: String?) -> String?
    /// Does the step.
    let perform: () throws -> StepOutcome

    init(_ name: String, would: String, resume: @escaping (_ data: String?) -> String?,
         perform: @escaping () throws -> StepOutcome) {
        self.name = name; self.would = would; self.resume = resume; self.perform = perform
    }

    /// A step whose result is what it journals (a commit id, a run id): `keep` gets it whether
    /// it was made now or found in the journal, so later steps can use it either way.
    static func result<T: Codable>(_ name: String, would: String, keep: @escaping (T) -> Void = { _ in },
                                   _ body: @escaping () throws -> T) -> JournaledStep {
        JournaledStep(name, would: would, resume: { data in
            guard let value = LedgerJSON.decode(T.self, data) else { return nil }
            keep(value)
            return "\(value)"
        }, perform: {
            let value = try body()
            keep(value)
            return .journaled(.done, "\(value)", data: LedgerJSON.encode(value))
        })
    }
}

/// Runs the steps of one recorded flow (docs/fix-and-relaunch.md, "Interruptions"). It alone
/// journals them, under `flow` in the ledger: a step already journaled reports `resumed` and is
/// not done again, so a flow killed anywhere and started again finishes without doing anything
/// twice. Around each journal record are the crash points the end-to-end tests SIGKILL at
/// (docs/testing.md): `<prefix><step>-unjournaled` after the side effect, `<prefix><step>` after
/// the record. In a dry run a step not journaled yet reports `would` and its description, and
/// nothing runs.
final class JournaledRunner {
    let ledger: Ledger
    let flow: String
    let dryRun: Bool
    let faultPrefix: String
    /// What each step did, in order.
    private(set) var reports: [FixStep]

    /// `reports`: the steps that came before the flow was known (the worktree).
    init(ledger: Ledger, flow: String, dryRun: Bool, faultPrefix: String = "fix-", reports: [FixStep] = []) {
        self.ledger = ledger; self.flow = flow; self.dryRun = dryRun; self.faultPrefix = faultPrefix
        self.reports = reports
    }

    /// Reports a step that is not journaled (it changes nothing, or is cheap to redo).
    func note(_ step: String, _ status: StepStatus, _ detail: String) {
        reports.append(FixStep(step: step, status: status, detail: detail))
    }

    /// Runs `steps` in order; the first that throws stops the flow.
    func run(_ steps: [JournaledStep]) throws {
        for step in steps { try run(step) }
    }

    func run(_ step: JournaledStep) throws {
        if let saved = try ledger.journalStep(flow: flow, step: step.name), let detail = step.resume(saved.data) {
            return note(step.name, .resumed, detail)
        }
        if dryRun { return note(step.name, .would, step.would) }
        let outcome: StepOutcome
        do {
            outcome = try step.perform()
        } catch let failed as StepFailed {
            if let data = failed.journal { try record(step.name, data) }
            note(step.name, failed.status, failed.detail)
            throw failed.error
        }
        switch outcome {
        case .reported(let status, let detail):
            note(step.name, status, detail)
        case .journaled(let status, let detail, let data):
            try record(step.name, data)
            note(step.name, status, detail)
        }
    }

    /// A step whose value the next steps are built from (the plan): from the journal when an
    /// earlier run made it, else `make`, journaled; a dry run reports `preview`'s value (which
    /// must change nothing) as `would` and journals nothing.
    func value<T: Codable>(_ name: String, detail: (T) -> String, preview: () throws -> T,
                           make: () throws -> T) throws -> T {
        if let saved = try ledger.journalStep(flow: flow, step: name), let value = LedgerJSON.decode(T.self, saved.data) {
            note(name, .resumed, detail(value))
            return value
        }
        if dryRun {
            let value = try preview()
            note(name, .would, detail(value))
            return value
        }
        let value = try make()
        try record(name, LedgerJSON.encode(value))
        note(name, .done, detail(value))
        return value
    }

    private func record(_ step: String, _ data: String?) throws {
        FaultInjection.point("\(faultPrefix)\(step)-unjournaled")
        try ledger.recordJournal(flow: flow, step: step, data: data)
        FaultInjection.point("\(faultPrefix)\(step)")
    }
}
