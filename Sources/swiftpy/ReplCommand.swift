import ArgumentParser

struct ReplCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl", abstract: "An interactive Python prompt.")
  func run() async throws {}
}
