import CPythonShim
import DequeModule
import Foundation
import Synchronization

/// One pinned OS thread that creates one interpreter (or attaches to the main one), runs every
/// job for it, and ends it — all on that thread, because CPython crashes or hangs when a thread
/// state moves between threads (DESIGN decision 4).
///
/// Jobs are closures run in order with the interpreter's thread state attached. Between jobs,
/// when the queue is empty, the thread releases the GIL so that Python threads started inside
/// the interpreter, and other interpreters sharing the GIL, can run (decision 6).
///
/// Callers wait for jobs through once-only continuations rather than actor hops, so that a
/// caller can be answered — timeout, cancellation, shutdown — while the thread is still busy in
/// Python. The running job is then interrupted in its own interpreter (a pending call that
/// raises `KeyboardInterrupt`, decision 10); if it does not return within a grace period (a
/// blocking C call), the thread is abandoned: it takes no more work and ends its interpreter
/// whenever the call returns.
final class InterpreterThread: @unchecked Sendable {
  /// A unit of work. `reject` answers its caller instead of `run` (never both: callers guard
  /// with ``Answer``): when the thread cannot run it, or when it is interrupted.
  struct Job {
    let id: UInt64
    let run: () -> Void
    let reject: (SwiftPyError) -> Void
    /// False for housekeeping (dropping a namespace, a path update): not a caller's request.
    let isRequest: Bool
  }

  private enum State { case starting, running, closing, closed }

  let kind: InterpreterKind
  let name: String
  /// Set on the thread before ``start(kind:name:setup:)`` returns, constant afterwards.
  private(set) var interpreterID: Int64 = -1
  private(set) var interpreterState: PyInterpreterPointer?

  /// Guarded by `condition`.
  private let condition = NSCondition()
  private var queue = Deque<Job>()
  private var state = State.starting
  /// Why jobs are refused once the thread stops taking them.
  private var refusal: SwiftPyError
  private var nextJobID: UInt64 = 0
  private var running: Job?
  private var guests = 0
  private var closeWaiters: [CheckedContinuation<Void, Never>] = []
  private var sleeping = false
  /// Taken out of service: nobody waits for its interpreter to end (it may never).
  private var abandoned = false
  /// Set once the interpreter is about to end: no more guests are admitted.
  private var ending = false
  /// Run on the thread, attached, just before the interpreter ends (dropping references).
  private var cleanup: (@Sendable () -> Void)?
  /// Jobs queued, readable without the lock: the thread polls it briefly before sleeping.
  private let pending = Atomic<Int>(0)
  /// Queued jobs that are callers' requests (statistics).
  private let pendingRequests = Atomic<Int>(0)
  /// The id of the running job (0 when none), for the interrupt callback.
  private let runningID = Atomic<UInt64>(0)
  /// Open only while the caller's own Python code runs (``runInterruptibly(_:)``); see
  /// `SPyInterruptGate`. Also read by ``PythonError/fetch()`` through the thread-local gate.
  private let gate: UnsafeMutablePointer<SPyInterruptGate> = {
    let gate = UnsafeMutablePointer<SPyInterruptGate>.allocate(capacity: 1)
    gate.initialize(to: SPyInterruptGate(open: 0, async_target: 0, thread_ident: 0))
    return gate
  }()

  /// Only touched on the thread.
  private var threadState: PyThreadStatePointer?

  private static let stackSize = 16 << 20  // deep Python recursion needs C stack
  private static let polls = 200

  private init(kind: InterpreterKind, name: String) {
    self.kind = kind
    self.name = name
    self.refusal = SwiftPyError(.closed, "the interpreter of '\(name)' has been closed")
  }

  deinit { gate.deallocate() }

