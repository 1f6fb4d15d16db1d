import CPythonShim
import DequeModule
import Foundation
import Synchronization

/// One pinned OS thread that creates one interpreter (or attaches to the main one), runs every
/// job for it, and ends it — all on that thread, because CPython crashes or hangs when a thread
/// state moves between threads (ARCHITECTURE.md, "One thread per interpreter").
///
/// The thread runs its own queue first (jobs pinned to this context), then takes jobs from its
/// pool's ``SharedJobQueue``. Between jobs, when it has nothing to do, it releases the GIL so
/// that Python threads of the interpreter, and other interpreters sharing the GIL, can run.
///
/// Callers wait through once-only answers (``JobCall``), so that a timeout, a cancellation or a
/// shutdown answers them while the thread is still busy in Python; the ``Interrupter`` then
/// stops the job, and abandons the thread if it is stuck in C.
final class InterpreterThread: @unchecked Sendable {
  // @unchecked: mutable state is either `guarded` (only touched inside `condition.withLock`),
  // atomics, or `threadState`/`interpreter`, written on the thread before it serves and read by
  // others only through `interpreterAccess`.

  /// Where the thread is in its life. Each phase carries what it needs.
  private enum Phase {
    case starting
    /// Taking jobs.
    case serving
    /// Running what was queued before ``close(deadline:grace:cleanup:)``; refusing new jobs.
    case closing(refusal: SwiftPyError)
    /// Out of service after a stuck call: refuses everything; the interpreter ends if the call
    /// ever returns.
    case abandoned(refusal: SwiftPyError)
    /// The interpreter has ended (or never started).
    case ended(refusal: SwiftPyError)

    var refusal: SwiftPyError? {
      switch self {
      case .starting, .serving: nil
      case .closing(let refusal), .abandoned(let refusal), .ended(let refusal): refusal
      }
    }
  }

  private struct Guarded {
    var phase = Phase.starting
    var queue = Deque<Job>()
    var running: Job?
    /// Jobs waiting in Swift (``serveNested(until:)``) under the running one, outermost first.
    var outer: [Job] = []
    var sleeping = false
    var wakeRequested = false
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
    /// Run on the thread, attached, just before the interpreter ends (dropping references).
    var cleanup: (@Sendable () -> Void)?
    /// Told when the thread is abandoned (its pool replaces it).
    var abandonedHandlers: [@Sendable () -> Void] = []
    /// The caller of ``start(within:grace:setup:)``, until answered.
    var starter: CheckedContinuation<Void, Error>?
    /// Swift task jobs of callers that prefer this thread (``TaskExecutor``), run between
    /// Python jobs (InterpreterThread+TaskExecutor.swift).
    var taskJobs = Deque<UnownedJob>()
    /// How many waits for Swift are under way on this thread, inside a job (``waitingForSwift(_:)``):
    /// task jobs then go to Swift's global executor, since the wait may be for one of them.
    var swiftWaits = 0
  }

  let kind: InterpreterKind
  let name: String
  /// The pool's shared queue this thread also serves, if any.
  let shared: SharedJobQueue?
  /// Set on the thread before ``start(setup:)`` returns, constant afterwards.
  private(set) var interpreterID: Int64 = -1

  private let condition = NSCondition()
  private var guarded = Guarded()
  /// The interpreter, for adding pending calls from other threads: cleared (under the lock)
  /// before the interpreter ends, so nothing is added to an interpreter that is going away.
  private let interpreterAccess = Mutex<UncheckedSendable<PyInterpreterPointer>?>(nil)
  /// Only touched on the thread.
  private var threadState: PyThreadStatePointer?
  /// Code objects of source text run here; only touched on the thread, attached.
  var codeCache = CodeCache()
  /// Whether this thread holds its interpreter's GIL; only touched on the thread.
  private var isAttached = false
  /// True while a Swift task job runs on this thread; only touched on the thread.
  var runsTaskJob = false
  /// Calls run inline by a task job (InterpreterThread+TaskExecutor.swift), for diagnostics.
  let inlineCalls = Atomic<Int>(0)
  /// The inline call running now and why its caller stopped waiting, if it did.
  let inlineStop = Mutex<(id: UInt64, reason: (any Error)?)>((0, nil))

