@_spi(Testing) import FileWatching
import Foundation
import Synchronization
import Testing

@testable import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A mode with an interpreter per context: ownGIL where the Python supports it, else subinterp.
let isolatedMode: PythonContext.Mode = ownGILAvailable ? .ownGIL : .subinterp

@Suite("Hot reload: watching", .timeLimit(.minutes(2)))
struct HotReloadWatchingTests {
  @Test("each save style triggers exactly one reload", arguments: SaveStyle.allCases)
  func saveStyles(style: SaveStyle) async throws {
    let dir = try ModuleDirectory()
    Editor.writeInPlace(dir.libFile, "VERSION = 1\n")
    try await withRuntime(reloadRuntime(dir)) { py in
      let contexts = py.contexts()
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == [1, 1])
      let reloader = try await py.hotReload(watch: [dir.path])
      let events = EventCollector(reloader)
      style.save(dir.libFile, "VERSION = 2\n")
      let event = try await events.wait(for: 1)
      #expect(event.trigger == .change)
      #expect(event.files == [dir.libFile])
      #expect(event.modules == [dir.lib])
      #expect(Set(event.contexts) == Set(contexts.map(\.name)))
      #expect(event.succeeded, "\(event)")
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == [2, 2])
      try await Task.sleep(for: reloadQuietPeriod)
      #expect(events.all.count == 1, "\(events.all)")
      await reloader.stop()
    }
  }

  @Test("a module in a new subdirectory is watched and reloaded")
  func newSubdirectory() async throws {
    let dir = try ModuleDirectory()
    Editor.writeInPlace(dir.libFile, "VERSION = 1\n")
    let package = "pkg_" + dir.lib
    try await withRuntime(reloadRuntime(dir)) { py in
      let reloader = try await py.hotReload(watch: [dir.path])
      let events = EventCollector(reloader)
      #expect(mkdir(dir(package), 0o755) == 0)
      #expect(mkdir(dir("\(package)/inner"), 0o755) == 0)
      Editor.writeInPlace(dir("\(package)/__init__.py"), "")
      Editor.writeInPlace(dir("\(package)/inner/__init__.py"), "")
      Editor.writeInPlace(dir("\(package)/inner/mod.py"), "VERSION = 1\n")
      // The new files are reported (nothing to reload: no context has imported them yet), in
      // one change or several: three writes in a row are three saves to the watcher when they
      // come far enough apart.
      var reported = 0
      repeat {
        reported += 1
        _ = try await events.wait(for: reported)
      } while !events.all.contains { $0.files.contains(dir("\(package)/inner/mod.py")) }
      let contexts = py.contexts()
      #expect(try await seen("\(package).inner.mod", "VERSION", in: contexts) == [1, 1])
      let before = events.all.count
      Editor.writeTemporaryThenRename(dir("\(package)/inner/mod.py"), "VERSION = 2\n")
      let event = try await events.wait(for: before + 1)
      #expect(event.modules == ["\(package).inner.mod"], "\(event)")
      #expect(try await seen("\(package).inner.mod", "VERSION", in: contexts) == [2, 2])
      await reloader.stop()
    }
  }

  #if os(Linux)
    @Test("a kernel queue overflow rescans and reloads what changed meanwhile")
    func overflowRescan() async throws {
      let dir = try ModuleDirectory()
      Editor.writeInPlace(dir.libFile, "VERSION = 1\n")
      try await withRuntime(reloadRuntime(dir)) { py in
        let contexts = py.contexts()
        #expect(try await seen(dir.lib, "VERSION", in: contexts) == [1, 1])
        let reloader = try await py.hotReload(watch: [dir.path])
        #expect(reloader.backendName == "inotify")
        let events = EventCollector(reloader)
        reloader.watcher.pauseReader()
        let limit =
          Int(
            (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
              .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        for index in 0..<(limit + 100) {
          let fd = open(dir(index % 2 == 0 ? "flood-a.tmp" : "flood-b.tmp"), O_WRONLY | O_CREAT, 0o644)
          close(fd)
        }
        Editor.writeInPlace(dir.libFile, "VERSION = 2  # saved while events were lost\n")
        reloader.watcher.resumeReader()
        let event = try await events.wait(for: 1)
        #expect(event.rescan)
        #expect(event.modules == [dir.lib], "\(event)")
        #expect(try await seen(dir.lib, "VERSION", in: contexts) == [2, 2])
        await reloader.stop()
      }
    }
  #endif
}

@Suite("Hot reload: every context", .timeLimit(.minutes(2)))
struct HotReloadContextsTests {
  @Test("a reload reaches every context of two pools in different modes, and standalone contexts")
  func everyContext() async throws {
    let dir = try ModuleDirectory()
    Editor.writeInPlace(dir.libFile, "VERSION = 1\n")
    try await withRuntime(reloadRuntime(dir, size: 2, mode: isolatedMode)) { py in
      try await py.startPool("workers", size: 2, mode: .worker)
      let standalone = try await py.newContext(mode: .subinterp)
      let contexts = py.contexts() + py.contexts("workers") + [standalone]
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == Array(repeating: 1, count: 5))
      let reloader = try await py.hotReload(watch: [dir.path])
      let events = EventCollector(reloader)
      Editor.writeTemporaryThenRename(dir.libFile, "VERSION = 2\n")
      let event = try await events.wait(for: 1)
      #expect(event.succeeded, "\(event)")
      #expect(Set(event.contexts) == Set(contexts.map(\.name)))
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == Array(repeating: 2, count: 5))
      // One-shot calls, whichever context runs them, see the new code too.
      #expect(try await py.eval("__import__('\(dir.lib)').VERSION") == 2)
      await reloader.stop()
    }
  }

  @Test("a module that imports the changed one is reloaded after it")
  func importerReloaded() async throws {
    let dir = try ModuleDirectory()
    let helper = "helper_" + dir.lib
    Editor.writeInPlace(dir("\(helper).py"), "def f():\n    return 1\n")
    Editor.writeInPlace(dir.libFile, "from \(helper) import f\n\ndef g():\n    return f() * 10\n")
    try await withRuntime(reloadRuntime(dir)) { py in
      let contexts = py.contexts()
      #expect(try await seen(dir.lib, "g()", in: contexts) == [10, 10])
      let reloader = try await py.hotReload(watch: [dir.path])
      let events = EventCollector(reloader)
      Editor.writeTemporaryThenRename(dir("\(helper).py"), "def f():\n    return 2\n")
      let event = try await events.wait(for: 1)
      #expect(event.files == [dir("\(helper).py")])
      #expect(event.modules == [helper, dir.lib], "\(event)")
      #expect(try await seen(dir.lib, "g()", in: contexts) == [20, 20])
      await reloader.stop()
    }
  }

  @Test("the state idiom `try: x = x except NameError:` keeps its value across reloads")
  func stateIdiom() async throws {
    let dir = try ModuleDirectory()
    let source = { (version: Int) in
      """
      import os
      try:
          token = token
      except NameError:
          token = os.urandom(8).hex()
      runs = globals().get('runs', 0) + 1
      VERSION = \(version)

      """
    }
    Editor.writeInPlace(dir.libFile, source(1))
    try await withRuntime(reloadRuntime(dir, mode: isolatedMode)) { py in
      let contexts = py.contexts()
      let tokens = try await seen(dir.lib, "token", in: contexts)
      #expect(tokens[0] != tokens[1])  // each context has its own module
      let reloader = try await py.hotReload(watch: [dir.path])
      let events = EventCollector(reloader)
      Editor.writeTemporaryThenRename(dir.libFile, source(2))
      _ = try await events.wait(for: 1)
      Editor.writeInPlace(dir.libFile, source(3))
      #expect(try await events.wait(for: 2).succeeded)
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == [3, 3])
      #expect(try await seen(dir.lib, "token", in: contexts) == tokens)
      #expect(try await seen(dir.lib, "runs", in: contexts) == [3, 3])
      await reloader.stop()
    }
  }

  @Test("steps and hooks run in order; pre-hooks see the old code, post-hooks the new")
  func hooksInOrder() async throws {
    let dir = try ModuleDirectory()
    let source = { (version: Int) in
      """
      try:
          log = log
      except NameError:
          log = []
      runs = globals().get('runs', 0) + 1

      def before():
          log.append('pre by code \(version)')

      def after():
          log.append('post by code \(version)')

      """
    }
    Editor.writeInPlace(dir.libFile, source(1))
    try await withRuntime(reloadRuntime(dir)) { py in
      let swiftLog = Mutex<[String]>([])
      let lib = dir.lib
      let contexts = py.contexts()
      #expect(try await seen(lib, "runs", in: contexts) == [1, 1])
      let note: @Sendable (String) async throws -> Void = { label in
        // How many times each context has run the module when a Swift hook or step runs.
        let runs = try await seen(lib, "runs", in: contexts)
        swiftLog.withLock { $0.append("\(label) \(runs.map { "\($0)" }.joined(separator: ","))") }
      }
      let reloader = try await py.hotReload(
        watch: [dir.path],
        steps: [
          .swift { _ in try await note("first step") },
          .module(lib, preReload: "before", postReload: "after"),
          .module(
            lib, preReload: .swift { try await note("swift pre") },
            postReload: .swift { try await note("swift post") }),
          .swift { _ in try await note("last step") },
        ], runAtStart: false)
      let events = EventCollector(reloader)
      Editor.writeTemporaryThenRename(dir.libFile, source(2))
      let event = try await events.wait(for: 1)
      #expect(event.succeeded, "\(event)")
      #expect(
        swiftLog.withLock { $0 } == ["first step 1,1", "swift pre 2,2", "swift post 3,3", "last step 3,3"])
      for log in try await seen(lib, "log", in: contexts) {
        #expect(log == ["pre by code 1", "post by code 2"])
      }
      await reloader.stop()
    }
  }

  @Test("a syntax error or an exception keeps the old code live everywhere and is reported")
  func errorsKeepOldCode() async throws {
    let dir = try ModuleDirectory()
    Editor.writeInPlace(dir.libFile, "VERSION = 1\n\ndef f():\n    return 'old'\n")
    try await withRuntime(reloadRuntime(dir)) { py in
      try await py.startPool("workers", size: 2, mode: .worker)
      let contexts = py.contexts() + py.contexts("workers")
      #expect(try await seen(dir.lib, "f()", in: contexts) == ["old", "old", "old", "old"])
      let reloader = try await py.hotReload(watch: [dir.path])
      let events = EventCollector(reloader)

      Editor.writeTemporaryThenRename(dir.libFile, "VERSION = 2\n\ndef f(:\n    return 'new'\n")
      let syntax = try await events.wait(for: 1)
      let error = try #require(syntax.pythonError)
      #expect(error.type == "SyntaxError")
      #expect(error.filename == dir.libFile)
      #expect(error.lineNumber == 3)
      #expect(syntax.modules.isEmpty)
      #expect(try await seen(dir.lib, "f()", in: contexts) == ["old", "old", "old", "old"])
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == [1, 1, 1, 1])

      // An exception halfway through the module: what ran before it is undone.
      Editor.writeTemporaryThenRename(
        dir.libFile, "VERSION = 3\n\ndef f():\n    return 'new'\n\nraise RuntimeError('boom')\n")
      let raised = try await events.wait(for: 2)
      let runtimeError = try #require(raised.pythonError)
      #expect(runtimeError.type == "RuntimeError")
      #expect(runtimeError.message == "boom")
      #expect(runtimeError.traceback.contains(dir.libFile))
      #expect(try await seen(dir.lib, "f()", in: contexts) == ["old", "old", "old", "old"])
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == [1, 1, 1, 1])

      // Fixed: reloaded.
      Editor.writeTemporaryThenRename(dir.libFile, "VERSION = 4\n\ndef f():\n    return 'new'\n")
      #expect(try await events.wait(for: 3).succeeded)
      #expect(try await seen(dir.lib, "f()", in: contexts) == ["new", "new", "new", "new"])
      await reloader.stop()
    }
  }

  @Test("a lease mid-session sees the new module on its next call, not during its current one")
  func leaseMidSession() async throws {
    let dir = try ModuleDirectory()
    Editor.writeInPlace(dir.libFile, "VERSION = 1\n")
    let go = dir("go.flag")
    let started = dir("started.flag")
    try await withRuntime(reloadRuntime(dir, size: 2, mode: isolatedMode)) { py in
      let lease = try await py.bind()
      let other = try #require(py.contexts().first { $0 !== lease.context })
      #expect(try await seen(dir.lib, "VERSION", in: [other]) == [1])
      try await lease.exec(
        """
        import os, time
        import \(dir.lib) as lib

        def current_call(started, go):
            first = lib.VERSION
            open(started, 'w').close()
            while not os.path.exists(go):
                time.sleep(0.002)
            return [first, lib.VERSION]
        """)
      let reloader = try await py.hotReload(watch: [dir.path])
      let events = EventCollector(reloader)
      async let during = lease.eval(
        "current_call(started, go)", locals: ["started": .string(started), "go": .string(go)])
      while !FileManager.default.fileExists(atPath: started) { try await Task.sleep(for: .milliseconds(2)) }
      Editor.writeTemporaryThenRename(dir.libFile, "VERSION = 2\n")
      // The free context reloads at once; the leased one waits for its current call.
      while try await seen(dir.lib, "VERSION", in: [other]) != [2] {
        try await Task.sleep(for: .milliseconds(2))
      }
      #expect(events.all.isEmpty)
      Editor.writeInPlace(go, "")
      #expect(try await during == [1, 1])
      let event = try await events.wait(for: 1)
      #expect(Set(event.contexts) == Set([lease.context.name, other.name]))
      #expect(try await lease.eval("lib.VERSION") == 2)
      await lease.unbind()
      await reloader.stop()
    }
  }

  @Test("py.reload(module:) reloads on demand, and throws (keeping the old code) when the code fails")
  func onDemand() async throws {
    let dir = try ModuleDirectory()
    Editor.writeInPlace(dir.libFile, "VERSION = 1\n")
    try await withRuntime(reloadRuntime(dir)) { py in
      let contexts = py.contexts()
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == [1, 1])
      Editor.writeInPlace(dir.libFile, "VERSION = 2\n")
      let event = try await py.reload(module: dir.lib)
      #expect(event.trigger == .onDemand)
      #expect(event.modules == [dir.lib])
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == [2, 2])
      Editor.writeInPlace(dir.libFile, "VERSION = \n")
      let error = await expectPythonError { try await py.reload(module: dir.lib) }
      #expect(error?.type == "SyntaxError")
      #expect(try await seen(dir.lib, "VERSION", in: contexts) == [2, 2])
    }
  }

  @Test("a Python thread importing the module during a reload waits for the whole new version")
  func pythonThreads() async throws {
    let dir = try ModuleDirectory()
    let source = { (version: Int) in
      "import time\nA = \(version)\ntime.sleep(0.05)  # releases the GIL halfway\nB = \(version)\n"
    }
    Editor.writeInPlace(dir.libFile, source(1))
    try await withRuntime(reloadRuntime(dir, size: 1, mode: isolatedMode)) { py in
      let context = try #require(py.contexts().first)
      try await context.exec(
        """
        import importlib, threading
        mismatches, checks, stop = [], [0], threading.Event()

        def check():
            while not stop.is_set():
                module = importlib.import_module('\(dir.lib)')
                if module.A != module.B:
                    mismatches.append((module.A, module.B))
                checks[0] += 1
                time.sleep(0.001)

        import time
        checker = threading.Thread(target=check)
        checker.start()
        """)
      let reloader = try await py.hotReload(watch: [dir.path])
      let events = EventCollector(reloader)
      for version in 2...4 {
        Editor.writeTemporaryThenRename(dir.libFile, source(version))
        #expect(try await events.wait(for: version - 1).succeeded)
      }
      try await context.exec("stop.set(); checker.join()")
      #expect(try await context.eval("mismatches") == [])
      #expect(try await context.eval("checks[0] > 0") == true)
      #expect(try await context.eval("__import__('\(dir.lib)').B") == 4)
      await reloader.stop()
    }
  }
}