  /// Starts the thread, creates its interpreter there and runs `setup` on it (attached).
  /// If either fails, the interpreter is ended on its thread and the error is thrown here.
  static func start(
    kind: InterpreterKind, name: String,
    setup: @escaping @Sendable () throws -> Void = {}
  ) async throws -> InterpreterThread {
    let thread = InterpreterThread(kind: kind, name: name)
    try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, Error>) in
      let os = Thread { thread.main(setup: setup, ready: ready) }
      os.name = name
      os.stackSize = stackSize
      os.start()
    }
    return thread
  }

  /// The interpreter thread the caller is running on, if any.
  static var current: InterpreterThread? {
    spy_current_thread().map { Unmanaged<InterpreterThread>.fromOpaque($0).takeUnretainedValue() }
  }

  var isCurrent: Bool { spy_current_thread() == Unmanaged.passUnretained(self).toOpaque() }

  /// True while a job is running (Python code may be executing).
  var isBusy: Bool { runningID.load(ordering: .relaxed) != 0 }

  /// False once the thread has started closing (or was abandoned); jobs submitted then are
  /// refused.
  var isOpen: Bool { condition.withLock { state == .running || state == .starting } }

  /// Callers' requests queued and not yet started.
  var queuedRequests: Int { pendingRequests.load(ordering: .relaxed) }

  // MARK: Submitting work

  /// Queues `run`; returns the job id, or nil when the thread is not taking work (then `reject`
  /// has already been called).
  @discardableResult
  func submit(
    _ run: @escaping @Sendable () -> Void,
    reject: @escaping @Sendable (SwiftPyError) -> Void,
    isRequest: Bool = true
  ) -> UInt64? {
    condition.lock()
    guard state == .running else {
      let refusal = refusal
      condition.unlock()
      reject(refusal)
      return nil
    }
    nextJobID &+= 1
    let id = nextJobID
    queue.append(Job(id: id, run: run, reject: reject, isRequest: isRequest))
    pending.add(1, ordering: .releasing)
    if isRequest { pendingRequests.add(1, ordering: .relaxed) }
    if sleeping { condition.signal() }
    condition.unlock()
    return id
  }

  /// Runs `body` on the thread with the interpreter attached and returns its result.
  ///
  /// The caller is answered at once when its task is cancelled (`CancellationError`) or after
  /// `timeout` (``SwiftPyError/Code/timeout``): a queued job is removed without running;
  /// a running one is interrupted, and the thread abandoned if it does not stop within `grace`.
  func perform<T: Sendable>(
    timeout: Duration? = nil, grace: Duration = .seconds(2),
    describing what: @autoclosure () -> String = "a call",
    _ body: @escaping @Sendable () throws -> T
  ) async throws -> T {
    if isCurrent {
      // The thread is busy running the caller: waiting for it would deadlock.
      throw SwiftPyError(
        .invalidArgument,
        "re-entrant call: code running on interpreter thread '\(name)' waited for that same thread")
    }
    let answer = Answer<T>()
    let description = timeout == nil ? "" : what()
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        guard answer.install(continuation) else { return }  // cancelled before it was queued
        let id = submit(
          { answer.resume(with: Result { try body() }) },
          reject: { answer.resume(with: .failure($0)) })
        guard let id else { return }
        if answer.queued(as: id) {  // cancelled between queueing and now
          stop(job: id, answer: answer, grace: grace, error: nil)
          return
        }
        if let timeout {
          answer.startTimer(after: timeout) { [self] in
            stop(
              job: id, answer: answer, grace: grace,
              error: SwiftPyError(
                .timeout, "\(description) on '\(name)' did not finish within \(timeout) and was interrupted"))
          }
        }
      }
    } onCancel: {
      guard let id = answer.cancel() else { return }
      stop(job: id, answer: answer, grace: grace, error: nil)
    }
  }

  /// Answers `answer` with `error` (or `CancellationError`), then removes its job if queued or
  /// interrupts it if running.
  private func stop<T>(job id: UInt64, answer: Answer<T>, grace: Duration, error: SwiftPyError?) {
    if let error {
      answer.resume(with: .failure(error))
    } else {
      answer.resume(with: .failure(CancellationError()))
    }
    if removeQueued(id) { return }
    interrupt(job: id, because: error?.message ?? "the calling task was cancelled", grace: grace)
  }

  /// Removes a job that has not started; false when it already ran or runs now.
  private func removeQueued(_ id: UInt64) -> Bool {
    condition.withLock {
      guard let index = queue.firstIndex(where: { $0.id == id }) else { return false }
      pending.subtract(1, ordering: .relaxed)
      if queue[index].isRequest { pendingRequests.subtract(1, ordering: .relaxed) }
      queue.remove(at: index)
      return true
    }
  }

  // MARK: Interrupting

  /// Interrupts the running job (`job`, or whichever runs now): its caller is answered with
  /// `error` if given, `KeyboardInterrupt` is raised in it at the next bytecode boundary, and if
  /// it is still running after `grace` — a blocking C call — the thread is abandoned. Returns
  /// false when nothing (or another job) is running.
  @discardableResult
  func interrupt(
    job: UInt64? = nil, because reason: String, answering error: SwiftPyError? = nil,
    grace: Duration = .seconds(2)
  ) -> Bool {
    let target: Job? = condition.withLock {
      guard let running, job == nil || running.id == job else { return nil }
      return running
    }
    guard let target else { return false }
    if let error { target.reject(error) }
    // A pending call lands within ~0.1 ms in a sub-interpreter. The main interpreter runs
    // pending calls on the process's main thread only, so worker threads get an asynchronous
    // exception instead (~5 ms: it needs the GIL), as does anyone the pending call missed.
    if kind == .worker || kind == .main {
      sendAsyncInterrupt(to: target.id)
    } else {
      sendInterrupt(to: target.id, reason: reason)
    }
    Task.detached { [self] in
      // Python code may swallow one KeyboardInterrupt: repeat it until the grace runs out. In a
      // sub-interpreter the pending call is enough; the asynchronous exception (a thread and
      // the GIL per attempt) is only a fallback there.
      let clock = ContinuousClock()
      let deadline = clock.now + grace
      var attempt = 0
      while clock.now < deadline {
        try? await Task.sleep(for: .milliseconds(50))
        guard runningID.load(ordering: .acquiring) == target.id else { return }
        attempt += 1
        sendInterrupt(to: target.id, reason: reason)
        if kind == .worker || kind == .main || attempt % 5 == 0 { sendAsyncInterrupt(to: target.id) }
      }
      guard runningID.load(ordering: .acquiring) == target.id else { return }
      let stuck = SwiftPyError(
        .closed,
        "'\(name)' was taken out of service: a call did not return within \(grace) of being interrupted "
          + "(\(reason)); a blocking C call cannot be interrupted")
      if kind == .main {
        // The main interpreter cannot be replaced: answer the caller and let the call run on.
        target.reject(stuck)
      } else {
        abandon(stuck)
      }
    }
    return true
  }

  /// Schedules a pending call in this interpreter that raises `KeyboardInterrupt` if job `id`
  /// is still the one running when the eval loop gets to it — never in a later job.
  private func sendInterrupt(to id: UInt64, reason: String) {
    guard let interpreterState else { return }
    let ticket = Unmanaged.passRetained(InterruptTicket(thread: self, job: id, reason: reason))
    if spy_add_pending_call(interpreterState, interruptCallback, ticket.toOpaque()) != 0 {
      ticket.release()  // the queue is full; the next repeat tries again
    }
  }

  /// Raises `KeyboardInterrupt` in this thread through `PyThreadState_SetAsyncExc`, from a
  /// short-lived thread that attaches to the interpreter (so the interpreter is not ended
  /// meanwhile: it counts as a guest) and checks under the GIL that job `id` still runs.
  private func sendAsyncInterrupt(to id: UInt64) {
    _ = startGuest(named: "interrupt", admittedWhileClosing: true) { [self] in
      if runningID.load(ordering: .acquiring) == id && spy_gate_is_open(gate) != 0 {
        spy_gate_aim(gate, id)
        _ = PyThreadState_SetAsyncExc(gate.pointee.thread_ident, spy_objects().pointee.KeyboardInterrupt)
      }
    }
  }

  /// Runs `body` on a new OS thread with a new thread state of this interpreter attached. The
  /// interpreter is not ended while such a guest runs (``serve()`` waits for guests). Returns
  /// false, running nothing, when the thread no longer admits guests.
  private func startGuest(
    named role: String, admittedWhileClosing: Bool = false, _ body: @escaping @Sendable () -> Void
  ) -> Bool {
    let admitted = condition.withLock {
      guard state == .running || (admittedWhileClosing && state == .closing), !ending, interpreterState != nil
      else { return false }
      guests += 1
      return true
    }
    guard admitted else { return false }
    let os = Thread { [self] in
      let state = PyThreadState_New(interpreterState!)!
      PyEval_RestoreThread(state)
      body()
      PyThreadState_Clear(state)
      PyThreadState_DeleteCurrent()
      condition.withLock {
        guests -= 1
        condition.broadcast()
      }
    }
    os.name = "\(name)-\(role)"
    os.stackSize = InterpreterThread.stackSize
    os.start()
    return true
  }

  fileprivate final class InterruptTicket {
    let thread: InterpreterThread
    let job: UInt64
    let reason: String
    init(thread: InterpreterThread, job: UInt64, reason: String) {
      self.thread = thread
      self.job = job
      self.reason = reason
    }
  }

  /// Stops taking work at once: queued jobs are refused with `error`, and the interpreter is
  /// ended on its thread as soon as the running job returns (never, if it never does).
  func abandon(_ error: SwiftPyError) {
    condition.lock()
    guard state == .running || state == .closing, kind != .main else {
      condition.unlock()
      return
    }
    state = .closing
    abandoned = true
    refusal = error
    let leftovers = takeQueue()
    let stuck = running
    let waiters = closeWaiters
    closeWaiters.removeAll()
    condition.broadcast()
    condition.unlock()
    stuck?.reject(error)  // a caller without a timeout is answered too
    for job in leftovers { job.reject(error) }
    for waiter in waiters { waiter.resume() }  // nobody waits for a thread that may never return
  }

  /// Empties the queue and returns what was in it; call with the lock held.
  private func takeQueue() -> [Job] {
    let jobs = Array(queue)
    queue.removeAll()
    pending.store(0, ordering: .relaxed)
    pendingRequests.store(0, ordering: .relaxed)
    return jobs
  }

  // MARK: Guests and closing

  /// Runs `body` on a new OS thread with a new thread state of this interpreter, leaving the
  /// interpreter's own thread free (CPython's `call_in_thread`). The interpreter is not ended
  /// while such a guest runs.
  func performOnNewThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      let started = startGuest(named: "guest") { continuation.resume(with: Result { try body() }) }
      if !started { continuation.resume(throwing: condition.withLock { refusal }) }
    }
  }

  /// Stops taking work, lets queued jobs finish, then ends the interpreter on its thread.
  /// With a `deadline`, jobs still queued then are refused with ``SwiftPyError/Code/shuttingDown``
  /// and the running one is interrupted (and abandoned after `grace`). Returns when the
  /// interpreter has ended or the thread was abandoned.
  /// `cleanup` runs on the thread, attached, just before the interpreter ends — whatever was
  /// refused or interrupted on the way.
  func close(deadline: Duration? = nil, grace: Duration = .seconds(2), cleanup: (@Sendable () -> Void)? = nil)
    async
  {
    let shutdown = SwiftPyError(.shuttingDown, "'\(name)' is shutting down")
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
      condition.lock()
      if state == .closed || abandoned || kind == .main {
        // Closed already; abandoned (its interpreter ends when a stuck call returns, if ever);
        // or the main interpreter, which lives as long as the process (DESIGN decision 11).
        condition.unlock()
        done.resume()
        return
      }
      if state != .closing {
        state = .closing
        refusal = deadline == nil ? refusal : shutdown
      }
      if let cleanup, self.cleanup == nil { self.cleanup = cleanup }
      closeWaiters.append(done)
      condition.broadcast()
      condition.unlock()
      guard let deadline else { return }
      Task.detached { [self] in
        try? await Task.sleep(for: deadline)
        let leftovers: [Job] = condition.withLock { state == .closing ? takeQueue() : [] }
        for job in leftovers { job.reject(shutdown) }
        interrupt(because: "the runtime is shutting down", answering: shutdown, grace: grace)
        // Whatever still holds the thread after the grace (a stuck call, a guest thread in a
        // blocking call) does not hold up the shutdown.
        try? await Task.sleep(for: grace + .milliseconds(100))
        abandon(shutdown)
      }
    }
  }

  // MARK: The thread

  private func main(setup: @Sendable () throws -> Void, ready: CheckedContinuation<Void, Error>) {
    spy_set_current_thread(Unmanaged.passUnretained(self).toOpaque())
    let attached: PyThreadStatePointer
    do {
      attached = try kind.create()
    } catch {
      finish()
      ready.resume(throwing: error)
      return
    }
    let interpreter = PyThreadState_GetInterpreter(attached)
    interpreterState = interpreter
    interpreterID = PyInterpreterState_GetID(interpreter)
    gate.pointee.thread_ident = PyThread_get_thread_ident()
    spy_set_thread_gate(gate)
    do {
      try setup()
    } catch {
      kind.end(attached)
      interpreterState = nil
      finish()
      ready.resume(throwing: error)
      return
    }
    threadState = PyEval_SaveThread()
    condition.withLock { state = .running }
    ready.resume()
    serve()
  }

  /// Runs jobs until closed. The GIL stays attached while jobs keep coming and is released
  /// whenever the queue runs dry. Before sleeping, the thread polls briefly (yielding the CPU):
  /// a caller awaiting results one after another then finds it awake, which saves a futex wake
  /// per call; an idle thread sleeps after ~100 µs and uses no CPU.
  private func serve() {
    var attached = false
    while true {
      if pending.load(ordering: .acquiring) == 0 {
        if attached {
          threadState = PyEval_SaveThread()
          attached = false
        }
        var polls = 0
        while pending.load(ordering: .acquiring) == 0 && polls < InterpreterThread.polls {
          sched_yield()
          polls += 1
        }
      }
      condition.lock()
      while queue.isEmpty && state == .running {
        sleeping = true
        condition.wait()
        sleeping = false
      }
      guard let job = queue.popFirst() else {
        condition.unlock()
        break  // closing, and every queued job has run
      }
      pending.subtract(1, ordering: .relaxed)
      if job.isRequest { pendingRequests.subtract(1, ordering: .relaxed) }
      running = job
      runningID.store(job.id, ordering: .releasing)
      condition.unlock()
      if !attached {
        PyEval_RestoreThread(threadState!)
        attached = true
      }
      job.run()
      condition.withLock {
        running = nil
        runningID.store(0, ordering: .releasing)
      }
    }
    if kind == .main { return }  // never reached: the main thread is never closed
    // Guest threads (performOnNewThread) must finish first; they need the GIL to do so.
    if attached { threadState = PyEval_SaveThread() }
    let cleanup: (@Sendable () -> Void)? = condition.withLock {
      while guests > 0 {
        sleeping = true
        condition.wait()
        sleeping = false
      }
      ending = true  // from here on no thread state may join this interpreter
      return self.cleanup
    }
    PyEval_RestoreThread(threadState!)
    cleanup?()
    if let survivors = PythonThreads.joinOrReport(kind: kind, name: name) {
      // Ending the interpreter under a live Python thread would crash or hang CPython: leave
      // it running, detached, and say so.
      FileHandle.standardError.write(Data("swiftpy: \(survivors)\n".utf8))
      _ = PyEval_SaveThread()
    } else {
      kind.end(threadState!)
    }
    threadState = nil
    condition.withLock { interpreterState = nil }
    finish()
  }

  /// Marks the thread closed, refuses anything still queued and wakes `close()` callers.
  private func finish() {
    condition.lock()
    state = .closed
    let leftovers = takeQueue()
    let waiters = closeWaiters
    closeWaiters.removeAll()
    let refusal = refusal
    condition.unlock()
    spy_set_current_thread(nil)
    spy_set_thread_gate(nil)
    for job in leftovers { job.reject(refusal) }
    for waiter in waiters { waiter.resume() }
  }

  /// The interrupt callback's check: `job` is what this thread runs now, in the caller's code.
  fileprivate func isRunning(job: UInt64) -> Bool {
    isCurrent && runningID.load(ordering: .acquiring) == job && spy_gate_is_open(gate) != 0
  }

  /// Runs the caller's Python code — the only code an interrupt may stop. On the way out, an
  /// asynchronous exception that has not fired yet is dropped (the GIL is held throughout, so
  /// no new one can arrive in between).
  func runInterruptibly<T>(_ body: () throws -> T) rethrows -> T {
    let wasOpen = spy_gate_exchange(gate, 1)
    defer { if wasOpen == 0 { _ = spy_gate_exchange(gate, 0) } }
    return try body()
  }
}

/// Runs in the interpreter's eval loop (GIL held) when a pending call comes due.
private let interruptCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { raw in
  let ticket = Unmanaged<InterpreterThread.InterruptTicket>.fromOpaque(raw!).takeRetainedValue()
  guard ticket.thread.isRunning(job: ticket.job) else { return 0 }  // that job has ended
  PyErr_SetString(spy_objects().pointee.KeyboardInterrupt, "interrupted by SwiftPy: \(ticket.reason)")
  return -1
}

extension NSCondition {
  fileprivate func withLock<T>(_ body: () throws -> T) rethrows -> T {
    lock()
    defer { unlock() }
    return try body()
  }
}
