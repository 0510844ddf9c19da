import ArgumentParser
import PumpSim
import PumpJournal

/// `itpump journal …`: check and maintain the therapy journal.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Check and maintain the therapy journal (SQLite).",
        subcommands: [Verify.self, Migrate.self, Backup.self, Exercise.self]
    )

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "SQLite's integrity_check plus the journal's invariants; exits 1 if anything is wrong.")
        @Argument(help: "The journal file.")
        var path: String = "itpump.journal"

        func run() throws {
            let j = try Journal.open(at: path, access: .readOnly)
            let v = try j.verify()
            print("journal \(path): schema \(v.schemaVersion), \(Plural.count(v.events, "event")), \(Plural.count(v.commands, "command")), \(Plural.count(v.checkpoints, "checkpoint")), \(Plural.count(v.restarts, "restart"))")
            if let e = v.recoveredEstimate, let c = v.capacity { print("recovered reservoir estimate: \(e) of \(c)") }
            if v.isSound {
                print("OK: integrity_check passed and every invariant holds")
            } else {
                for p in v.problems { print("PROBLEM: \(p)") }
                print("NOT SOUND: do not start a runner on this journal; restore it from its backup and keep this file for investigation")
                throw ExitCode(1)
            }
        }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring a journal to this build's schema version.")
        @Argument(help: "The journal file.")
        var path: String

        func run() throws {
            let (from, to) = try Journal.migrate(at: path)
            print(from == to ? "journal \(path) is at schema \(to); nothing to do" : "journal \(path) migrated from schema \(from) to \(to)")
        }
    }

    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a journal to a new file with SQLite's online backup API (safe while a runner writes it), then verify the copy.",
            discussion: """
                Never copy a journal by hand: a copy of the main file without its -wal loses the last commits \
                (a runner refuses such a copy). The copy is a consistent snapshot of the last commit, created \
                0600 under a temporary name and renamed into place; an existing DEST is refused. Exits 1 if the \
                copy does not verify.
                """)
        @Argument(help: "The journal file.")
        var path: String
        @Argument(help: "The new file (must not exist).")
        var destination: String

        func run() throws {
            let j = try Journal.open(at: path, access: .readOnly)
            let v = try j.backup(to: destination)
            print("journal \(path) backed up to \(destination): schema \(v.schemaVersion), \(v.events) events, \(v.commands) commands, \(v.checkpoints) checkpoints, \(v.restarts) restarts")
            if v.isSound {
                print("OK: the copy passed integrity_check and every invariant")
            } else {
                for p in v.problems { print("PROBLEM: \(p)") }
                print("NOT SOUND: the source journal has the same problems; run itpump journal verify \(path)")
                throw ExitCode(1)
            }
        }
    }
}
