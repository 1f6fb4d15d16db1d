import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Ctrl-C for commands that run Python: SIGINT no longer ends the process, `handler` gets each
/// one with its count instead (on a dispatch queue), so that the command can interrupt the
/// Python that is running and carry on.
final class InterruptSignal {
  private let source: any DispatchSourceSignal
  private let count = Atomic<Int>(0)

  init(_ handler: @escaping @Sendable (_ count: Int) -> Void) {
    signal(SIGINT, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    // The source keeps itself and this object alive as long as the process lives.
    source.setEventHandler { [self] in handler(count.add(1, ordering: .relaxed).newValue) }
    source.resume()
  }

  /// How many SIGINTs have come so far.
  var received: Int { count.load(ordering: .relaxed) }
}
