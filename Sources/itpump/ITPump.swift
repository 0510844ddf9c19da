import ArgumentParser
import PumpCore
import PumpRig
import PumpSim

@main
struct ITPump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itpump",
        abstract: "Intrathecal baclofen pump controller: control core, simulator and bench-rig runner.",
        version: ITPumpVersion.current,
        subcommands: [Simulate.self, SweepCommand.self, Validate.self, RunCommand.self, CtlCommand.self, Demo.self,
                      Bench.self, GPIOCommand.self, HILCommand.self, History.self, JournalCommand.self]
    )

    static func main() { main(RunCommandArguments.normalized(Array(CommandLine.arguments.dropFirst()))) }
}
