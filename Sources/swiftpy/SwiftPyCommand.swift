import ArgumentParser

@main
struct SwiftPyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "swiftpy",
    abstract: "Run Python in many isolated interpreters from Swift.",
    subcommands: [
      InfoCommand.self, RunCommand.self, DemoCommand.self, BenchCommand.self, SoakCommand.self,
      MemCheckCommand.self, WatchCommand.self,
    ])
}
