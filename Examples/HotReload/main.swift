// hotload's walk-through (lib.py and launch.py), in Swift: `swift run HotReload`.
//
// It writes lib.py into a fresh folder, starts the loop — clear the terminal, re-run `lib` in
// every context of a pool of two — then edits lib.py the way you would in an editor, one save
// at a time, and prints what each save did. `swift run HotReload <folder>` watches a folder of
// yours instead, until Ctrl-C: edit its lib.py and save.
import Foundation
import SwiftPy

let arguments = CommandLine.arguments.dropFirst()
let interactive = !arguments.isEmpty
let folder =
  arguments.first
  ?? FileManager.default.temporaryDirectory.appendingPathComponent("hotload-\(UUID())").path
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

/// Saves a file as an editor does: a temporary file renamed over it.
func save(_ name: String, _ source: String) throws {
  let path = folder + "/" + name
  try source.write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
  guard rename(path + ".tmp", path) == 0 else { throw CocoaError(.fileWriteUnknown) }
}

// The seed's lib.py, and the helper module it will use.
if !FileManager.default.fileExists(atPath: folder + "/lib.py") {
  try save("lib.py", "x = 3\ny = 4\n\nprint(x*x + y*y)\n")
  try save("mymath.py", "def f(x, y):\n    return x*x + y*y\n")
}

/// A line on standard output, written at once (in order with Python's, even through a pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

// launch.py: hotload.hotload(watch=[listfiles(".", ext=".py")], steps=[ClearTerminal(),
// ReloadedPythonModule.from_module_name("lib")]) — for every context of the pool.
let py = try await PythonRuntime.start(.init(defaultPool: .init(size: 2), paths: [folder]))
let reloader = try await py.hotReload(
  watch: [folder],
  steps: interactive ? [.clearTerminal, .module("lib")] : [.module("lib")])

/// Waits for the next run of `reloader` and says how it went.
func report(_ title: String, of reloader: HotReloader = reloader) async {
  var events = reloader.events.makeAsyncIterator()
  guard let event = await events.next() else { return }
  if let error = event.pythonError {
    say("→ \(title): \(error.type) — the old code stays live in \(event.contexts.count) contexts")
    FileHandle.standardOutput.write(Data(error.traceback.utf8))
  } else {
    let latency =
      Double(event.latency.components.attoseconds) / 1e15 + Double(event.latency.components.seconds) * 1e3
    say(
      "→ \(title): ran \(event.modules.joined(separator: ", ")) in \(event.contexts.count) contexts, "
        + String(format: "%.1f ms after the save", latency))
  }
}

await report("first run (each context prints 25)")
if interactive {
  while true { await report("saved") }  // Ctrl-C ends the process
}

// 1. Edit lib.py and save: each save triggers a new run, in every context.
try save("lib.py", "x = 5\ny = 12\n\nprint(x*x + y*y)\n")
await report("x = 5, y = 12 (prints 169)")

// 2. A helper module. lib imports it; a change in mymath.py reloads mymath, then lib (its
//    importer) — no manual reload needed, unlike hotload.
try save("lib.py", "import mymath\n\nprint('f(2, 3) =', mymath.f(2, 3))\n")
await report("lib uses mymath (prints 13)")
try save("mymath.py", "def f(x, y):\n    return (x + y) ** 2\n")
await report("mymath changed (prints 25)")

// 3. A mistake: reported with its traceback, and the previous code keeps running.
try save("mymath.py", "def f(x, y)\n    return 0\n")
await report("a syntax error")
say("   mymath.f(2, 3) is still \(try await py.eval("__import__('mymath').f(2, 3)"))")

// 4. State that survives reloads: hotload's NameError idiom.
try save(
  "mymath.py",
  """
  import time

  def expensive_computation():
      time.sleep(0.2)
      return 42

  try:
      constant = constant
  except NameError:
      constant = expensive_computation()   # only on the first run

  def f(x, y):
      return constant + x + y

  """)
await report("expensive state, computed once (prints 47)")
try save(
  "mymath.py",
  try String(contentsOfFile: folder + "/mymath.py", encoding: .utf8).replacingOccurrences(
    of: "constant + x + y", with: "constant - x - y"))
await report("edited again: no 0.2 s wait this time (prints 37)")

// 5. A post-reload hook: lib's `init()` runs in every context after each reload.
await reloader.stop()
try save("lib.py", "import mymath\n\ndef init():\n    print('init: f(1, 1) =', mymath.f(1, 1))\n")
let hooked = try await py.hotReload(
  watch: [folder], steps: [.module("lib", postReload: "init")], runAtStart: false)
try save(
  "lib.py", "import mymath\n\ndef init():\n    print('init after the save: f(2, 2) =', mymath.f(2, 2))\n")
await report("a post-reload hook", of: hooked)

await hooked.stop()
await py.shutdown()
try? FileManager.default.removeItem(atPath: folder)
