import CPythonShim
import Foundation
import Synchronization

/// Makes interpreters that share the main interpreter's GIL take turns on CPython 3.12
/// (ARCHITECTURE.md, "One thread per interpreter").
///
/// A thread waiting for the GIL asks its holder to drop it after the switch interval (5 ms) by
/// setting a request that the holder's eval loop checks. On 3.12 that request is set on the
/// *waiting* thread's interpreter, so a thread of another interpreter that shares the GIL — a
/// busy `subinterp` context, seen from a worker or another subinterp context — never sees it,
/// and keeps the GIL until it blocks or ends: a 2 s call timed out behind a 4 s loop. (3.13
/// sets the request where the holder sees it.)
///
/// So on 3.12 SwiftPy referees: its threads of GIL-sharing interpreters say when they wait for
/// the GIL; when one has waited longer than the switch interval, a referee thread adds a
/// pending call to the interpreters of the others that run a job, and the one running Python executes it at its
/// next eval-loop check: it releases the GIL, lets the waiting threads take it (up to one
/// switch interval), and waits its turn. Waits are then bounded by about two switch intervals
/// plus the referee's poll, whatever runs beside them. Threads Python itself started wait
/// unrefereed, as they would in any 3.12 program, but a busy one is asked to yield like the rest.
enum SharedGILReferee {
  /// True when the loaded CPython needs refereeing: 3.12.x.
  static let isNeeded: Bool = {
    let version = spy_python_version_hex()
    return version >> 16 == 0x030C
  }()

  /// The switch interval CPython uses by default, and the referee's patience.
  static let interval: Duration = .milliseconds(5)

  /// Threads of GIL-sharing interpreters, while they serve.
  private static let players = Mutex<[ObjectIdentifier: Player]>([:])
  /// How many of them wait for the GIL now.
  private static let waiting = Atomic<Int>(0)
  private static let wakeReferee = DispatchSemaphore(value: 0)
  private static let refereeStarted = Atomic<Bool>(false)

  private struct Player {
    /// Strong: a player leaves when its interpreter ends. (A weak reference would give every
    /// interpreter thread a side table, and every retain of it — each PythonObject holds one —
    /// would take the runtime's slow path.)
    let thread: InterpreterThread
  }

  /// `thread`, whose interpreter shares the main GIL, takes part from now on.
  static func join(_ thread: InterpreterThread) {
    players.withLock { $0[ObjectIdentifier(thread)] = Player(thread: thread) }
    if !refereeStarted.exchange(true, ordering: .acquiringAndReleasing) {
      let thread = Thread { referee() }
      thread.name = "swiftpy-gil-referee"
      thread.start()
    }
  }

  /// `thread` takes no further part (its interpreter is ending).
  static func leave(_ thread: InterpreterThread) {
    _ = players.withLock { $0.removeValue(forKey: ObjectIdentifier(thread)) }
  }

  /// Called by a player just before it waits for the GIL.
  static func willWait() {
    if waiting.add(1, ordering: .acquiringAndReleasing).newValue == 1 { wakeReferee.signal() }
  }

  /// Called by a player once it holds the GIL.
  static func didTake() {
    waiting.subtract(1, ordering: .acquiringAndReleasing)
  }

  /// Whether a player waits for the GIL now, and how many.
  static var anyoneWaits: Bool { waitingCount > 0 }
  static var waitingCount: Int { waiting.load(ordering: .acquiring) }

  private static func referee() {
    while true {
      wakeReferee.wait()
      while anyoneWaits {
        Thread.sleep(forTimeInterval: 0.001)
        let now = DispatchTime.now().uptimeNanoseconds
        let patience = UInt64(interval.components.attoseconds / 1_000_000_000)
        let hopeless: UInt64 = 1_000_000_000
        let current = players.withLock { $0.values.map(\.thread) }
        // A thread that has waited a second despite the requests waits for something no yield
        // gives (a holder stuck in C, never releasing the GIL): asking on its behalf would only
        // slow every busy interpreter down, for ever.
        let overdue = current.contains { thread in
          thread.gilWaitStart.map { now &- $0 >= patience && now &- $0 < hopeless } ?? false
        }
        guard overdue else { continue }
        // Only those running a job: an idle interpreter would run the request later, at the
        // worst moment (just after a waiting thread took the GIL).
        for thread in current where thread.gilWaitStart == nil && thread.isBusy { thread.askToYieldGIL() }
      }
    }
  }
}

/// The pending call a busy interpreter runs when the referee asks: the GIL goes to whoever
/// waits, for at most one switch interval, then this thread waits its turn.
let yieldGILCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { raw in
  guard let raw else { return 0 }
  let thread = Unmanaged<InterpreterThread>.fromOpaque(raw).takeRetainedValue()
  thread.yieldAsked.store(false, ordering: .releasing)
  guard SharedGILReferee.anyoneWaits else { return 0 }
  let waitingBefore = SharedGILReferee.waitingCount
  let state = PyEval_SaveThread()
  // Until one of the waiters has taken the GIL, for at most one switch interval.
  let end = ContinuousClock.now + SharedGILReferee.interval
  while SharedGILReferee.waitingCount >= waitingBefore && ContinuousClock.now < end { usleep(50) }
  // Its own thread waits as a player, so that the referee asks the new holder to yield in turn.
  let isPlayer = InterpreterThread.current === thread
  if isPlayer { thread.markWaitingForGIL() }
  PyEval_RestoreThread(state)
  if isPlayer { thread.markHoldingGIL() }
  return 0
}