  /// Jobs in the own queue, readable without the lock: the thread polls it before sleeping.
  let pending = Atomic<Int>(0)
  /// Task jobs in `guarded.taskJobs`, readable without the lock, for the same polls.
  let pendingTaskJobs = Atomic<Int>(0)
  private let pendingRequests = Atomic<Int>(0)
  /// The id of the running job (0 when none), for interrupts.
  let runningID = Atomic<UInt64>(0)
  /// Set when the start limit passed: a thread that had not begun its setup then never does.
  private let startGivenUp = Atomic<Bool>(false)
  private let isServingFlag = Atomic<Bool>(false)
  private let isAbandonedFlag = Atomic<Bool>(false)
  private let hasEndedFlag = Atomic<Bool>(false)
  private let guests: GuestThreads
  /// What to do when a job waiting in Swift is interrupted (``onInterrupt(of:_:)``).
  private let interruptHandlers = Mutex<[UInt64: @Sendable () -> Void]>([:])
  private(set) lazy var interrupter = Interrupter(thread: self)
  /// The thread state this thread runs Python in, as bits (0 until created): guest threads
  /// read where it is before raising an asynchronous interrupt in it.
  private let ownThreadState = Atomic<UInt>(0)
  /// On CPython 3.12, for interpreters that share the main GIL: when this thread began waiting
  /// for the GIL (uptime nanoseconds, 0 when not waiting), and whether a yield was asked of its
  /// interpreter and not yet run (``SharedGILReferee``).
  private let gilWaitBits = Atomic<UInt64>(0)
  let yieldAsked = Atomic<Bool>(false)
  /// Set on the thread once the interpreter exists; only read there.
  private var refereed = false
  /// Open while a job runs: interrupts land only then (see `SPyInterruptGate`).
  let gate: UnsafeMutablePointer<SPyInterruptGate> = {
    let gate = UnsafeMutablePointer<SPyInterruptGate>.allocate(capacity: 1)
    gate.initialize(to: SPyInterruptGate(open: 0, async_target: 0, thread_ident: 0))
    return gate
  }()

  static let stackSize = 16 << 20  // deep Python recursion needs C stack
  private static let polls = 200
  /// The pseudo job id of starting the interpreter (setup runs Python code a start limit may
  /// interrupt).
  private static let startingJob = UInt64.max - 1
  /// The pseudo job id of ending the interpreter (cleanup and finalization run Python code
  /// that a close deadline may interrupt).
  private static let endingJob = UInt64.max

  init(kind: InterpreterKind, name: String, shared: SharedJobQueue? = nil) {
    self.kind = kind
    self.name = name
    self.shared = shared
    self.guests = GuestThreads(name: name)
  }

  deinit { gate.deallocate() }

