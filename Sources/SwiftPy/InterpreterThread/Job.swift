import Synchronization

/// A unit of work for an interpreter thread, and where it is: waiting in a queue, running on a
/// thread, or finished. A caller who stops waiting (timeout, cancellation, shutdown) asks the
/// job where it is: a waiting job is taken out of its queue, a running one is interrupted
/// (ARCHITECTURE.md, "Jobs and queues").
final class Job: Sendable {
  enum Kind: Sendable {
    /// A caller's request that must run on this very context (a lease's call, a context's own
    /// namespace): it fails if the context is lost.
    case pinned
    /// A one-shot call that any context of its pool can run: it moves to another context
    /// rather than fail when its context is lost before starting it.
    case movable
    /// SwiftPy's own work (dropping a namespace, a path update): not a caller's request.
    case housekeeping
  }

  enum Place {
    case waiting(any JobQueue)
    case running(InterpreterThread)
    case finished
  }

  let id: UInt64
  let kind: Kind
  /// Runs only between two jobs, never inside one: a job waiting for Swift that serves its
  /// queue meanwhile (``InterpreterThread/serveNested(until:)``) leaves it queued (a reload,
  /// ARCHITECTURE.md, "Hot reload").
  let betweenJobs: Bool
  /// The job waiting in Swift (``InterpreterThread/serveNested(until:)``) on whose behalf this
  /// one was made — by the Swift it waits for — or 0. Only such jobs run nested in it.
  let parent: UInt64

  /// Set for the Swift a waiting job waits for (a callback's task): jobs it makes are that job's
  /// children (ARCHITECTURE.md, "Re-entrancy").
  @TaskLocal static var waitingParent: UInt64 = 0
  /// Runs on the interpreter thread with the interpreter attached; answers the caller.
  private let work: @Sendable () -> Void
  /// Answers the caller with an error instead of running.
  private let refusal: @Sendable (SwiftPyError) -> Void
  private let place: Mutex<Place>

  private static let serials = Atomic<UInt64>(0)

  /// A new job id, for work that runs without a `Job` (a call run inline on its thread).
  static func nextID() -> UInt64 { serials.wrappingAdd(1, ordering: .relaxed).newValue }

  init(
    kind: Kind, betweenJobs: Bool = false, _ work: @escaping @Sendable () -> Void,
    refuse: @escaping @Sendable (SwiftPyError) -> Void
  ) {
    self.id = Job.nextID()
    self.kind = kind
    self.betweenJobs = betweenJobs
    self.parent = Job.waitingParent
    self.work = work
    self.refusal = refuse
    self.place = Mutex(.finished)
  }

  var isRequest: Bool { kind != .housekeeping }

  /// Where the job is now.
  var whereabouts: Place { place.withLock { $0 } }

  /// Records the queue the job waits in.
  func wait(in queue: any JobQueue) { place.withLock { $0 = .waiting(queue) } }

  /// Records that `thread` took the job out of its queue to run it.
  func start(on thread: InterpreterThread) { place.withLock { $0 = .running(thread) } }

  /// Runs the job (on its thread) and records that it finished.
  func run() {
    work()
    place.withLock { $0 = .finished }
  }

  /// Answers the caller with `error` instead of running the job.
  func refuse(_ error: SwiftPyError) {
    place.withLock { $0 = .finished }
    refusal(error)
  }
}

/// A queue jobs wait in: an interpreter thread's own, or a pool's shared one.
protocol JobQueue: AnyObject, Sendable {
  /// Takes `job` out if it is still waiting; false when it has started (or was refused).
  func remove(_ job: Job) -> Bool
}