@Suite("Hot reload: patch strategy", .timeLimit(.minutes(2)))
struct HotReloadPatchTests {
  @Test(".patch changes what `from lib import f`, live instances and registered callbacks run")
  func patchUpdatesReferences() async throws {
    let dir = try ModuleDirectory()
    let source = { (word: String) in
      """
      def f():
          return '\(word)'

      class C:
          def m(self):
              return 'C \(word)'

      class D(C):
          def m(self):
              return 'D+' + super().m()
      \(word == "new" ? "\n    def added(self):\n        return super().m() + '!'\n" : "")
      """
    }
    Editor.writeInPlace(dir.libFile, source("old"))
    try await withRuntime(reloadRuntime(dir, size: 2, mode: isolatedMode)) { py in
      let contexts = py.contexts()
      for context in contexts {
        try await context.exec(
          """
          from \(dir.lib) import f, C, D
          instance = D()
          callbacks = [f, instance.m]
          """)
      }
      let reloader = try await py.hotReload(watch: [dir.path], strategy: .patch)
      let events = EventCollector(reloader)
      Editor.writeTemporaryThenRename(dir.libFile, source("new"))
      let event = try await events.wait(for: 1)
      #expect(event.succeeded, "\(event)")
      for context in contexts {
        #expect(try await context.eval("f()") == "new")
        #expect(try await context.eval("instance.m()") == "D+C new")
        // A method added by the new version, with a zero-argument super(), on a live instance.
        #expect(try await context.eval("instance.added()") == "C new!")
        #expect(try await context.eval("[callback() for callback in callbacks]") == ["new", "D+C new"])
        #expect(
          try await context.eval(
            "f is __import__('\(dir.lib)').f and type(instance) is __import__('\(dir.lib)').D") == true)
      }
      await reloader.stop()
    }
  }
}

@Suite("Hot reload: shell steps", .timeLimit(.minutes(2)))
struct HotReloadShellStepTests {
  @Test("cancelling a shell step ends its whole group, even one that ignores SIGTERM")
  func cancelledShellIsKilled() async throws {
    let dir = try ModuleDirectory()
    let pidFile = dir.path + "/pid"
    let step = Task { try await StepRunner.shell("trap '' TERM; sleep 600 & echo $! > '\(pidFile)'; wait") }
    while (try? String(contentsOfFile: pidFile, encoding: .utf8))?.hasSuffix("\n") != true {
      try await Task.sleep(for: .milliseconds(10))
    }
    let sleeper = pid_t(
      try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
    step.cancel()
    // The background `sleep` is in the group: it goes too, with its shell.
    var gone = false
    for _ in 0..<2000 where !gone {
      gone = kill(sleeper, 0) != 0
      if !gone { try await Task.sleep(for: .milliseconds(10)) }
    }
    #expect(gone, "sleep \(sleeper) survived its cancelled step")
    if !gone {
      kill(-sleeper, SIGKILL)
      kill(sleeper, SIGKILL)
    }
    await #expect(throws: CancellationError.self) { try await step.value }
  }
}