  /// Starts the thread, creates its interpreter there and runs `setup` on it (attached).
  /// If either fails, the interpreter is ended on its thread and the error is thrown here. With
  /// `limit`, a start that takes longer (a `.pth` file that sleeps, an audit hook that loops) is
  /// interrupted, and after `grace` given up: the caller gets ``SwiftPyError/Code/timeout`` and
  /// the thread is abandoned, ending its interpreter whenever the start finishes.
  func start(
    within limit: Duration? = nil, grace: Duration = .seconds(2),
    setup: @escaping @Sendable () throws -> Void = {}
  ) async throws {
    try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, Error>) in
      condition.withLock { guarded.starter = ready }
      let os = Thread { [self] in
        HostSignals.adoptHostMask()
        main(setup: setup)
      }
      os.name = name
      os.stackSize = InterpreterThread.stackSize
      os.start()
      guard let limit else { return }
      _ = DeadlineScheduler.shared.schedule(after: limit) { [self] in
        guard condition.withLock({ guarded.starter != nil }) else { return }
        // A thread that has not reached its setup yet (a loaded machine) must not begin it: the
        // interrupt below finds nothing to interrupt, and nobody would stop it later.
        startGivenUp.store(true, ordering: .sequentiallyConsistent)
        _ = interrupter.interrupt(
          job: InterpreterThread.startingJob, because: "it did not start within \(limit)", grace: grace)
        _ = DeadlineScheduler.shared.schedule(after: grace) { [self] in
          abandon(
            SwiftPyError(
              .timeout, "'\(name)' did not start within \(limit) (and \(grace) more after an interrupt)"))
        }
      }
    }
  }

  /// Answers the caller of ``start(within:grace:setup:)`` once.
  private func answerStart(_ result: Result<Void, Error>) {
    condition.withLock { () -> CheckedContinuation<Void, Error>? in
      defer { guarded.starter = nil }
      return guarded.starter
    }?.resume(with: result)
  }

  /// The interpreter thread the caller is running on, if any.
  static var current: InterpreterThread? {
    spy_current_thread().map { Unmanaged<InterpreterThread>.fromOpaque($0).takeUnretainedValue() }
  }

  var isCurrent: Bool { spy_current_thread() == Unmanaged.passUnretained(self).toOpaque() }

  /// True on this thread inside a job — the interpreter attached, Python allowed. Not while a
  /// Swift task job runs here between jobs (InterpreterThread+TaskExecutor.swift): the thread is
  /// the right one, but it holds no GIL and runs no job, so Python objects must not be touched.
  var runsPythonHere: Bool { isCurrent && runningID.load(ordering: .relaxed) != 0 }

  /// True while a job is running (Python code may be executing).
  var isBusy: Bool { runningID.load(ordering: .relaxed) != 0 }

  /// The running job's id, 0 when none.
  var runningJobID: UInt64 { runningID.load(ordering: .acquiring) }

  /// True while job `id` runs here — itself, or waiting in Swift under a nested job.
  func isRunning(jobID id: UInt64) -> Bool {
    guard id != 0 else { return false }
    if runningID.load(ordering: .acquiring) == id { return true }
    return condition.withLock { guarded.outer.contains { $0.id == id } }
  }

  /// True while the thread takes work.
  var isOpen: Bool { isServingFlag.load(ordering: .acquiring) }

  /// True once the thread was taken out of service after a stuck call.
  var isAbandoned: Bool { isAbandonedFlag.load(ordering: .acquiring) }

  /// True once the thread has finished (its interpreter ended, or never started).
  var hasEnded: Bool { hasEndedFlag.load(ordering: .acquiring) }

  /// Callers' requests in the own queue, not yet started.
  var queuedRequests: Int { pendingRequests.load(ordering: .relaxed) }

  /// True when the running job's caller stopped waiting (a timeout, a cancellation): long work
  /// of SwiftPy's own inside a job (converting a huge value) checks it and gives up.
  var stopRequested: Bool {
    let running = runningID.load(ordering: .acquiring)
    return running != 0 && interrupter.target.load(ordering: .acquiring) == running
  }

  // MARK: Submitting work

  /// Queues `job` on this thread; refuses it (answering its caller) when the thread is not
  /// taking work.
  func submit(_ job: Job) {
    let refusal = condition.withLock { () -> SwiftPyError? in
      guard case .serving = guarded.phase else {
        return guarded.phase.refusal ?? SwiftPyError(.closed, "'\(name)' is not running")
      }
      job.wait(in: self)
      guarded.queue.append(job)
      pending.add(1, ordering: .releasing)
      if job.isRequest { pendingRequests.add(1, ordering: .relaxed) }
      if guarded.sleeping { condition.signal() }
      return nil
    }
    if let refusal { job.refuse(refusal) }
  }

  /// Queues housekeeping `work`; nothing happens if the thread no longer takes work. Work that
  /// runs longer than `limit` (Python reached from it loops: a `sys.path` whose `__contains__`
  /// never returns) is interrupted, and the context abandoned if it does not stop: SwiftPy's own
  /// jobs cannot wedge a context either. The limit counts from the moment the work starts, not
  /// from the queue: on a busy context it may wait behind long calls.
  func submitHousekeeping(within limit: Duration = .seconds(10), _ work: @escaping @Sendable () -> Void) {
    let watch = Mutex<(started: ContinuousClock.Instant?, timer: DeadlineScheduler.Timer?, done: Bool)>(
      (nil, nil, false))
    let job = Job(
      kind: .housekeeping,
      {
        watch.withLock { $0.started = .now }
        work()
        watch.withLock {
          $0.done = true
          $0.timer?.cancel()
        }
      },
      refuse: { _ in
        watch.withLock {
          $0.done = true
          $0.timer?.cancel()
        }
      })
    submit(job)
    // Checks after `delay`: interrupts work that has run for `limit`, waits more for work that
    // has not started or not run that long.
    @Sendable func check(after delay: Duration) {
      watch.withLock { state in
        guard !state.done else { return }
        // Strong: a weak reference would give the thread a side table, and every retain of it
        // (each PythonObject holds one) would take the runtime's slow path.
        state.timer = DeadlineScheduler.shared.schedule(after: delay) { [self] in
          let started = watch.withLock { $0.done ? nil : ($0.started ?? .now) }
          guard let started else { return }
          let ran = ContinuousClock.now - started
          if ran < limit { return check(after: limit - ran) }
          _ = interrupter.interrupt(
            job: job.id, because: "SwiftPy's own work did not finish within \(limit)", grace: .seconds(2))
        }
      }
    }
    check(after: limit)
  }

  // MARK: Task jobs (InterpreterThread+TaskExecutor.swift)

  /// Queues a task job; false when the thread takes none now: not serving, or waiting for Swift
  /// inside a job — perhaps for this very task (a callback that blocks until a task it started
  /// is done, a job waiting in Swift) — so the task must run elsewhere.
  func queueTaskJob(_ job: UnownedJob) -> Bool {
    condition.withLock {
      guard case .serving = guarded.phase, guarded.swiftWaits == 0 else { return false }
      guarded.taskJobs.append(job)
      pendingTaskJobs.add(1, ordering: .releasing)
      if guarded.sleeping { condition.signal() }
      return true
    }
  }

  /// The first queued task job, if any.
  func takeTaskJob() -> UnownedJob? {
    guard pendingTaskJobs.load(ordering: .acquiring) > 0 else { return nil }
    return condition.withLock {
      guard let job = guarded.taskJobs.popFirst() else { return nil }
      pendingTaskJobs.subtract(1, ordering: .relaxed)
      return job
    }
  }

  /// Every queued task job, taken out.
  func takeTaskJobs() -> [UnownedJob] {
    condition.withLock {
      defer {
        guarded.taskJobs.removeAll()
        pendingTaskJobs.store(0, ordering: .relaxed)
      }
      return Array(guarded.taskJobs)
    }
  }

  /// Runs `body` — on this thread, inside a job — as a wait for Swift: task jobs queued here go
  /// to Swift's global executor, and so do those that come until `body` returns, since `body`
  /// may be waiting for one of them (a Swift callback Python called, a job waiting in Swift).
  func waitingForSwift<T>(_ body: () throws -> T) rethrows -> T {
    condition.withLock { guarded.swiftWaits += 1 }
    defer { condition.withLock { guarded.swiftWaits -= 1 } }
    forwardTaskJobs()
    return try body()
  }

  /// Why the thread refuses work now, or nil while it serves.
  var refusal: SwiftPyError? { condition.withLock { guarded.phase.refusal } }

  /// Runs `body` on this thread with the interpreter attached and returns its result, within
  /// `timeout` (see ``JobCall``).
  func perform<T: Sendable>(
    timeout: Duration? = nil, grace: Duration = .seconds(2),
    describing what: @autoclosure () -> String = "a call",
    _ body: @escaping @Sendable () throws -> T
  ) async throws -> T {
    if isCurrent {
      // The caller's own task runs here, between Python jobs (the thread is its task
      // executor): the call runs right here, with no hop (InterpreterThread+TaskExecutor.swift).
      if let result = try await performInline(timeout: timeout, grace: grace, describing: what(), body) {
        return result
      }
      if isCurrent {
        // The thread is busy running the caller: waiting for it would deadlock.
        throw SwiftPyError(
          .invalidArgument,
          "re-entrant call: code running on interpreter thread '\(name)' waited for that same thread")
      }
    }
    return try await JobCall.perform(
      .pinned, timeout: timeout, grace: grace, describing: "\(what()) on '\(name)'", submit: submit, body)
  }

  /// Wakes the thread if it sleeps (a shared job may be waiting for it).
  func wake() {
    condition.withLock {
      guarded.wakeRequested = true
      if guarded.sleeping { condition.signal() }
    }
  }

  // MARK: Interrupts

  /// Interrupts job `job` (the running one when nil) if it is running; see ``Interrupter``.
  /// With `answering`, its caller is answered with that error at once.
  @discardableResult
  func interrupt(job: UInt64? = nil, because reason: String, answering: SwiftPyError? = nil, grace: Duration)
    -> Bool
  {
    let target = job ?? runningID.load(ordering: .acquiring)
    if let answering {
      let running = condition.withLock { guarded.running }
      if let running, running.id == target { running.refuse(answering) }
      answerInline(target, answering)  // a call run inline has no job to refuse: it hears this
    }
    return interrupter.interrupt(job: target, because: reason, grace: grace)
  }

  /// Runs `handler` when job `job` is interrupted (its caller stopped waiting) while it waits in
  /// Swift: the Swift it waits for — a callback's task — is cancelled, at every depth
  /// (ARCHITECTURE.md, "Re-entrancy"). `nil` removes it.
  func onInterrupt(of job: UInt64, _ handler: (@Sendable () -> Void)?) {
    interruptHandlers.withLock { $0[job] = handler }
  }

  /// Tells job `job`'s interrupt handler, if it has one (see ``Interrupter``).
  func interrupted(job: UInt64) {
    interruptHandlers.withLock { $0[job] }?()
  }

  /// Adds a pending call in the interpreter unless it is ending.
  func addPendingCall(_ ticket: InterruptTicket) {
    interpreterAccess.withLock { access in
      guard let interpreter = access?.value else { return }
      let retained = Unmanaged.passRetained(ticket)
      if spy_add_pending_call(interpreter, interruptCallback, retained.toOpaque()) != 0 {
        retained.release()  // the queue is full; the next repeat tries again
      }
    }
  }

  /// Raises `KeyboardInterrupt` in this thread through `PyThreadState_SetAsyncExc`, from a guest
  /// thread that checks under the GIL that job `job` still runs with the gate open.
  func sendAsyncInterrupt(to job: UInt64) {
    guard let interpreter = interpreterAccess.withLock({ $0 }) else { return }
    _ = guests.start(role: "interrupt", interpreter: interpreter.value, owner: self) { [self] in
      // Not while it runs importlib (an import lock could stay held): the next repeat comes.
      let target = ownThreadState.load(ordering: .acquiring)
      if target != 0, let state = PyThreadStatePointer(bitPattern: target), spy_runs_importlib(state) != 0 {
        return
      }
      if runningID.load(ordering: .acquiring) == job && spy_gate_is_open(gate) != 0 {
        spy_gate_aim(gate, job)
        _ = PyThreadState_SetAsyncExc(gate.pointee.thread_ident, spy_objects().pointee.KeyboardInterrupt)
      }
    }
  }

  /// The interrupt callback's check: `job` is what this thread runs now, with the gate open.
  func isRunningHere(job: UInt64) -> Bool {
    isCurrent && runningID.load(ordering: .acquiring) == job && spy_gate_is_open(gate) != 0
  }

  /// Runs the caller's Python code with the gate open (it is open for the whole job already;
  /// this keeps it open for code that runs outside a job, such as setup).
  func runInterruptibly<T>(_ body: () throws -> T) rethrows -> T {
    let wasOpen = spy_gate_exchange(gate, 1)
    defer { if wasOpen == 0 { _ = spy_gate_exchange(gate, 0) } }
    return try body()
  }

  // MARK: Guests

  /// Runs `body` on a new OS thread with a new thread state of this interpreter, leaving the
  /// interpreter's own thread free (CPython's `call_in_thread`).
  func performOnNewThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      let refusal = condition.withLock { guarded.phase.refusal }
      let interpreter = interpreterAccess.withLock { $0 }
      guard refusal == nil, let interpreter,
        guests.start(
          role: "guest", interpreter: interpreter.value, owner: self,
          { continuation.resume(with: Result { try body() }) })
      else {
        continuation.resume(
          throwing: refusal ?? SwiftPyError(.closed, "the interpreter of '\(name)' has ended"))
        return
      }
    }
  }

  // MARK: Losing and closing

  /// Takes the thread out of service at once: its pool's calls waiting here move to other
  /// contexts, pinned ones are refused with `error`, the running job's caller is answered, and
  /// the interpreter ends on its thread as soon as the running job returns (never, if it never
  /// does). The main interpreter cannot be abandoned: its running job is answered instead.
  func abandon(_ error: SwiftPyError) {
    guard kind != .main else {
      condition.withLock { guarded.running }?.refuse(error)
      return
    }
    let taken = condition.withLock {
      () -> (running: [Job], queued: [Job], waiters: [CheckedContinuation<Void, Never>])? in
      switch guarded.phase {
      case .starting, .serving, .closing: break
      case .abandoned, .ended: return nil
      }
      guarded.phase = .abandoned(refusal: error)
      // Abandoned before closed, as others read them: whoever sees the context closed can tell
      // whether it was abandoned.
      isAbandonedFlag.store(true, ordering: .releasing)
      isServingFlag.store(false, ordering: .releasing)
      let queued = takeQueue()
      let waiters = guarded.closeWaiters
      guarded.closeWaiters.removeAll()
      condition.broadcast()
      return (guarded.outer + (guarded.running.map { [$0] } ?? []), queued, waiters)
    }
    guard let taken else { return }
    forwardTaskJobs()  // the thread may never come back to run them
    answerInline(runningID.load(ordering: .acquiring), error)
    // A start given up: whichever came first — the start limit's own give-up or the interrupt's
    // escalation (both end at the grace) — the starter hears that it did not start in time.
    let startError =
      startGivenUp.load(ordering: .acquiring) && error.code != .timeout
      ? SwiftPyError(.timeout, "'\(name)' did not start in time: \(error.message)") : error
    answerStart(.failure(startError))
    for handler in condition.withLock({ guarded.abandonedHandlers }) { handler() }
    SwiftPyLog.logger.warning("\(error.message)", metadata: ["context": "\(name)"])
    shared?.leave(self)
    for job in taken.running { job.refuse(error) }  // a caller without a timeout is answered too
    shared?.requeue(taken.queued.filter { $0.kind == .movable })
    for job in taken.queued where job.kind != .movable { job.refuse(error) }
    for waiter in taken.waiters { waiter.resume() }  // nobody waits for a thread that may never return
  }

  /// Stops taking work, runs what was queued, then ends the interpreter on its thread. At
  /// `deadline` (if given) jobs still queued are refused with `refusal`, the running one is
  /// interrupted and its caller answered, and after `grace` the thread is abandoned: this
  /// returns by `deadline + grace` whatever Python does.
  func close(deadline: Duration?, grace: Duration, refusal: SwiftPyError? = nil) async {
    let refusal = refusal ?? SwiftPyError(.closed, "the context '\(name)' has been closed")
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
      let waiting = condition.withLock { () -> Bool in
        switch guarded.phase {
        case .ended, .abandoned: return false
        case .starting, .serving, .closing:
          // The main interpreter lives as long as the process (ARCHITECTURE.md, "One CPython").
          if kind == .main { return false }
        }
        if case .closing = guarded.phase {} else { guarded.phase = .closing(refusal: refusal) }
        isServingFlag.store(false, ordering: .releasing)
        guarded.closeWaiters.append(done)
        condition.broadcast()
        return true
      }
      guard waiting else {
        done.resume()
        return
      }
      shared?.leave(self)
      guard let deadline else { return }
      _ = DeadlineScheduler.shared.schedule(after: deadline) { [self] in
        let leftovers = condition.withLock { takeQueue() }
        for job in leftovers { job.refuse(refusal) }
        interrupt(because: "the context is closing", answering: refusal, grace: grace)
        // Whatever still holds the thread after the grace (a stuck call, finalization that
        // loops) does not hold up the close.
        _ = DeadlineScheduler.shared.schedule(after: grace + .milliseconds(100)) { [self] in abandon(refusal)
        }
      }
    }
  }

  /// Runs `handler` when the thread is abandoned.
  func onAbandoned(_ handler: @escaping @Sendable () -> Void) {
    condition.withLock { guarded.abandonedHandlers.append(handler) }
  }

  /// Sets what runs on the thread, attached, just before the interpreter ends — however it
  /// ends: closed, or abandoned and then returning from its stuck call.
  func setCleanup(_ cleanup: @escaping @Sendable () -> Void) {
    condition.withLock { guarded.cleanup = cleanup }
  }

  /// Empties the own queue and returns what was in it; call with the lock held.
  private func takeQueue() -> [Job] {
    let jobs = Array(guarded.queue)
    guarded.queue.removeAll()
    pending.store(0, ordering: .relaxed)
    pendingRequests.store(0, ordering: .relaxed)
    return jobs
  }

  // MARK: The thread

  private func main(setup: @Sendable () throws -> Void) {
    spy_set_current_thread(Unmanaged.passUnretained(self).toOpaque())
    spy_set_confinement_owner(Unmanaged.passUnretained(self).toOpaque())
    let attached: PyThreadStatePointer
    // Python is loaded by now unless this is the main thread, which loads it.
    refereed = kind != .main && kind != .ownGIL && SharedGILReferee.isNeeded
    do {
      if refereed { markWaitingForGIL() }
      defer { if refereed { markHoldingGIL() } }
      attached = try kind.create()
    } catch {
      finish()
      answerStart(.failure(error))
      return
    }
    ownThreadState.store(UInt(bitPattern: attached), ordering: .releasing)
    if kind == .main { refereed = SharedGILReferee.isNeeded }
    if refereed { SharedGILReferee.join(self) }
    let interpreter = PyThreadState_GetInterpreter(attached)
    interpreterID = PyInterpreterState_GetID(interpreter)
    interpreterAccess.withLock { $0 = UncheckedSendable(interpreter) }
    gate.pointee.thread_ident = PyThread_get_thread_ident()
    spy_set_thread_gate(gate)
    runningID.store(InterpreterThread.startingJob, ordering: .sequentiallyConsistent)
    do {
      if startGivenUp.load(ordering: .sequentiallyConsistent) {
        interrupter.target.store(InterpreterThread.startingJob, ordering: .releasing)
        throw SwiftPyError(.timeout, "the start was given up before its setup began")
      }
      try runInterruptibly(setup)
    } catch {
      ImportLocks.releaseHeldByThisThread()
      runningID.store(0, ordering: .releasing)
      interpreterAccess.withLock { $0 = nil }
      ownThreadState.store(0, ordering: .releasing)
      codeCache.removeAll()
      kind.end(attached)
      finish()
      // Interrupted by the start limit: say so, rather than pass on the KeyboardInterrupt.
      let gaveUp = interrupter.target.load(ordering: .acquiring) == InterpreterThread.startingJob
      answerStart(
        .failure(gaveUp ? SwiftPyError(.timeout, "'\(name)' did not start in time: \(error)") : error))
      return
    }
    runningID.store(0, ordering: .releasing)
    threadState = PyEval_SaveThread()
    let serving = condition.withLock { () -> Bool in
      guard case .starting = guarded.phase else { return false }  // given up meanwhile
      guarded.phase = .serving
      isServingFlag.store(true, ordering: .releasing)
      return true
    }
    guard serving else { return end() }
    shared?.join(self)
    answerStart(.success(()))
    serve()
  }

  /// The next job: the own queue first, then the shared queue (while serving). With
  /// `orSleep`, an empty shared queue registers the thread as idle.
  private func nextJob(orSleep: Bool = false, where accept: ((Job) -> Bool)? = nil) -> Job? {
    let own = condition.withLock { () -> Job? in
      let index = accept.map { guarded.queue.firstIndex(where: $0) } ?? (guarded.queue.isEmpty ? nil : 0)
      guard let index else { return nil }
      let job = guarded.queue.remove(at: index)
      pending.subtract(1, ordering: .relaxed)
      if job.isRequest { pendingRequests.subtract(1, ordering: .relaxed) }
      willRun(job)
      guarded.running = job
      return job
    }
    if let own { return own }
    guard isServingFlag.load(ordering: .acquiring),
      let job = shared?.pop(for: self, orSleep: orSleep, where: accept)
    else {
      return nil
    }
    condition.withLock { guarded.running = job }
    return job
  }

  /// Runs jobs until closed. The GIL stays attached while jobs keep coming and is released when
  /// there is nothing to do. Before sleeping, the thread polls briefly (yielding the CPU): a
  /// caller awaiting results one after another then finds it awake, which saves a futex wake
  /// per call; an idle thread sleeps after ~100 µs and uses no CPU.
  private func serve() {
    // Python jobs and task jobs take turns when both wait: a pool whose queue never empties
    // must not keep a task that prefers this thread from ever running.
    var taskTurn = false
    while true {
      if taskTurn, let taskJob = takeTaskJob() {
        taskTurn = false
        run(taskJob)
        continue
      }
      if let job = nextJob() {
        taskTurn = true
        run(job)
        continue
      }
      if let taskJob = takeTaskJob() {
        run(taskJob)
        continue
      }
      detach()
      var polls = 0
      while pending.load(ordering: .acquiring) == 0 && pendingTaskJobs.load(ordering: .acquiring) == 0
        && (shared?.count ?? 0) == 0 && polls < InterpreterThread.polls
      {
        sched_yield()
        polls += 1
      }
      if let job = nextJob(orSleep: true) {
        run(job)
        continue
      }
      let finished = condition.withLock { () -> Bool in
        while guarded.queue.isEmpty && guarded.taskJobs.isEmpty && !guarded.wakeRequested,
          case .serving = guarded.phase
        {
          guarded.sleeping = true
          condition.wait()
          guarded.sleeping = false
        }
        guarded.wakeRequested = false
        if case .serving = guarded.phase { return false }
        return guarded.queue.isEmpty  // closing: every queued job has run; abandoned: emptied
      }
      if finished { break }
    }
    if kind == .main { return }  // never reached: the main thread is never closed
    end()
  }

  // MARK: Re-entrancy

  /// Waits, on this thread and inside a running job, until `isDone` — serving this context's own
  /// queue meanwhile, so that work the job is waiting for may call back into the same context
  /// (a Swift callback that runs Python here) to any depth, without deadlock. Called with the
  /// interpreter attached; releases the GIL while there is nothing to run, so Python threads and
  /// interpreters sharing the GIL run meanwhile. Returns false, early, when the waiting job's
  /// caller has stopped waiting (a timeout, a cancellation): the job should then give up
  /// (ARCHITECTURE.md, "Re-entrancy"). Wake the thread (``wake()``) when `isDone` may have
  /// become true.
  func serveNested(until isDone: () -> Bool) -> Bool {
    precondition(isCurrent, "serveNested runs on the interpreter's own thread, inside a job")
    let outerID = runningID.load(ordering: .acquiring)
    let outer = condition.withLock { () -> Job? in
      if let running = guarded.running { guarded.outer.append(running) }
      return guarded.running
    }
    defer {
      runningID.store(outerID, ordering: .releasing)
      condition.withLock {
        if outer != nil { guarded.outer.removeLast() }
        guarded.running = outer
      }
      _ = spy_gate_exchange(gate, 1)
    }
    // The Swift this job waits for may be a task that prefers this thread.
    return waitingForSwift { serveNested(outerID: outerID, until: isDone) }
  }

  /// The loop of ``serveNested(until:)``.
  private func serveNested(outerID: UInt64, until isDone: () -> Bool) -> Bool {
    let waiting = Set(condition.withLock { guarded.outer.map(\.id) } + [outerID])
    let isNested = { (job: Job) in !job.betweenJobs && job.parent != 0 && waiting.contains(job.parent) }
    while !isDone() {
      if interrupter.target.load(ordering: .acquiring) == outerID { return false }
      // This context's own jobs, then its pool's: a callback may call back into the pool too.
      // Only the jobs made by the Swift that a job here waits for (their ancestors are all on
      // this thread): others wait for the thread, or run on another context, rather than nest
      // here without bound.
      if let job = nextJob(where: isNested) {
        _ = spy_gate_exchange(gate, 1)
        job.run()
        runningID.store(outerID, ordering: .releasing)
        continue
      }
      // Nothing to run: sleep without the GIL until a job arrives or the thread is woken.
      _ = spy_gate_exchange(gate, 0)
      let state = PyEval_SaveThread()
      condition.withLock {
        while !guarded.queue.contains(where: isNested) && !guarded.wakeRequested {
          guarded.sleeping = true
          condition.wait()
          guarded.sleeping = false
        }
        guarded.wakeRequested = false
      }
      attach(state)
    }
    return true
  }

  // MARK: Taking turns on a shared GIL (CPython 3.12)

  /// Takes the GIL with `state`, saying so to the referee while it waits (3.12, shared GIL).
  private func attach(_ state: PyThreadStatePointer) {
    if refereed { markWaitingForGIL() }
    PyEval_RestoreThread(state)
    if refereed { markHoldingGIL() }
  }

  func markWaitingForGIL() {
    gilWaitBits.store(max(DispatchTime.now().uptimeNanoseconds, 1), ordering: .releasing)
    SharedGILReferee.willWait()
  }

  func markHoldingGIL() {
    gilWaitBits.store(0, ordering: .releasing)
    SharedGILReferee.didTake()
  }

  /// When this thread began waiting for the GIL (uptime nanoseconds), or nil.
  var gilWaitStart: UInt64? {
    let bits = gilWaitBits.load(ordering: .acquiring)
    return bits == 0 ? nil : bits
  }

  /// Asks this thread's interpreter, through a pending call, to let the GIL go for a while.
  func askToYieldGIL() {
    guard !yieldAsked.exchange(true, ordering: .acquiringAndReleasing) else { return }
    interpreterAccess.withLock { access in
      guard let interpreter = access?.value else { return yieldAsked.store(false, ordering: .releasing) }
      let retained = Unmanaged.passRetained(self)
      if spy_add_pending_call(interpreter, yieldGILCallback, retained.toOpaque()) != 0 {
        retained.release()
        yieldAsked.store(false, ordering: .releasing)
      }
    }
  }

  /// Records that this thread takes `job`: its id first, so that whoever sees the job running
  /// (``Job/whereabouts``) can interrupt it.
  func willRun(_ job: Job) {
    runningID.store(job.id, ordering: .releasing)
    job.start(on: self)
  }

  /// Takes the GIL for this thread's work, if it does not hold it.
  func attachForWork() {
    if !isAttached, let threadState {
      attach(threadState)
      isAttached = true
    }
  }

  /// Lets the GIL go, if this thread holds it (between jobs).
  func detach() {
    if isAttached {
      threadState = PyEval_SaveThread()
      isAttached = false
    }
  }

  private func run(_ job: Job) {
    attachForWork()
    // The gate is open for the whole job: an interrupt may land anywhere in it, SwiftPy's own
    // Python work included, which is written to survive one (ARCHITECTURE.md, "Interrupts").
    _ = spy_gate_exchange(gate, 1)
    job.run()
    _ = spy_gate_exchange(gate, 0)
    if interrupter.target.load(ordering: .acquiring) == job.id { ImportLocks.releaseHeldByThisThread() }
    condition.withLock { guarded.running = nil }
    runningID.store(0, ordering: .releasing)
  }

  /// Ends the interpreter: guests first (they need the GIL to finish), then the cleanup and
  /// the interpreter itself, interruptible by a close deadline.
  private func end() {
    detach()
    guests.closeAndWait()
    guard let threadState else { return finish() }
    attach(threadState)
    runningID.store(InterpreterThread.endingJob, ordering: .releasing)
    _ = spy_gate_exchange(gate, 1)
    let cleanup = condition.withLock { guarded.cleanup }
    cleanup?()
    codeCache.removeAll()
    let verdict = PythonThreads.settle(kind: kind, name: name)
    _ = spy_gate_exchange(gate, 0)
    ImportLocks.releaseHeldByThisThread()
    interpreterAccess.withLock { $0 = nil }
    switch verdict {
    case .canEnd:
      ownThreadState.store(0, ordering: .releasing)
      kind.end(threadState)
      Sandbox.forget(interpreterID)  // only now: its teardown ran Python code, sandboxed
    case .mustStayAlive(let report):
      // Ending the interpreter under a live Python thread would crash or hang CPython: leave
      // it running, detached, and say so.
      SwiftPyLog.logger.warning("\(report)", metadata: ["context": "\(name)"])
      _ = PyEval_SaveThread()
    }
    runningID.store(0, ordering: .releasing)
    self.threadState = nil
    finish()
  }

  /// Marks the thread ended, refuses anything still queued and wakes `close()` callers.
  private func finish() {
    let (leftovers, waiters, refusal) = condition.withLock {
      let refusal = guarded.phase.refusal ?? SwiftPyError(.closed, "the interpreter of '\(name)' has ended")
      if case .abandoned = guarded.phase {} else { guarded.phase = .ended(refusal: refusal) }
      isServingFlag.store(false, ordering: .releasing)
      let waiters = guarded.closeWaiters
      guarded.closeWaiters.removeAll()
      return (takeQueue(), waiters, refusal)
    }
    forwardTaskJobs()
    if refereed { SharedGILReferee.leave(self) }
    spy_set_current_thread(nil)
    spy_set_confinement_owner(nil)
    spy_set_thread_gate(nil)
    hasEndedFlag.store(true, ordering: .releasing)
    shared?.leave(self)
    for job in leftovers { job.refuse(refusal) }
    for waiter in waiters { waiter.resume() }
  }
}

extension InterpreterThread: JobQueue {
  func remove(_ job: Job) -> Bool {
    condition.withLock {
      guard let index = guarded.queue.firstIndex(where: { $0 === job }) else { return false }
      guarded.queue.remove(at: index)
      pending.subtract(1, ordering: .relaxed)
      if job.isRequest { pendingRequests.subtract(1, ordering: .relaxed) }
      return true
    }
  }
}
