import Foundation
import ExptModel
import GitKit

/// GitKit knows nothing of expt's error kinds (it sits below ExptModel); its errors get their
/// kind here, once, by type and reason, never by message.
public enum UserFacingErrors {
    /// `error` as the CLI reports it; nil for an error of no known type (an internal failure).
    public static func make(_ error: Error) -> UserFacingError? {
        switch error {
        case let e as UserFacingError:
            return e
        case let e as InvalidBranchName:
            return ExptError(.invalidInput, e.description, hint: "choose a name like exp/lr-0.1")
        case let e as MergeConflict:
            return ExptError(.conflict, e.description + "\nnothing was changed.",
                             hint: "run `expt sync` on the experiment and resolve the conflicts in its worktree, then merge again")
        case let e as GitError:
            switch e.reason {
            case .notFound: return ExptError(.notFound, e.description)
            case .exists, .dirtyWorktree, .operationInProgress: return ExptError(.conflict, e.description)
            case .missingWorktree, .other: return ExptError(.failure, e.description)
            }
        default:
            return nil
        }
    }
}
