import Synchronization

/// A named set of contexts of one mode (erlang_python's context router pools).
///
/// One-shot calls routed to a pool go to the caller thread's context (affinity); leases take a
/// context out of the pool exclusively until they end. A context that stops working — closed,
/// its interpreter unusable, or abandoned after a stuck call — is taken out of routing and
/// replaced by a fresh one with the same mode, paths, imports and preload.
public final class PythonPool: Sendable, CustomStringConvertible {
  public let name: String
  public let mode: PythonContext.Mode
  /// True when the pool's contexts run under the sandbox audit hook.
  public let sandbox: Bool

  private struct Slot {
    var context: PythonContext
    var leased = false
    var replacement: Task<Void, Never>?
    /// Why the last replacement failed (a preload that now raises, say); reported once.
    var failure: (any Error)?
  }

  private let installation: PythonInstallation
  private let policy: CallPolicy
  private let blueprint: @Sendable () -> ContextBlueprint
  private let slots: Mutex<[Slot]>
  private let isStopped = Atomic<Bool>(false)
  private let replacements = Atomic<Int>(0)

  private init(
    name: String, mode: PythonContext.Mode, sandbox: Bool, installation: PythonInstallation,
    policy: CallPolicy,
    blueprint: @escaping @Sendable () -> ContextBlueprint, contexts: [PythonContext]
  ) {
    self.name = name
    self.mode = mode
    self.sandbox = sandbox
    self.installation = installation
    self.policy = policy
    self.blueprint = blueprint
    self.slots = Mutex(contexts.map { Slot(context: $0) })
  }

