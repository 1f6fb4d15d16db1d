import DequeModule
import Synchronization

/// Jobs that any of several interpreter threads may run: a pool's one-shot calls. A thread runs
/// its own queue first and takes from here when it has nothing of its own, so a call never
/// waits behind a long call while another context is idle (work stealing), and a context that
/// is lost takes no call with it: calls wait here, not on a context (ARCHITECTURE.md, "Jobs and
/// queues").
///
/// A thread leased to one caller takes no shared jobs: a lease is exclusive, and a one-shot call
/// that got stuck on a leased context would get it abandoned and the lease's namespace lost with
/// it — a call failing because another call got a context stuck. When every member is leased,
/// one-shot calls wait for a lease to end, within their own timeout.
final class SharedJobQueue: JobQueue {
  private struct State {
    var jobs = Deque<Job>()
    var members: [InterpreterThread] = []
    var leased = Set<ObjectIdentifier>()
    /// Members sleeping with nothing to do, oldest first; a new job wakes one.
    var idle: [InterpreterThread] = []
    /// Set when the queue's owner stops: everything queued is refused, later pushes too.
    var refusal: SwiftPyError?

    func mayServe(_ thread: InterpreterThread) -> Bool {
      !leased.contains(ObjectIdentifier(thread))
    }
  }

  private let state = Mutex(State())
  /// Jobs waiting, readable without the lock: idle threads poll it briefly before sleeping.
  private let waiting = Atomic<Int>(0)

  /// Jobs waiting now.
  var count: Int { waiting.load(ordering: .acquiring) }

  /// Queues `job` and wakes an idle member that may run it — `preferred` when it is idle
  /// (affinity), else the one idle longest. Refuses the job when the queue was stopped.
  func push(_ job: Job, preferring preferred: InterpreterThread? = nil) {
    job.wait(in: self)
    let (refusal, wake, members) = state.withLock {
      state -> (SwiftPyError?, InterpreterThread?, [InterpreterThread]) in
      if let refusal = state.refusal { return (refusal, nil, []) }
      state.jobs.append(job)
      waiting.add(1, ordering: .releasing)
      return (nil, takeIdle(&state, preferring: preferred), job.parent == 0 ? [] : state.members)
    }
    if let refusal { job.refuse(refusal) }
    wake?.wake()
    // A job made by Swift that a job of this pool waits for: that job's thread may run it.
    members.first { $0.isRunning(jobID: job.parent) }?.wake()
  }

  /// Puts jobs back at the front, in order (from a context lost before it started them).
  func requeue(_ jobs: [Job]) {
    guard !jobs.isEmpty else { return }
    for job in jobs { job.wait(in: self) }
    let (refusal, wake) = state.withLock { state -> (SwiftPyError?, [InterpreterThread]) in
      if let refusal = state.refusal { return (refusal, []) }
      state.jobs.insert(contentsOf: jobs, at: 0)
      waiting.add(jobs.count, ordering: .releasing)
      var woken: [InterpreterThread] = []
      while woken.count < jobs.count, let thread = takeIdle(&state, preferring: nil) { woken.append(thread) }
      return (nil, woken)
    }
    if let refusal { for job in jobs { job.refuse(refusal) } }
    for thread in wake { thread.wake() }
  }

  /// The next job `thread` may run, or nil. With `orSleep`, a thread that finds nothing is
  /// registered as idle (atomically with the check, so no push is missed) and will be woken.
  func pop(for thread: InterpreterThread, orSleep: Bool = false, where accept: ((Job) -> Bool)? = nil) -> Job?
  {
    let job = state.withLock { state -> Job? in
      if let accept {  // a thread waiting in Swift takes only the jobs made for it
        guard let index = state.jobs.firstIndex(where: accept) else { return nil }
        let job = state.jobs.remove(at: index)
        waiting.subtract(1, ordering: .relaxed)
        thread.willRun(job)
        return job
      }
      if state.mayServe(thread), let job = state.jobs.popFirst() {
        waiting.subtract(1, ordering: .relaxed)
        // Under the lock: a job out of the queue is always "running", with its id already
        // visible to interrupts.
        thread.willRun(job)
        return job
      }
      if orSleep && !state.idle.contains(where: { $0 === thread }) { state.idle.append(thread) }
      return nil
    }
    return job
  }

  func remove(_ job: Job) -> Bool {
    state.withLock { state in
      guard let index = state.jobs.firstIndex(where: { $0 === job }) else { return false }
      state.jobs.remove(at: index)
      waiting.subtract(1, ordering: .relaxed)
      return true
    }
  }

  /// Adds a thread that takes jobs from here.
  func join(_ thread: InterpreterThread) {
    let wake = state.withLock { state -> Bool in
      state.members.append(thread)
      return !state.jobs.isEmpty
    }
    if wake { thread.wake() }
  }

  /// Removes a thread (closing, or lost).
  func leave(_ thread: InterpreterThread) {
    let wake = state.withLock { state -> [InterpreterThread] in
      state.members.removeAll { $0 === thread }
      state.idle.removeAll { $0 === thread }
      state.leased.remove(ObjectIdentifier(thread))
      return state.jobs.isEmpty ? [] : state.idle
    }
    for thread in wake { thread.wake() }
  }

  /// Marks a member leased (it then takes no shared jobs) or free again (woken if jobs wait).
  func setLeased(_ thread: InterpreterThread, _ leased: Bool) {
    let wake = state.withLock { state -> [InterpreterThread] in
      if leased {
        state.leased.insert(ObjectIdentifier(thread))
      } else {
        state.leased.remove(ObjectIdentifier(thread))
      }
      return state.jobs.isEmpty ? [] : state.idle
    }
    for thread in wake { thread.wake() }
  }

  /// Stops the queue: everything waiting is refused with `error`, and so is every later push.
  func stop(_ error: SwiftPyError) {
    let jobs = state.withLock { state -> [Job] in
      state.refusal = state.refusal ?? error
      defer { state.jobs.removeAll() }
      waiting.store(0, ordering: .relaxed)
      return Array(state.jobs)
    }
    for job in jobs { job.refuse(error) }
  }

  /// Refuses every job waiting now with `error` (no context can run them), keeping the queue
  /// open for later ones.
  func refuseWaiting(_ error: SwiftPyError) {
    let jobs = state.withLock { state -> [Job] in
      defer { state.jobs.removeAll() }
      waiting.store(0, ordering: .relaxed)
      return Array(state.jobs)
    }
    for job in jobs { job.refuse(error) }
  }

  /// Whether `thread` may run this queue's jobs now (it is not leased).
  func mayServe(_ thread: InterpreterThread) -> Bool { state.withLock { $0.mayServe(thread) } }

  /// Queued calls that are callers' requests (statistics).
  var queuedRequests: Int { state.withLock { $0.jobs.count { $0.isRequest } } }

  private func takeIdle(_ state: inout State, preferring preferred: InterpreterThread?) -> InterpreterThread?
  {
    if let preferred, let index = state.idle.firstIndex(where: { $0 === preferred }),
      state.mayServe(preferred)
    {
      return state.idle.remove(at: index)
    }
    guard let index = state.idle.firstIndex(where: { state.mayServe($0) }) else { return nil }
    return state.idle.remove(at: index)
  }
}
