import CPythonShim
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

  /// Runs `command` with `/bin/sh -c`, its output the process's own, in a process group of its
  /// own with the default signal handlers and nothing blocked (a host that ignores SIGINT, or
  /// the dispatch thread this runs on, which blocks SIGTERM, would otherwise pass that on).
  /// Cancelling the task terminates the whole group (a pipeline, a child of the shell), and
  /// kills it if it is still there after ``shellGrace``.
  static func shell(_ command: String) async throws {
    let shellGrace = 2.0  // seconds between SIGTERM and SIGKILL
    let pid = try spawnShell(command)
    let status: Int32 = await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let waiter = Thread {
          var status: Int32 = 0
          while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
          continuation.resume(returning: status)
        }
        waiter.name = "shell step"
        waiter.start()
      }
    } onCancel: {
      kill(-pid, SIGTERM)
      Thread.detachNewThread {
        Thread.sleep(forTimeInterval: shellGrace)
        kill(-pid, SIGKILL)  // a group that ignored SIGTERM; harmless once it is gone
      }
    }
    try Task.checkCancellation()
    let exited = status & 0x7f == 0
    guard exited && (status >> 8) & 0xff == 0 else {
      let how = exited ? "exited with status \((status >> 8) & 0xff)" : "was ended by signal \(status & 0x7f)"
      throw SwiftPyError(.reloadStepFailed, "the command '\(command)' \(how)")
    }
  }

  static func spawnShell(_ command: String) throws -> pid_t {
    #if canImport(Darwin)
      var attributes: posix_spawnattr_t? = nil
    #else
      var attributes = posix_spawnattr_t()
    #endif
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGINT, SIGTERM, SIGQUIT, SIGPIPE, SIGXFSZ, SIGCHLD] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var nothingBlocked = sigset_t()
    sigemptyset(&nothingBlocked)
    posix_spawnattr_setsigmask(&attributes, &nothingBlocked)
    posix_spawnattr_setpgroup(&attributes, 0)
    // The standard streams and nothing else of the host's descriptors (spy_spawn.h says why).
    var flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
    #if canImport(Darwin)
      var actions: posix_spawn_file_actions_t? = nil
      flags |= POSIX_SPAWN_CLOEXEC_DEFAULT
    #else
      var actions = posix_spawn_file_actions_t()
    #endif
    posix_spawnattr_setflags(&attributes, Int16(flags))
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    #if canImport(Darwin)
      for descriptor: Int32 in 0...2 { posix_spawn_file_actions_addinherit_np(&actions, descriptor) }
    #else
      _ = spy_spawn_close_from(&actions, 3)
    #endif
    let words: [String] = ["/bin/sh", "-c", command]
    let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { for argument in arguments { free(argument) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, arguments, environ)
    guard result == 0 else {
      throw SwiftPyError(
        .reloadStepFailed, "could not run '\(command)': \(String(cString: strerror(result)))")
    }
    return pid
  }
}

extension ReloadHook {
  var pythonName: String? {
    if case .python(let name) = self { return name }
    return nil
  }
}
