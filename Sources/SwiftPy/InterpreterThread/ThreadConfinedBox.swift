import CPythonShim

/// State that belongs to one interpreter — namespaces, cached globals — and may only be touched
/// with that interpreter attached: on its own thread or on a guest thread attached to it. Every
/// access checks this (swift-nio's `NIOLoopBoundBox` idea): a violation is a bug in SwiftPy and
/// stops the process with a message rather than corrupting an interpreter.
final class ThreadConfinedBox<Value>: @unchecked Sendable {
  // @unchecked: `storage` is only read or written through `value`, which checks confinement.
  private var storage: Value
  private let owner: InterpreterThread

  init(_ value: Value, owner: InterpreterThread) {
    self.storage = value
    self.owner = owner
  }

  var value: Value {
    get {
      check()
      return storage
    }
    set {
      check()
      storage = newValue
    }
    _modify {
      check()
      yield &storage
    }
  }

  private func check() {
    precondition(
      spy_confinement_owner() == Unmanaged.passUnretained(owner).toOpaque(),
      "SwiftPy bug: state of interpreter thread '\(owner.name)' touched from another thread")
  }
}
