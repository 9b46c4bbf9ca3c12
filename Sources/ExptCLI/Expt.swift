import ArgumentParser

/// The root command. Subcommands live one per file in Commands/.
public struct Expt: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "expt",
        abstract: "Experiments as git branches in worktrees: launch, diagnose, fix and relaunch.",
        version: "0.1.0",
        subcommands: [
            InitCommand.self, NewCommand.self, ListCommand.self, WorktreeCommand.self,
            CheckpointCommand.self, MergeCommand.self, SyncCommand.self, CleanCommand.self, DocCommand.self,
            LaunchCommand.self, StatusCommand.self, WatchCommand.self, LogsCommand.self, CancelCommand.self,
            RunsCommand.self, ReportCommand.self, CloseZombiesCommand.self, RebuildLedgerCommand.self, DiagnoseCommand.self, FixAndRelaunchCommand.self, OutboxCommand.self,
            HistoryCommand.self, PRCommand.self, SkillCommand.self, SuperviseCommand.self,
        ])

    public init() {}
}
