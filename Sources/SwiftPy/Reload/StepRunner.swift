import Foundation

/// Runs a hot reloader's steps once, in order, and says what happened as a ``ReloadEvent``.
struct StepRunner: Sendable {
  let steps: [HotReloadStep]
  let strategy: ReloadStrategy
  /// Every context of every pool and the standalone ones, as they are when asked.
  let contexts: @Sendable () -> [PythonContext]

  /// The ANSI sequence that clears the screen and its scroll-back and homes the cursor.
  static let clearSequence = "\u{1B}[H\u{1B}[2J\u{1B}[3J"

  func run(trigger: ReloadEvent.Trigger, files: [String], rescan: Bool, since: ContinuousClock.Instant) async
    -> ReloadEvent
  {
    let clock = ContinuousClock()
    var modules: [String] = []
    var reached: [String] = []
    var latency: Duration?
    var failure: (any Error & Sendable)?
    // The changed files' modules go with the first `.module` step, or, without one, right
    // after the steps that clear the terminal.
    let filesAt =
      steps.firstIndex { $0.moduleName != nil }
      ?? steps.firstIndex { if case .clearTerminal = $0.kind { false } else { true } } ?? steps.count

    func reload(_ plan: ReloadPlan) async -> (any Error & Sendable)? {
      let outcome = await ReloadFanOut.run(plan, in: contexts())
      latency = clock.now - since
      for module in outcome.modules where !modules.contains(module) { modules.append(module) }
      for context in outcome.contexts where !reached.contains(context) { reached.append(context) }
      return outcome.error
    }

    func hook(_ hook: ReloadHook?) async throws {
      guard case .swift(let body) = hook else { return }
      do { try await body() } catch { throw Self.stepFailure("a Swift hook threw", error) }
    }

    run: for index in 0...steps.count {
      let wantsFiles = index == filesAt && !files.isEmpty
      if index == steps.count {
        if wantsFiles, let error = await reload(plan(files: files, modules: [])) { failure = error }
        break
      }
      do {
        switch steps[index].kind {
        case .clearTerminal:
          FileHandle.standardOutput.write(Data(Self.clearSequence.utf8))
        case .module(let name, let pre, let post, let importMissing):
          try await hook(pre)
          let module = ReloadPlan.Module(name: name, preReload: pre?.pythonName, postReload: post?.pythonName)
          var plan = plan(files: wantsFiles ? files : [], modules: [module])
          plan.importMissing = importMissing
          if let error = await reload(plan) { throw error }
          try await hook(post)
        case .shell(let command):
          if wantsFiles, let error = await reload(plan(files: files, modules: [])) { throw error }
          try await Self.shell(command)
        case .swift(let body):
          if wantsFiles, let error = await reload(plan(files: files, modules: [])) { throw error }
          do { try await body(files) } catch { throw Self.stepFailure("a Swift step threw", error) }
        }
      } catch {
        failure = ReloadFanOut.sendable(error)
        break run
      }
    }
    return ReloadEvent(
      trigger: trigger, files: files, rescan: rescan, modules: modules, contexts: reached, error: failure,
      latency: latency ?? clock.now - since)
  }

  private func plan(files: [String], modules: [ReloadPlan.Module]) -> ReloadPlan {
    ReloadPlan(files: files, modules: modules, strategy: strategy, importMissing: false)
  }

  static func stepFailure(_ what: String, _ error: any Error) -> SwiftPyError {
    SwiftPyError(.reloadStepFailed, "\(what): \(error)", underlying: ReloadFanOut.sendable(error))
  }

  /// Runs `command` with `/bin/sh -c`, its output the process's own.
  static func shell(_ command: String) async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
      process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
      do {
        try process.run()
      } catch {
        process.terminationHandler = nil
        continuation.resume(
          throwing: SwiftPyError(.reloadStepFailed, "could not run '\(command)': \(error)"))
      }
    }
    guard status == 0 else {
      throw SwiftPyError(.reloadStepFailed, "the command '\(command)' exited with status \(status)")
    }
  }
}

extension ReloadHook {
  var pythonName: String? {
    if case .python(let name) = self { return name }
    return nil
  }
}
