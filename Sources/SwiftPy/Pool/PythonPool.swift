import Synchronization

extension Result where Failure == Error {
  init(catching body: () async throws -> Success) async {
    do { self = .success(try await body()) } catch { self = .failure(error) }
  }
}

/// A named set of contexts of one mode. One-shot calls routed to the pool go to its contexts in
/// turn, each in a fresh namespace.
public final class PythonPool: Sendable {
  public let name: String
  public let mode: PythonContext.Mode
  public let contexts: [PythonContext]
  private let cursor = Atomic<Int>(0)

  private init(name: String, mode: PythonContext.Mode, contexts: [PythonContext]) {
    self.name = name
    self.mode = mode
    self.contexts = contexts
  }

  /// Starts `size` contexts at once. If one fails, those already started are closed and the
  /// error is thrown.
  static func start(name: String, size: Int, mode: PythonContext.Mode, process: PythonProcess)
    async throws -> PythonPool
  {
    guard size > 0 else {
      throw PythonRuntimeError(.invalidArgument, "pool '\(name)' needs at least one context, not \(size)")
    }
    try PythonContext.checkAvailable(mode, in: process.installation)
    // Every context that starts is kept until all have finished, so that a failure of one
    // closes the others instead of leaking their threads.
    var started: [(Int, PythonContext)] = []
    var failure: Error?
    await withTaskGroup(of: Result<(Int, PythonContext), Error>.self) { group in
      for index in 0..<size {
        group.addTask {
          await Result {
            (index, try await PythonContext.start(mode: mode, process: process, name: "\(name)-\(index)"))
          }
        }
      }
      for await result in group {
        switch result {
        case .success(let context): started.append(context)
        case .failure(let error): failure = failure ?? error
        }
      }
    }
    if let failure {
      for (_, context) in started { await context.close() }
      throw failure
    }
    let contexts = started.sorted { $0.0 < $1.0 }.map(\.1)
    return PythonPool(name: name, mode: mode, contexts: contexts)
  }

  /// The next context in turn.
  func nextContext() -> PythonContext {
    let turn = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
    return contexts[Int(UInt(bitPattern: turn) % UInt(contexts.count))]
  }

  /// Closes every context (after the calls already queued on it).
  func stop() async {
    await withTaskGroup(of: Void.self) { group in
      for context in contexts { group.addTask { await context.close() } }
    }
  }
}
