import Foundation
import Logging
import Synchronization
import Testing

@testable import SwiftPy

/// The modes every callback test runs in: ownGIL (when this Python has it) and worker.
private let callbackModes: [PythonContext.Mode] = ownGILAvailable ? [.ownGIL, .worker] : [.worker]

/// A runtime whose default pool has `size` contexts of `mode`.
private func runtime(_ mode: PythonContext.Mode, size: Int = 2) -> PythonRuntime.Configuration {
  PythonRuntime.Configuration(defaultPool: .init(size: size, mode: mode))
}

@Suite("Calling Swift from Python")
struct CallbackTests {
  @Test("A sync and an async Swift function are called from Python", arguments: callbackModes)
  func syncAndAsync(mode: PythonContext.Mode) async throws {
    try await withRuntime(runtime(mode)) { py in
      try await py.register("add") { args, _ in
        .int(args.compactMap(\.intValue).reduce(0, +))
      }
      try await py.register("greet") { args, kwargs in
        try await Task.sleep(for: .milliseconds(1))
        return .string("\(kwargs["greeting"]?.stringValue ?? "hello"), \(args.first?.stringValue ?? "?")")
      }
      let ctx = try await py.newContext(mode: mode)
      #expect(try await ctx.eval("__import__('swift').call('add', 1, 2, 3)") == 6)
      try await ctx.exec("import swift\nfrom swift import greet")
      #expect(try await ctx.eval("swift.add(40, 2)") == 42)
      #expect(try await ctx.eval("greet('Ada', greeting='hi')") == "hi, Ada")
      #expect(try await py.eval("__import__('swift').greet('pool')") == "hello, pool")
    }
  }
}
