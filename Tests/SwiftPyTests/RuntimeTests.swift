import OrderedCollections
import Testing

@testable import SwiftPy

@Suite("Runtime: one-shot calls and contexts")
struct RuntimeTests {
  struct User: Codable, Equatable, Sendable {
    let name: String
    let age: Int
  }

  @Test func evalExecAndCall() async throws {
    try await withRuntime { (py) async throws in
      #expect(try await py.eval("1 + 1") == 2)
      #expect(try await py.eval("x * 2", locals: ["x": 21]) == 42)
      try await py.exec("import json")
      #expect(try await py.call("math", "sqrt", args: [16]) == .float(4.0))
      #expect(try await py.call("os.path", "join", args: ["a", "b"]) == "a/b")
      #expect(try await py.call("builtins", "len", args: [[1, 2, 3]]) == 3)
      #expect(
        try await py.call("json", "dumps", args: [["a": 1]], kwargs: ["indent": 2]) == "{\n  \"a\": 1\n}")
      #expect(
        try await py.call("collections", "OrderedDict.fromkeys", args: [["a", "b"]]) == ["a": nil, "b": nil])
    }
  }

  @Test func typedEvalDecodes() async throws {
    try await withRuntime { (py) async throws in
      let user = try await py.eval("{'name': 'Ada', 'age': 36}", as: User.self)
      #expect(user == User(name: "Ada", age: 36))
      await #expect(throws: DecodingError.self) { try await py.eval("{'name': 'Ada'}", as: User.self) }
    }
  }

  @Test func oneShotCallsKeepNoState() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      try await py.exec("leftover = 1")
      let error = await expectPythonError { _ = try await py.eval("leftover") }
      #expect(error?.type == "NameError")
    }
  }

  @Test func contextsKeepState() async throws {
    try await withRuntime { (py) async throws in
      for mode in try await availableModes() {
        let ctx = try await py.newContext(mode: mode)
        try await ctx.exec("counter = 0")
        try await ctx.exec("counter += 1")
        #expect(try await ctx.eval("counter") == 1, "mode \(mode)")
        try await ctx.exec("def double(x):\n    return 2 * x")
        #expect(try await ctx.call("__main__", "double", args: [21]) == 42)
        await ctx.close()
      }
    }
  }

  @Test func severalRuntimesLiveSideBySide() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (first) async throws in
      try await withRuntime(.init(defaultPool: .init(size: 1, mode: .worker))) {
        (second) async throws -> Void in
        #expect(try await first.eval("6 * 7") == 42)
        #expect(try await second.eval("6 * 7") == 42)
      }
      // The first keeps working after the second shut down.
      #expect(try await first.eval("'still here'") == "still here")
    }
  }

  @Test func shutDownRuntimeRefusesCalls() async throws {
    let py = try await PythonRuntime.start(.init(defaultPool: .init(size: 1)))
    await py.shutdown()
    await #expect(throws: SwiftPyError(.shuttingDown, "the runtime has been shut down")) {
      _ = try await py.eval("1")
    }
  }

  @Test func closedContextThrows() async throws {
    try await withRuntime { (py) async throws in
      let ctx = try await py.newContext(mode: .worker)
      await ctx.close()
      #expect(!ctx.isOpen)
      do {
        _ = try await ctx.eval("1")
        Issue.record("a closed context ran code")
      } catch let error as SwiftPyError {
        #expect(error.code == .closed)
      }
    }
  }

  @Test func withPythonGivesObjects() async throws {
    try await withRuntime { (py) async throws in
      let ctx = try await py.newContext()
      let root = try await ctx.withPython { py in try py.import("math").sqrt(2.0).decode(Double.self) }
      #expect(root == 2.0.squareRoot())
      let dumped = try await ctx.withPython { py in
        try py.import("json").dumps(["b": 1, "a": [true, nil]] as PythonValue, sort_keys: true).decode(
          String.self)
      }
      #expect(dumped == #"{"a": [true, null], "b": 1}"#)
      let items = try await ctx.withPython { py in
        let list = try py.eval("[1, 2, 3]")
        try list.append(4)
        try list.setItem(0, "first")
        return try (list.item(0).value, list.value, list.typeName)
      }
      #expect(items.0 == "first")
      #expect(items.1 == ["first", 2, 3, 4])
      #expect(items.2 == "list")
      let error = await expectPythonError {
        _ = try await ctx.withPython { py in try py.import("math").no_such_function().value }
      }
      #expect(error?.type == "AttributeError")
      await ctx.close()
    }
  }
}

/// Built-in functions that read their caller's frame work when called directly, as from
/// module-level code of the namespace (`SystemError: frame does not exist` before).
@Suite("Calls run at module level of their namespace")
struct ModuleLevelCallTests {
  @Test(arguments: [PythonContext.Mode.worker, isolatedMode])
  func framelessBuiltinsSeeTheirNamespace(mode: PythonContext.Mode) async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: mode))) { (py) async throws in
      #expect(try await py.call("builtins", "eval", args: ["1 + 1"]) == 2)
      let ctx = try await py.newContext(mode: mode)
      _ = try await ctx.call("builtins", "exec", args: ["counter = 41"])
      #expect(try await ctx.eval("counter + 1") == 42)
      #expect(try await ctx.call("builtins", "eval", args: ["__name__"]) == "__main__")
      let names = try await ctx.call("builtins", "dir")
      #expect(names.arrayValue?.contains("counter") == true, "\(names)")
      #expect(names.arrayValue?.contains("__swiftpy_call__") == false, "\(names)")
      // sys._getframe() called directly has a frame to return (which does not convert).
      await #expect(throws: SwiftPyError.self) { try await ctx.call("sys", "_getframe") }
      // A frame exists: the code object of the module-level caller.
      _ = try await ctx.call("builtins", "exec", args: ["import sys\nname = sys._getframe().f_code.co_name"])
      #expect(try await ctx.eval("name") == "<module>")
      await ctx.close()
    }
  }
}
