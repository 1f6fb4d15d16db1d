import Foundation
import Testing

@testable import SwiftPy

/// The sandbox of `sandbox: true` pools (the DocC article "Sandbox"): what it refuses, and each
/// way out that worked against the sandbox SwiftPy had in Python — its state was a module the
/// sandboxed code could edit, its hook a Python function whose code could be swapped, its
/// guarded functions could be re-imported, `_posixsubprocess` was callable directly, and a
/// sandboxed context could create an unsandboxed interpreter.
@Suite("Sandbox: nothing of it reachable from Python", .serialized, .timeLimit(.minutes(2)))
struct SandboxTests {
  static let config = PythonRuntime.Configuration(defaultPool: .init(size: 1))

  /// The sub-interpreter modes this Python runs (ownGIL is refused on 3.12.0–3.12.3).
  static func isolatedModes() async throws -> [PythonContext.Mode] {
    try await availableModes().filter { $0 != .worker }
  }

  /// Runs `code` in a sandboxed pool's context and returns the Python error it raised.
  static func refusal(_ py: PythonRuntime, pool: String, _ code: String) async -> PythonError? {
    await expectPythonError {
      try await py.withContext(pool: pool) { lease in try await lease.exec(code) }
    }
  }

  @Test func eachListedOperationIsRefused() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      for mode in try await Self.isolatedModes() {
        let pool = "jail-\(mode)"
        try await py.startPool(pool, size: 1, mode: mode, sandbox: true)
        let refused = [
          "import os; os.system('true')",
          "import subprocess; subprocess.run(['true'])",
          "import os; os.execv('/bin/true', ['true'])",
          "import os, signal; os.kill(os.getpid(), 0)",
          "import os; os.posix_spawn('/bin/true', ['true'], {})",
          "import os; os.putenv('SWIFTPY_SANDBOX_TEST', '1')",
          "import os; os.chdir('/')",
          "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))",
          "import ctypes",
          "import _ctypes",
          "import _testcapi",
          "open('/proc/self/mem', 'rb')",
          "import os; os.listdir('/proc/self/fd'); open(f'/proc/{os.getpid()}/maps')",
          "import os; os.symlink('/proc/self/mem', '/tmp/swiftpy-sandbox-link-' + str(os.getpid()))\n"
            + "try:\n    open('/tmp/swiftpy-sandbox-link-' + str(os.getpid()), 'rb')\n"
            + "finally:\n    os.unlink('/tmp/swiftpy-sandbox-link-' + str(os.getpid()))",
          // What ends or signals the host without an audit event.
          "import signal; signal.alarm(1)",
          "import signal; signal.setitimer(signal.ITIMER_REAL, 1)",
          "import signal, threading; signal.pthread_kill(threading.get_ident(), signal.SIGTERM)",
          "import signal; signal.raise_signal(signal.SIGTERM)",
          "import os, signal; signal.pidfd_send_signal(os.pidfd_open(os.getpid()), signal.SIGTERM)",
          "import signal; signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])",
          "import os; os._exit(3)",
          "import posix; posix._exit(3)",
          "import os; os.abort()",
          "import _signal; _signal.alarm(1)",
        ]
        for code in refused {
          let error = await Self.refusal(py, pool: pool, code)
          #expect(error?.type == "PermissionError", "\(mode): \(code): \(String(describing: error))")
          #expect(error?.message.contains("SwiftPy sandbox") == true, "\(mode): \(code)")
        }
        // fork is refused in every mode, sandbox or not (ProcessStarts), and faulthandler
        // cannot be loaded in sub-interpreters at all (3.12–3.14): either way it does not run.
        for code in ["import os; os.fork()", "import faulthandler; faulthandler._sigsegv()"] {
          let error = await Self.refusal(py, pool: pool, code)
          #expect(
            ["RuntimeError", "ImportError", "PermissionError"].contains(error?.type), "\(mode): \(code)")
        }
        // Ordinary work still runs: imports (files opened), threads, arithmetic.
        #expect(
          try await py.withContext(pool: pool) { lease in
            try await lease.eval(
              "__import__('json').dumps(sorted([3, 1, 2])) + str(__import__('os').getpid() > 0)")
          } == "[1, 2, 3]True")
      }
      // Contexts without the sandbox are unaffected.
      #expect(try await py.eval("__import__('os').system('true')") == 0)
      #expect(try await py.eval("__import__('os').kill(__import__('os').getpid(), 0)") == nil)
    }
  }

  /// Each escape that worked against the sandbox in Python now meets the same refusal.
  @Test func theWaysOutThatOnceWorkedAreClosed() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      for mode in try await Self.isolatedModes() {
        let escapes = [
          // Edit its state: there is no Python state to edit.
          """
          import sys
          for name, module in list(sys.modules.items()):
              if 'sandbox' in name or 'swiftpy' in name.lower():
                  for attribute in ('everyone', 'idents', 'applies'):
                      try:
                          setattr(module, attribute, False)
                      except Exception:
                          pass
          import os
          os.system('true')
          """,
          // Swap the code of every Python function that could be the hook (the old one's names).
          """
          import gc
          def harmless(*args, **kwargs):
              return None
          for o in gc.get_objects():
              if type(o) is type(harmless) and o.__name__ in ('hook', 'applies', 'refusing'):
                  try:
                      o.__code__ = harmless.__code__
                  except Exception:
                      pass
          import os
          os.system('true')
          """,
          // Get the guarded functions back: a fresh module from the built-in's spec.
          """
          import _imp, sys
          spec = sys.modules['posix'].__spec__
          fresh = _imp.create_builtin(spec)
          fresh._exit(3)
          """,
          """
          import sys, importlib, _signal
          del sys.modules['_signal']
          fresh = importlib.import_module('_signal')
          fresh.alarm(1)
          """,
          // The C entry point under subprocess, called directly (refused before its arguments
          // are even read).
          "import _posixsubprocess; _posixsubprocess.fork_exec()",
          // Remove every audit hook it can reach, then try again.
          "import sys; sys.audit = lambda *a: None; import os; os.system('true')",
          // A thread of the sandboxed interpreter is in the sandbox too.
          """
          import threading, os
          outcome = []
          def run():
              try:
                  os.system('true')
                  outcome.append('ran')
              except PermissionError as error:
                  outcome.append(error)
          thread = threading.Thread(target=run)
          thread.start()
          thread.join()
          raise outcome[0] if isinstance(outcome[0], BaseException) else RuntimeError('escaped')
          """,
        ]
        for (index, code) in escapes.enumerated() {
          // A pool each: an escape may leave its interpreter in any state.
          let pool = "escape-\(mode)-\(index)"
          try await py.startPool(pool, size: 1, mode: mode, sandbox: true)
          defer { Task { try? await py.stopPool(pool) } }
          let error = await Self.refusal(py, pool: pool, code)
          #expect(error?.type == "PermissionError", "\(mode): \(code): \(String(describing: error))")
          #expect(error?.message.contains("SwiftPy sandbox") == true, "\(mode): \(code)")
        }
      }
    }
  }

  /// A sandboxed context cannot make an interpreter outside the sandbox, through any of the
  /// modules that create interpreters.
  @Test func aSandboxedContextCannotCreateAnInterpreter() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      for mode in try await Self.isolatedModes() {
        let pool = "creator-\(mode)"
        try await py.startPool(pool, size: 1, mode: mode, sandbox: true)
        let outcome = try await py.withContext(pool: pool) { lease in
          try await lease.exec(
            """
            import importlib
            outcome = 'no interpreters module'
            for name in ('_interpreters', '_xxsubinterpreters'):
                try:
                    module = importlib.import_module(name)
                except ImportError:
                    continue
                try:
                    module.create()
                    outcome = 'created'
                except BaseException as error:
                    seen = error
                    while seen is not None and not isinstance(seen, PermissionError):
                        seen = seen.__cause__ or seen.__context__
                    outcome = 'refused' if seen is not None else f'{type(error).__name__}: {error}'
                break
            """)
          return try await lease.eval("outcome")
        }
        #expect(outcome == "refused", "\(mode)")
      }
    }
  }

  /// Worker contexts share the main interpreter, and every module in it, with all other worker
  /// contexts and the host's Python: a sandbox there could be walked out of by changing a
  /// shared module that unsandboxed code then runs, so it is refused, clearly.
  @Test func aWorkerPoolCannotBeSandboxed() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      do {
        try await py.startPool("workerjail", size: 1, mode: .worker, sandbox: true)
        Issue.record("a sandboxed worker pool started")
      } catch let error as SwiftPyError {
        #expect(error.code == .sandboxNeedsOwnInterpreter)
        #expect(error.message.contains("subinterp"))
      }
    }
    await #expect(throws: SwiftPyError.self) {
      try await withRuntime(.init(defaultPool: .init(size: 1, mode: .worker, sandbox: true))) { _ in }
    }
  }

  /// An interpreter leaves the sandbox set only when it has ended; later interpreters are free.
  @Test func anEndedInterpreterIsForgotten() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let mode = try await Self.isolatedModes()[0]
      let before = Sandbox.count
      try await py.startPool("brief", size: 2, mode: mode, sandbox: true)
      #expect(Sandbox.count == before + 2)
      try await py.stopPool("brief")
      #expect(Sandbox.count == before)
      let free = try await py.newContext(mode: mode)
      #expect(try await free.eval("__import__('os').system('true')") == 0)
      await free.close()
    }
  }
}
