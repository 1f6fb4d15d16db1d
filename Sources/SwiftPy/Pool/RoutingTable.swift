/// One routing registration: calls to `module` (or to `module.function` only) go to `pool`.
public struct PythonRoute: Sendable, Hashable, CustomStringConvertible {
  public let module: String
  /// nil for a module-wide registration.
  public let function: String?
  public let pool: String

  public var description: String { "\(module)\(function.map { ".\($0)" } ?? "") → \(pool)" }
}

/// Which pool a `module.function` call goes to (erlang_python's pool registry). The
/// module+function entry beats the module entry; with neither, the call goes to `default`.
struct RoutingTable: Sendable {
  private var modules: [String: String] = [:]
  private var functions: [String: [String: String]] = [:]

  mutating func route(module: String, function: String?, to pool: String) {
    if let function {
      functions[module, default: [:]][function] = pool
    } else {
      modules[module] = pool
    }
  }

  mutating func unroute(module: String, function: String?) {
    if let function {
      functions[module]?[function] = nil
      if functions[module]?.isEmpty == true { functions[module] = nil }
    } else {
      modules[module] = nil
    }
  }

  func lookup(module: String, function: String) -> String? {
    functions[module]?[function] ?? modules[module]
  }

  var all: [PythonRoute] {
    let moduleRoutes = modules.map { PythonRoute(module: $0.key, function: nil, pool: $0.value) }
    let functionRoutes = functions.flatMap { module, entries in
      entries.map { PythonRoute(module: module, function: $0.key, pool: $0.value) }
    }
    return (moduleRoutes + functionRoutes).sorted {
      ($0.module, $0.function ?? "") < ($1.module, $1.function ?? "")
    }
  }
}
