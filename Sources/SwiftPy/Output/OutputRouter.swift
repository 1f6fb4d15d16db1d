import CPythonShim
import Synchronization

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Decides where each write to a SwiftPy stream goes, in this order:
///
/// 1. the capture of the job running on this OS thread (``OutputCapture``), if any;
/// 2. the route of the context this OS thread serves (set at context setup): a context's own
///    thread, whatever its mode;
/// 3. the route the stream itself names: a sub-interpreter's streams name their context, so
///    threads Python started there (and guest threads) follow that context's policy;
/// 4. the process's route (inherit): threads of the main interpreter that no context owns —
///    Python threads started from worker contexts, which every runtime's worker contexts share.
enum OutputRouter {
  /// The main interpreter's own route: standard output and error, never closed.
  static let process = OutputRoute(id: 0, context: "main", policy: .inherit)

  private static let routes = Mutex<[Int: OutputRoute]>([:])
  private static let serials = Atomic<Int>(0)

  /// Registers the C callback and the exit flush, once per process.
  static let started: Void = {
    spy_output_set_callback(outputCallback)
    // Partial lines still held when the program exits (with or without a shutdown) are not lost.
    atexit { OutputRouter.drainAll() }
  }()

  /// A new route for the context `name`, with `policy`.
  static func register(context name: String, policy: PythonOutputPolicy) -> OutputRoute {
    let route = OutputRoute(
      id: serials.wrappingAdd(1, ordering: .relaxed).newValue, context: name, policy: policy)
    routes.withLock { $0[route.id] = route }
    return route
  }

  /// The route a write from this OS thread to a stream naming `owner` takes (rules 2 to 4).
  static func route(forStreamOf owner: Int) -> OutputRoute {
    let threadRoute = Int(spy_output_thread_route())
    let id = threadRoute != 0 ? threadRoute : owner
    guard id != 0 else { return process }
    return routes.withLock { $0[id] } ?? process  // a closed context's late threads
  }

  /// The context thread state of `id` is being cleared (the context closes): its partial lines
  /// are delivered and the route forgotten. Runs on that thread, inside CPython's teardown,
  /// where the GIL must not be released.
  static func ended(_ id: Int) {
    if Int(spy_output_thread_route()) == id { spy_output_set_thread_route(0) }
    routes.withLock { $0.removeValue(forKey: id) }?.flush(releasingGIL: false)
  }

  /// Delivers everything every route still holds; at process exit.
  static func drainAll() {
    for route in routes.withLock({ Array($0.values) }).sorted(by: { $0.id < $1.id }) { route.drainAtExit() }
    process.drainAtExit()
  }
}

/// Called by the streams' C builtins with the GIL held (see spy_output.h).
private let outputCallback: SPyOutputCallback = { key, operation, data, size in
  switch Int(operation) {
  case Int(SPY_OUTPUT_THREAD_ENDED):
    OutputRouter.ended(Int(key))
    return 0
  default:
    let stream: PythonOutputStream = key & 1 == 0 ? .stdout : .stderr
    let sink = spy_output_thread_sink().map { Unmanaged<OutputSink>.fromOpaque($0).takeUnretainedValue() }
    let route = sink == nil ? OutputRouter.route(forStreamOf: Int(key >> 1)) : nil
    switch Int(operation) {
    case Int(SPY_OUTPUT_WRITE):
      guard let data else { return 0 }
      let bytes = UnsafeRawBufferPointer(start: data, count: size)
      if let sink { sink.append(bytes, to: stream) } else { route?.write(stream, bytes, releasingGIL: true) }
    case Int(SPY_OUTPUT_FLUSH):
      route?.flush([stream], releasingGIL: true)
    case Int(SPY_OUTPUT_ISATTY):
      guard case .inherit = route?.destination else { return 0 }
      return StandardStreams.isTerminal(stream) ? 1 : 0
    default:
      break
    }
    return 0
  }
}
