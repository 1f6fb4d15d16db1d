import DequeModule
import Synchronization

/// A named set of contexts of one mode (erlang_python's context router pools).
///
/// One-shot calls routed to a pool wait in the pool's queue, not on a context: the caller
/// thread's context runs them when it is free (affinity), and otherwise any free context does
/// (work stealing), so a call never waits behind a long call while another context is idle, and
/// never fails because another call got a context stuck. Leases take a context out of the pool
/// exclusively until they end (one-shot calls wait rather than run on a leased context); when
/// every context is leased, lease requests wait their turn, first come first served. A context that stops working — closed, or abandoned after a stuck
/// call — is taken out of routing and replaced by a fresh one with the same mode, paths,
/// imports and preload.
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
    /// After a failed replacement, the next attempt waits until then.
    var retryAt: ContinuousClock.Instant?
  }

  /// A lease request waiting for a context.
  private struct Waiter {
    let id: UInt64
    let index: Int?
    let continuation: CheckedContinuation<(index: Int, context: PythonContext), Error>
  }

  private struct State {
    var slots: [Slot]
    var waiters = Deque<Waiter>()
    /// Set when the pool stops: every later request is refused with it.
    var stopped: SwiftPyError?
    /// Threads of replaced contexts that may still run a stuck call.
    var abandoned: [InterpreterThread] = []
  }

  private let installation: PythonInstallation
  private let policy: CallPolicy
  private let blueprint: @Sendable () -> ContextBlueprint
  private let state: Mutex<State>
  /// One-shot calls waiting for a free context.
  let queue: SharedJobQueue
  private let replacements = Atomic<Int>(0)
  private static let waiterSerials = Atomic<UInt64>(0)

  private init(
    name: String, mode: PythonContext.Mode, sandbox: Bool, installation: PythonInstallation,
    policy: CallPolicy, blueprint: @escaping @Sendable () -> ContextBlueprint, queue: SharedJobQueue,
    contexts: [PythonContext]
  ) {
    self.name = name
    self.mode = mode
    self.sandbox = sandbox
    self.installation = installation
    self.policy = policy
    self.blueprint = blueprint
    self.queue = queue
    self.state = Mutex(State(slots: contexts.map { Slot(context: $0) }))
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
    if sandbox && mode == .worker { throw SwiftPyError.sandboxNeedsOwnInterpreter(pool: name) }
    let queue = SharedJobQueue()
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
                policy: policy, shared: queue)
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
      for (_, context) in started { await context.close(deadline: nil, refusal: nil) }
      throw failure
    }
    let pool = PythonPool(
      name: name, mode: mode, sandbox: sandbox, installation: installation, policy: policy,
      blueprint: blueprint, queue: queue, contexts: started.sorted { $0.0 < $1.0 }.map(\.1))
    for (_, context) in started { pool.watch(context) }
    return pool
  }

  /// The pool's contexts, in order.
  public var contexts: [PythonContext] { state.withLock { $0.slots.map(\.context) } }

  public var size: Int { state.withLock { $0.slots.count } }

  public var description: String { "PythonPool(\(name), \(mode), \(size) contexts)" }

  /// The pool's occupancy now. A context taken out of service (abandoned in a stuck call, or
  /// being replaced) is not available.
  public func stats() -> PoolStats {
    state.withLock { state in
      state.abandoned.removeAll { $0.hasEnded }
      return PoolStats(
        contexts: state.slots.count,
        available: state.slots.filter { !$0.leased && $0.context.isOpen }.count,
        checkedOut: state.slots.filter(\.leased).count,
        pendingRequests: queue.queuedRequests + state.slots.reduce(0) { $0 + $1.context.queuedCalls },
        abandonedThreads: state.abandoned.count)
    }
  }

  // MARK: One-shot calls

  /// Runs `body` with a fresh namespace (made with `preload`) on a free context of the pool: the
  /// caller thread's context if it is free, else any free one. Waits in the pool's queue while
  /// all are busy — through a context being lost and replaced — bounded by `timeout`.
  func oneShot<T: Sendable>(
    affinity: Int, preload: PreloadSnapshot, timeout: Duration?, describing what: @autoclosure () -> String,
    _ body: @escaping @Sendable (_ globals: PyObjectPointer) throws -> T
  ) async throws -> T {
    let body = OutputCapture.capturing(into: OutputCapture.sink, body)  // the caller's capture, if any
    let preferred = try state.withLock { state throws -> InterpreterThread? in
      if let stopped = state.stopped { throw stopped }
      replaceDead(&state)
      // No context, and none on its way (the last replacement failed; the next attempt waits):
      // nothing would ever run the call.
      if let unservable = unservable(state) { throw unservable }
      return state.slots[affinity % state.slots.count].context.thread
    }
    // The caller's task runs on one of this pool's threads (``PythonContext/withExecutor(_:)``):
    // the call runs right there, without a hop.
    // Not on a leased context: a one-shot call stuck there would cost the lease its context.
    if let here = InterpreterThread.current, here.shared === queue, queue.mayServe(here),
      let context = PythonContext.current,
      let result = try await here.performInline(
        timeout: timeout ?? policy.defaultTimeout, grace: policy.grace, movable: true,
        describing: "\(what()) on pool '\(name)'", { try context.runHere(.fresh(preload), body) })
    {
      return result
    }
    return try await JobCall.perform(
      .movable, timeout: timeout ?? policy.defaultTimeout, grace: policy.grace,
      describing: "\(what()) on pool '\(name)'",
      submit: { queue.push($0, preferring: preferred) }
    ) {
      guard let context = PythonContext.current else {
        throw SwiftPyError(.closed, "a call of pool '\(self.name)' reached a thread without a context")
      }
      return try context.runHere(.fresh(preload), body)
    }
  }

  // MARK: Choosing contexts

  /// The context the caller's thread `affinity` maps to (erlang_python's context affinity),
  /// replaced first if it is dead.
  func context(affinity: Int) async throws -> PythonContext {
    let index = state.withLock { affinity % $0.slots.count }
    return try await context(index: index)
  }

  /// The context at `index` (0-based), replaced first if it is dead.
  func context(index: Int) async throws -> PythonContext {
    let (context, waitFor) = try state.withLock { state throws -> (PythonContext, Task<Void, Never>?) in
      if let stopped = state.stopped { throw stopped }
      try check(index, in: state)
      replaceDead(&state)
      return (state.slots[index].context, state.slots[index].replacement)
    }
    guard let waitFor else { return context }
    await waitFor.value
    return try state.withLock { state in
      if !state.slots[index].context.isOpen, let failure = state.slots[index].failure {
        state.slots[index].failure = nil
        throw failure
      }
      return state.slots[index].context
    }
  }

  // MARK: Leases

  /// Takes a context out of the pool for a lease: the one at `index` if given, else the first
  /// free one from the caller's affinity context on. When none is free, waits up to `wait`
  /// (forever when nil; not at all when zero) in line with earlier requests, then throws
  /// ``SwiftPyError/Code/noContextsAvailable``. Cancelling the task stops the wait.
  func lease(affinity: Int, index wanted: Int? = nil, waitingUpTo wait: Duration? = .zero) async throws
    -> (index: Int, context: PythonContext)
  {
    let id = PythonPool.waiterSerials.wrappingAdd(1, ordering: .relaxed).newValue
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        let outcome = state.withLock { state -> LeaseOutcome in
          if let stopped = state.stopped { return .failed(stopped) }
          if let wanted, !state.slots.indices.contains(wanted) {
            return .failed(
              SwiftPyError(
                .invalidArgument,
                "pool '\(name)' has contexts 0..<\(state.slots.count); there is no context \(wanted)"))
          }
          replaceDead(&state)
          if state.waiters.isEmpty, let taken = takeFree(&state, affinity: affinity, index: wanted) {
            return .leased(taken)
          }
          if let failure = takeFailure(&state, index: wanted) { return .failed(failure) }
          let replacing = state.slots.contains { $0.replacement != nil }
          if wait == .zero && !replacing { return .failed(SwiftPyError.noContextsAvailable(pool: name)) }
          state.waiters.append(Waiter(id: id, index: wanted, continuation: continuation))
          return .waiting
        }
        switch outcome {
        case .leased(let taken): continuation.resume(returning: taken)
        case .failed(let error): continuation.resume(throwing: error)
        case .waiting:
          guard let wait, wait > .zero else { return }
          _ = DeadlineScheduler.shared.schedule(after: wait) { [self] in
            giveUp(
              waiter: id,
              SwiftPyError(
                .noContextsAvailable,
                "no contexts available: every context of pool '\(name)' stayed leased for \(wait)"))
          }
        }
      }
    } onCancel: {
      giveUp(waiter: id, CancellationError())
    }
  }

  private enum LeaseOutcome {
    case leased((index: Int, context: PythonContext))
    case failed(any Error)
    case waiting
  }

  /// Answers waiter `id` with `error` if it is still waiting.
  private func giveUp(waiter id: UInt64, _ error: any Error) {
    let waiter = state.withLock { state -> Waiter? in
      guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
      return state.waiters.remove(at: index)
    }
    waiter?.continuation.resume(throwing: error)
  }

  /// Returns a leased context; the next waiting lease request gets it. A lease on a context
  /// that has since been replaced returns nothing.
  func release(index: Int, context: PythonContext) {
    let served = state.withLock { state -> [(Waiter, (index: Int, context: PythonContext))] in
      guard state.slots.indices.contains(index), state.slots[index].context === context else { return [] }
      state.slots[index].leased = false
      queue.setLeased(context.thread, false)
      replaceDead(&state)
      return serveWaiters(&state)
    }
    for (waiter, taken) in served { waiter.continuation.resume(returning: taken) }
  }

  /// The error for a lease whose context died: the slot is being replaced, the lease is lost.
  func lost(index: Int, context: PythonContext, _ error: SwiftPyError) -> SwiftPyError {
    state.withLock { replaceDead(&$0) }
    return SwiftPyError.contextLost(context: context.name, reason: error.message)
  }

  /// Marks a free, live slot leased (index `index` if given, else from `affinity` on). An idle
  /// context is preferred to one still running a one-shot call: the lease would wait behind
  /// that call, and lose its context if the call got stuck.
  private func takeFree(_ state: inout State, affinity: Int, index wanted: Int?) -> (
    index: Int, context: PythonContext
  )? {
    let count = state.slots.count
    let candidates = (0..<(wanted == nil ? count : 1)).map { wanted ?? (affinity + $0) % count }.filter {
      !state.slots[$0].leased && state.slots[$0].context.isOpen
    }
    guard let index = candidates.first(where: { !state.slots[$0].context.thread.isBusy }) ?? candidates.first
    else { return nil }
    state.slots[index].leased = true
    queue.setLeased(state.slots[index].context.thread, true)
    return (index, state.slots[index].context)
  }

  /// Why nothing can run a call now: every context is lost and no replacement is starting.
  private func unservable(_ state: State) -> SwiftPyError? {
    guard !state.slots.contains(where: { $0.context.isOpen || $0.replacement != nil }) else { return nil }
    let reason =
      state.slots.lazy.compactMap(\.failure).first.map { ": a replacement failed to start: \($0)" } ?? ""
    return SwiftPyError(.noContextsAvailable, "pool '\(name)' has no context running\(reason)")
  }

  /// A replacement failure to report (once) when no context can be leased.
  private func takeFailure(_ state: inout State, index wanted: Int?) -> (any Error)? {
    for index in state.slots.indices where wanted == nil || wanted == index {
      if !state.slots[index].context.isOpen, state.slots[index].replacement == nil,
        let failure = state.slots[index].failure
      {
        state.slots[index].failure = nil
        return failure
      }
    }
    return nil
  }

  /// Hands free contexts to waiting lease requests, first come first served.
  private func serveWaiters(_ state: inout State) -> [(Waiter, (index: Int, context: PythonContext))] {
    var served: [(Waiter, (index: Int, context: PythonContext))] = []
    var position = 0
    while position < state.waiters.count {
      let waiter = state.waiters[position]
      if let taken = takeFree(&state, affinity: 0, index: waiter.index) {
        state.waiters.remove(at: position)
        served.append((waiter, taken))
      } else {
        position += 1
      }
    }
    return served
  }

  // MARK: Replacing lost contexts

  /// Replaces the context when its thread is taken out of service.
  private func watch(_ context: PythonContext) {
    context.thread.onAbandoned { [weak self] in
      guard let self else { return }
      self.state.withLock { self.replaceDead(&$0) }
    }
  }

  private func check(_ index: Int, in state: State) throws {
    guard state.slots.indices.contains(index) else {
      throw SwiftPyError(
        .invalidArgument, "pool '\(name)' has contexts 0..<\(state.slots.count); there is no context \(index)"
      )
    }
  }

  /// Starts a replacement for every dead context that has none yet (a slot whose last
  /// replacement failed waits a second before the next attempt).
  private func replaceDead(_ state: inout State) {
    guard state.stopped == nil else { return }
    let now = ContinuousClock.now
    for index in state.slots.indices
    where !state.slots[index].context.isOpen && state.slots[index].replacement == nil
      && (state.slots[index].retryAt.map { $0 <= now } ?? true)
    {
      replace(&state, index)
    }
  }

  private func replace(_ state: inout State, _ index: Int) {
    let dead = state.slots[index].context
    if state.slots[index].leased { queue.setLeased(dead.thread, false) }
    if dead.thread.isAbandoned { state.abandoned.append(dead.thread) }
    let serial = replacements.wrappingAdd(1, ordering: .relaxed).newValue
    let name = "\(dead.name)r\(serial)"
    SwiftPyLog.logger.notice(
      "replacing context '\(dead.name)' of pool '\(self.name)'", metadata: ["replacement": "\(name)"])
    state.slots[index].replacement = Task { [mode, installation, blueprint, policy, queue] in
      var fresh: PythonContext?
      var failure: (any Error)?
      do {
        fresh = try await PythonContext.start(
          mode: mode, installation: installation, blueprint: blueprint(), name: name, policy: policy,
          shared: queue)
      } catch {
        failure = error
        SwiftPyLog.logger.error(
          "a replacement for context '\(dead.name)' of pool '\(self.name)' failed to start: \(error)")
      }
      let (stray, served, unservable) = self.state.withLock {
        state -> (PythonContext?, [(Waiter, (index: Int, context: PythonContext))], SwiftPyError?) in
        state.slots[index].replacement = nil
        state.slots[index].failure = failure
        guard let fresh, state.stopped == nil else { return (fresh, [], self.unservable(state)) }
        state.slots[index] = Slot(context: fresh)
        return (nil, self.serveWaiters(&state), nil)
      }
      // Calls queued for the pool while it had no context: none will come now to run them.
      if let unservable { queue.refuseWaiting(unservable) }
      if let fresh, stray == nil { self.watch(fresh) }
      for (waiter, taken) in served { waiter.continuation.resume(returning: taken) }
      await stray?.close(deadline: nil, refusal: nil)  // the pool stopped meanwhile
      // Lets its thread end the interpreter once any stuck call returns; nobody waits for that.
      Task.detached { await dead.close(deadline: nil, refusal: nil) }
    }
  }

  // MARK: Stopping

  /// Stops the pool: lease requests waiting and one-shot calls not yet started are answered
  /// with `refusal`, then every context closes — at `deadline` cutting short what is still
  /// queued or running (see ``PythonContext/close(deadline:)``).
  func stop(deadline: Duration?, refusal: SwiftPyError) async {
    let (contexts, waiters) = state.withLock { state -> ([PythonContext], [Waiter]) in
      state.stopped = state.stopped ?? refusal
      defer { state.waiters.removeAll() }
      return (state.slots.map(\.context), Array(state.waiters))
    }
    for waiter in waiters { waiter.continuation.resume(throwing: refusal) }
    queue.stop(refusal)
    await withTaskGroup(of: Void.self) { group in
      for context in contexts { group.addTask { await context.close(deadline: deadline, refusal: refusal) } }
    }
  }
}

extension Result where Failure == Error {
  init(catching body: () async throws -> Success) async {
    do { self = .success(try await body()) } catch { self = .failure(error) }
  }
}