  /// Starts `size` contexts at once. If one fails, those already started are closed and the
  /// error is thrown. `blueprint` is asked anew for every context, replacements included.
  static func start(
    name: String, size: Int, mode: PythonContext.Mode, sandbox: Bool, installation: PythonInstallation,
    policy: CallPolicy, threadPrefix: String, blueprint general: @escaping @Sendable () -> ContextBlueprint
  ) async throws -> PythonPool {
    let blueprint: @Sendable () -> ContextBlueprint = {
      var blueprint = general()
      blueprint.sandbox = sandbox
      return blueprint
    }
    guard size > 0 else {
      throw SwiftPyError(.invalidArgument, "pool '\(name)' needs at least one context, not \(size)")
    }
    try PythonContext.checkAvailable(mode, in: installation)
    // Every context that starts is kept until all have finished, so that a failure of one
    // closes the others instead of leaking their threads.
    var started: [(Int, PythonContext)] = []
    var failure: Error?
    let plan = blueprint()
    await withTaskGroup(of: Result<(Int, PythonContext), Error>.self) { group in
      for index in 0..<size {
        group.addTask {
          await Result {
            (
              index,
              try await PythonContext.start(
                mode: mode, installation: installation, blueprint: plan, name: "\(threadPrefix)-\(index)",
                policy: policy)
            )
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
    return PythonPool(
      name: name, mode: mode, sandbox: sandbox, installation: installation, policy: policy,
      blueprint: blueprint,
      contexts: contexts)
  }

  /// The pool's contexts, in order.
  public var contexts: [PythonContext] { slots.withLock { $0.map(\.context) } }

  public var size: Int { slots.withLock { $0.count } }

  public var description: String { "PythonPool(\(name), \(mode), \(size) contexts)" }

  /// The pool's occupancy now.
  public func stats() -> PoolStats {
    slots.withLock { slots in
      PoolStats(
        contexts: slots.count,
        available: slots.filter { !$0.leased && $0.context.isOpen }.count,
        checkedOut: slots.filter(\.leased).count,
        pendingRequests: slots.reduce(0) { $0 + $1.context.queuedCalls })
    }
  }

  // MARK: Choosing contexts

  /// The context for a one-shot call from the caller's thread `affinity`: the same thread gets
  /// the same context. A leased context is passed over while another is free; a dead one is
  /// replaced and passed over.
  func context(affinity: Int) async throws -> PythonContext {
    while true {
      try checkRunning()
      let (choice, waitFor) = slots.withLock { slots -> (PythonContext?, Task<Void, Never>?) in
        let count = slots.count
        let first = affinity % count
        var fallback: PythonContext?
        for step in 0..<count {
          let index = (first + step) % count
          guard slots[index].context.isOpen else {
            replaceIfDead(&slots, index)
            continue
          }
          if !slots[index].leased { return (slots[index].context, nil) }
          fallback = fallback ?? slots[index].context
        }
        // Leased contexts can still take one-shot calls: their sessions are separate.
        return (fallback, fallback == nil ? slots[first].replacement : nil)
      }
      if let choice { return choice }
      if let failure = slots.withLock({ slots in
        defer { slots[affinity % slots.count].failure = nil }
        return slots[affinity % slots.count].failure
      }) {
        throw failure
      }
      await waitFor?.value  // every context is being replaced; wait for one
    }
  }

  /// The context at `index` (0-based), replaced first if it is dead.
  func context(index: Int) async throws -> PythonContext {
    try checkRunning()
    let (context, waitFor) = try slots.withLock { slots throws -> (PythonContext, Task<Void, Never>?) in
      guard slots.indices.contains(index) else {
        throw SwiftPyError(
          .invalidArgument, "pool '\(name)' has contexts 0..<\(slots.count); there is no context \(index)")
      }
      replaceIfDead(&slots, index)
      return (slots[index].context, slots[index].replacement)
    }
    guard let waitFor else { return context }
    await waitFor.value
    return try slots.withLock { slots in
      if !slots[index].context.isOpen, let failure = slots[index].failure {
        slots[index].failure = nil
        throw failure
      }
      return slots[index].context
    }
  }

  /// Takes a context out of the pool for a lease: the one at `index` if given, else the first
  /// free one from the caller's affinity context on. When none is free but a dead one is being
  /// replaced, waits for the replacement.
  func lease(affinity: Int, index wanted: Int? = nil) async throws -> (index: Int, context: PythonContext) {
    while true {
      try checkRunning()
      let outcome = try slots.withLock { slots throws -> LeaseOutcome in
        let count = slots.count
        if let wanted, !slots.indices.contains(wanted) {
          throw SwiftPyError(
            .invalidArgument, "pool '\(name)' has contexts 0..<\(count); there is no context \(wanted)")
        }
        var replacing: Task<Void, Never>?
        var failure: (index: Int, error: any Error)?
        for step in 0..<(wanted == nil ? count : 1) {
          let index = wanted ?? (affinity + step) % count
          guard slots[index].context.isOpen else {
            if let error = slots[index].failure { failure = failure ?? (index, error) }
            replaceIfDead(&slots, index)
            replacing = replacing ?? slots[index].replacement
            continue
          }
          if !slots[index].leased {
            slots[index].leased = true
            return .leased(index, slots[index].context)
          }
        }
        if let failure {  // nothing free, and a replacement failed: report why, once
          slots[failure.index].failure = nil
          return .failed(failure.error)
        }
        guard let replacing else { throw SwiftPyError.noContextsAvailable(pool: name) }
        return .wait(replacing)
      }
      switch outcome {
      case .leased(let index, let context): return (index, context)
      case .wait(let replacement): await replacement.value
      case .failed(let error): throw error
      }
    }
  }

  private enum LeaseOutcome {
    case leased(Int, PythonContext)
    case wait(Task<Void, Never>)
    case failed(any Error)
  }

  /// Returns a leased context. A lease on a context that has since been replaced returns nothing.
  func release(index: Int, context: PythonContext) {
    slots.withLock { slots in
      guard slots.indices.contains(index), slots[index].context === context else { return }
      slots[index].leased = false
      replaceIfDead(&slots, index)
    }
  }

  /// The error for a lease whose context died: the slot is being replaced, the lease is lost.
  func lost(index: Int, context: PythonContext, _ error: SwiftPyError) -> SwiftPyError {
    slots.withLock { replaceIfDead(&$0, index) }
    return SwiftPyError.contextLost(context: context.name, reason: error.message)
  }

  private func replaceIfDead(_ slots: inout [Slot], _ index: Int) {
    guard !slots[index].context.isOpen, slots[index].replacement == nil, !isStopped.load(ordering: .relaxed)
    else { return }
    let dead = slots[index].context
    let serial = replacements.wrappingAdd(1, ordering: .relaxed).newValue
    let name = "\(dead.name)r\(serial)"
    slots[index].replacement = Task { [mode, installation, blueprint, policy] in
      var fresh: PythonContext?
      var failure: (any Error)?
      do {
        fresh = try await PythonContext.start(
          mode: mode, installation: installation, blueprint: blueprint(), name: name, policy: policy)
      } catch {
        failure = error
      }
      let stray: PythonContext? = self.slots.withLock { slots in
        slots[index].replacement = nil
        slots[index].failure = failure
        guard let fresh, !self.isStopped.load(ordering: .relaxed) else { return fresh }
        slots[index] = Slot(context: fresh)
        return nil
      }
      await stray?.close()  // the pool stopped meanwhile
      // Lets its thread end the interpreter once any stuck call returns; nobody waits for that.
      Task.detached { await dead.close() }
    }
  }

  // MARK: Stopping

  private func checkRunning() throws {
    if isStopped.load(ordering: .acquiring) { throw SwiftPyError.poolNotFound(name) }
  }

  /// Closes every context after the calls already queued on it — or, with a `deadline`,
  /// answers what is still queued then with ``SwiftPyError/Code/shuttingDown`` and
  /// interrupts what is running.
  func stop(deadline: Duration? = nil) async {
    isStopped.store(true, ordering: .releasing)
    let (contexts, pending) = slots.withLock { ($0.map(\.context), $0.compactMap(\.replacement)) }
    for task in pending { await task.value }
    await withTaskGroup(of: Void.self) { group in
      for context in contexts { group.addTask { await context.close(deadline: deadline) } }
    }
  }
}

extension Result where Failure == Error {
  init(catching body: () async throws -> Success) async {
    do { self = .success(try await body()) } catch { self = .failure(error) }
  }
}
