import Foundation
import Synchronization

/// One OS thread per process that runs actions at deadlines: call timeouts, interrupt escalation,
/// close deadlines, lease waits. A timer is an entry in a heap, not a task: cancelling it removes
/// the entry at once, so a finished call's timer holds no memory until its deadline passed
/// (ARCHITECTURE.md, "Deadlines").
final class DeadlineScheduler: Sendable {
  static let shared = DeadlineScheduler()

  /// A scheduled action; ``cancel()`` it when it is no longer needed.
  struct Timer: Sendable {
    fileprivate let id: UInt64
    fileprivate let scheduler: DeadlineScheduler

    /// Removes the action unless it has already started; idempotent.
    func cancel() { scheduler.cancel(id) }
  }

  private struct Entry {
    let deadline: ContinuousClock.Instant
    let id: UInt64
    let action: @Sendable () -> Void
  }

  /// A binary min-heap on deadlines with each entry's position, so that cancelling is
  /// O(log n) and frees the entry immediately.
  private struct Heap {
    var entries: [Entry] = []
    var positions: [UInt64: Int] = [:]
    var nextID: UInt64 = 0

    var earliest: ContinuousClock.Instant? { entries.first?.deadline }

    mutating func insert(_ entry: Entry) {
      entries.append(entry)
      positions[entry.id] = entries.count - 1
      siftUp(entries.count - 1)
    }

    mutating func remove(_ id: UInt64) -> Entry? {
      guard let index = positions[id] else { return nil }
      return remove(at: index)
    }

    mutating func popDue(_ now: ContinuousClock.Instant) -> Entry? {
      guard let first = entries.first, first.deadline <= now else { return nil }
      return remove(at: 0)
    }

    private mutating func remove(at index: Int) -> Entry {
      let removed = entries[index]
      positions[removed.id] = nil
      let last = entries.removeLast()
      if index < entries.count {
        entries[index] = last
        positions[last.id] = index
        siftDown(index)
        siftUp(index)
      }
      return removed
    }

    private mutating func siftUp(_ start: Int) {
      var child = start
      while child > 0 {
        let parent = (child - 1) / 2
        guard entries[child].deadline < entries[parent].deadline else { return }
        swapAt(child, parent)
        child = parent
      }
    }

    private mutating func siftDown(_ start: Int) {
      var parent = start
      while true {
        let left = 2 * parent + 1
        let right = left + 1
        var smallest = parent
        if left < entries.count && entries[left].deadline < entries[smallest].deadline { smallest = left }
        if right < entries.count && entries[right].deadline < entries[smallest].deadline { smallest = right }
        guard smallest != parent else { return }
        swapAt(parent, smallest)
        parent = smallest
      }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
      entries.swapAt(a, b)
      positions[entries[a].id] = a
      positions[entries[b].id] = b
    }
  }

  // NSCondition because the thread must sleep until a deadline or a new earlier one; the heap
  // is only touched with it held (`withLock`).
  private let condition = NSCondition()
  nonisolated(unsafe) private var heap = Heap()
  private let clock = ContinuousClock()

  private init() {
    let thread = Thread { [self] in run() }
    thread.name = "swiftpy-deadlines"
    thread.start()
  }

  /// Runs `action` on the scheduler's thread after `delay` (keep actions short: they run one
  /// after another).
  func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Timer {
    let deadline = clock.now.advanced(by: max(delay, .zero))
    return condition.withLock {
      heap.nextID &+= 1
      let id = heap.nextID
      let wasEarliest = heap.earliest.map { deadline < $0 } ?? true
      heap.insert(Entry(deadline: deadline, id: id, action: action))
      if wasEarliest { condition.signal() }
      return Timer(id: id, scheduler: self)
    }
  }

  /// Timers scheduled and not yet run or cancelled (for tests and memory checks).
  var pendingCount: Int { condition.withLock { heap.entries.count } }

  private func cancel(_ id: UInt64) {
    _ = condition.withLock { heap.remove(id) }
  }

  private func run() {
    while true {
      let due: Entry? = condition.withLock {
        while true {
          if let entry = heap.popDue(clock.now) { return entry }
          if let earliest = heap.earliest {
            let wait = clock.now.duration(to: earliest)
            _ = condition.wait(until: Date(timeIntervalSinceNow: wait.seconds))
          } else {
            condition.wait()
          }
        }
      }
      due?.action()
    }
  }
}

extension Duration {
  /// The duration in seconds, as a Double.
  var seconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}

extension NSCondition {
  /// Runs `body` with the lock held: the only way SwiftPy takes an NSCondition's lock.
  func withLock<T>(_ body: () throws -> T) rethrows -> T {
    lock()
    defer { unlock() }
    return try body()
  }
}
