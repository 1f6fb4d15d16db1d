/// How long calls on a context may take, and how long an interrupted call gets to stop.
struct CallPolicy: Sendable {
  /// Applied to calls made without a `timeout:`; nil means no limit.
  var defaultTimeout: Duration?
  /// After an interrupt (timeout, cancellation, shutdown), how long the call gets to return
  /// before its context is taken out of service — a blocking C call cannot be interrupted.
  var grace: Duration
  /// How long a new context (or a replacement) may take to start before it is given up.
  var startLimit: Duration = .seconds(30)

  static let standard = CallPolicy(defaultTimeout: nil, grace: .seconds(2))
}
