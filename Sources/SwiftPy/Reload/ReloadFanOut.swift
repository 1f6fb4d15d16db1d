import Synchronization

/// Runs one ``ReloadPlan`` in every context given, each between two of its jobs
/// (ARCHITECTURE.md, "Hot reload"): one job per context, queued on the context itself so that it
/// runs after the job running now (a lease's current call included) and before any call queued
/// later. Sub-interpreters (ownGIL, subinterp) each reload on their own; worker contexts share
/// the main interpreter and reload it once, together, through a ``ReloadBarrier``.
enum ReloadFanOut {
  struct Outcome: Sendable {
    /// The modules run, in order (the union over the interpreters).
    var modules: [String] = []
    /// The contexts that ran the plan.
    var contexts: [String] = []
    /// The first failure, in the order of `contexts` given.
    var error: (any Error & Sendable)?
  }

  /// How long worker contexts wait for one another before giving up a reload.
  static let barrierLimit: Duration = .seconds(30)

  static func run(_ plan: ReloadPlan, in contexts: [PythonContext]) async -> Outcome {
    let open = contexts.filter(\.isOpen)
    var results: [Result<ReloadScript.Outcome, any Error>?]
    // With several interpreters, an idle one of its own reloads first and hands its compiled
    // code on: loading marshalled code costs the others a tenth of compiling it. Never a busy
    // one (a lease's long call): the others would wait for it.
    let interpreters =
      open.filter { $0.mode != .worker }.count + (open.contains { $0.mode == .worker } ? 1 : 0)
    if interpreters > 1,
      let first = open.firstIndex(where: { $0.mode != .worker && !$0.thread.isBusy && $0.queuedCalls == 0 })
    {
      var lead = plan
      lead.share = true
      let leader = await runEach(lead, in: [open[first]])[0]
      var rest = plan
      if case .success(let outcome)? = leader, case .dict = outcome.code {
        rest.precompiled = outcome.code
      } else {
        rest.precompiled = .dict([:])
      }
      var others = open
      others.remove(at: first)
      results = await runEach(rest, in: others)
      results.insert(leader, at: first)
    } else {
      results = await runEach(plan, in: open)
    }
    var outcome = Outcome()
    for (context, result) in zip(open, results) {
      guard let result else { continue }
      outcome.contexts.append(context.name)
      switch result {
      case .success(let ran):
        for module in ran.modules where !outcome.modules.contains(module) { outcome.modules.append(module) }
      case .failure(let error):
        if outcome.error == nil { outcome.error = sendable(error) }
      }
    }
    return outcome
  }

  /// Runs `plan` in each of `contexts` at once; nil for a context closed before it could.
  private static func runEach(_ plan: ReloadPlan, in contexts: [PythonContext]) async
    -> [Result<ReloadScript.Outcome, any Error>?]
  {
    let workers = contexts.filter { $0.mode == .worker }
    let barrier = workers.count > 1 ? ReloadBarrier(expected: workers.count, limit: barrierLimit) : nil
    return await withTaskGroup(of: (Int, Result<ReloadScript.Outcome, any Error>?).self) { group in
      for (index, context) in contexts.enumerated() {
        group.addTask {
          let ran = Atomic<Bool>(false)
          do {
            let outcome = try await context.performBetweenJobs {
              ran.store(true, ordering: .relaxed)
              let reload = { () -> ReloadBarrier.Outcome in
                Result {
                  try PythonContext.hintingSubinterpreterImports(context.mode) { try ReloadScript.run(plan) }
                }
              }
              if context.mode == .worker, let barrier {
                return try barrier.arrive(reload).get()
              }
              return try reload().get()
            }
            return (index, .success(outcome))
          } catch {
            if !ran.load(ordering: .relaxed) {
              // Never ran (refused, or cancelled while queued): the barrier must not wait for it.
              barrier?.refused()
              // Closed before it could run: the context is gone, with its modules.
              if let error = error as? SwiftPyError, error.code == .closed || error.code == .shuttingDown {
                return (index, nil)
              }
            }
            return (index, .failure(error))
          }
        }
      }
      var results = [Result<ReloadScript.Outcome, any Error>?](repeating: nil, count: contexts.count)
      for await (index, result) in group { results[index] = result }
      return results
    }
  }

  static func sendable(_ error: any Error) -> any Error & Sendable {
    if let error = error as? PythonError { return error }
    if let error = error as? SwiftPyError { return error }
    return SwiftPyError(.reloadStepFailed, "\(error)")
  }
}

extension PythonContext {
  /// Runs `body` on the context's thread as a job of its own queue that runs only between two
  /// jobs (never inside a job that waits for Swift and serves its queue meanwhile).
  func performBetweenJobs<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await JobCall.perform(
      .housekeeping, betweenJobs: true, timeout: nil, grace: policy.grace,
      describing: "a reload on '\(name)'", submit: thread.submit, body)
  }
}
