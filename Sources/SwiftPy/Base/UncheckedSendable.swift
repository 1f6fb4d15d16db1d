/// Wraps a value the compiler cannot prove Sendable, where confinement makes it safe (a pointer
/// handed to the one thread that may use it). Each use says why.
struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
