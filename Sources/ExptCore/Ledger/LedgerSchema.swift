/// The ledger's schema as an append-only list of migrations. `PRAGMA user_version` holds how
/// many have been applied. Never edit a shipped migration: add a new one at the end.
enum LedgerSchema {
    static let migrations: [String] = [
        // 1: runs, the fix-and-relaunch journal, the outbox, and the run-id counter.
        """
        CREATE TABLE counters (
            name  TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        CREATE TABLE runs (
            id             TEXT PRIMARY KEY,
            seq            INTEGER NOT NULL UNIQUE,
            branch         TEXT NOT NULL,
            attempt        INTEGER NOT NULL,
            parent_run     TEXT,
            backend        TEXT NOT NULL,
            job_id         TEXT,
            job_name       TEXT,
            commit_sha     TEXT NOT NULL,
            profile        TEXT,
            resources_json TEXT NOT NULL,
            spec_json      TEXT,
            submitted_at   TEXT,
            started_at     TEXT,
            ended_at       TEXT,
            state          TEXT NOT NULL,
            raw_state      TEXT,
            reason         TEXT,
            exit_code      INTEGER,
            signal         INTEGER,
            max_rss_mb     INTEGER,
            log_dir        TEXT,
            diagnosis      TEXT,
            tasks_json     TEXT NOT NULL DEFAULT '[]',
            created_at     TEXT NOT NULL,
            updated_at     TEXT NOT NULL
        );
        CREATE INDEX runs_branch ON runs(branch, seq);
        CREATE INDEX runs_state ON runs(state);
        CREATE TABLE journal (
            flow_id TEXT NOT NULL,
            step    TEXT NOT NULL,
            status  TEXT NOT NULL,
            data    TEXT,
            at      TEXT NOT NULL,
            PRIMARY KEY (flow_id, step)
        );
        CREATE TABLE outbox (
            id           INTEGER PRIMARY KEY,
            kind         TEXT NOT NULL,
            branch       TEXT,
            dedupe_key   TEXT NOT NULL UNIQUE,
            payload      TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            attempts     INTEGER NOT NULL DEFAULT 0,
            last_error   TEXT,
            delivered_at TEXT
        );
        """,
        // 2: when an outbox item was last tried, so later commands can retry it with a back-off.
        """
        ALTER TABLE outbox ADD COLUMN last_attempt_at TEXT;
        """,
        // 3: who is delivering an outbox item and since when, so two processes never both send it.
        """
        ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
        ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
        """,
        // 4: what the end of a finished run's output says (progress, last line), read once after
        // it ended instead of on every `status` (a cache: losing it costs one read per run).
        """
        CREATE TABLE output_tails (
            run_id TEXT PRIMARY KEY,
            tail   TEXT NOT NULL
        );
        """,
    ]
}
