import CPythonShim
import DequeModule
import Logging
import Synchronization

/// Where one context's output goes, and its lines not finished yet.
///
/// Writes are assembled into lines per stream, so that a line of one context never interleaves
/// with another's (`print` writes its text and its line break separately). Finished lines are
/// delivered at once, by one thread at a time, in order: a writer that finds another thread
/// delivering (in a handler, with the GIL released) leaves its lines to that thread.
final class OutputRoute: Sendable {
  /// What a route does with a line.
  enum Destination: Sendable {
    /// Written to the process's file descriptor 1 or 2.
    case inherit
    /// Given to a handler, one line at a time.
    case lines(@Sendable (PythonOutputLine) -> Void)
    case discard
  }

  /// Finished lines of one stream (each ending with a line break), or a partial line flushed.
  private struct Chunk {
    let stream: PythonOutputStream
    let bytes: [UInt8]
  }

  private struct State {
    /// The unfinished line of each stream, indexed by ``PythonOutputStream/fileDescriptor`` - 1.
    var partial: [[UInt8]] = [[], []]
    var ready = Deque<Chunk>()
    var delivering = false
  }

  /// A line longer than this is passed on in pieces rather than held without bound.
  static let longestLine = 64 << 10

  let id: Int
  /// The context's name, as lines are labelled.
  let context: String
  let destination: Destination
  private let state = Mutex(State())

  init(id: Int, context: String, policy: PythonOutputPolicy) {
    self.id = id
    self.context = context
    switch policy {
    case .inherit: destination = .inherit
    case .handler(let handler): destination = .lines(handler)
    case .logger(let logger):
      destination = .lines { line in
        logger.log(
          level: line.stream == .stderr ? .warning : .info, "\(line.text)",
          metadata: ["python.context": "\(line.context)", "python.stream": "\(line.stream)"])
      }
    case .discard: destination = .discard
    }
  }

  /// Adds `bytes` written to `stream` and delivers the lines they finish. With `releasingGIL`
  /// (the caller holds it), the GIL is released while lines are delivered.
  func write(_ stream: PythonOutputStream, _ bytes: UnsafeRawBufferPointer, releasingGIL: Bool) {
    if case .discard = destination { return }
    state.withLock { state in
      let index = Int(stream.fileDescriptor) - 1
      if let lastBreak = bytes.lastIndex(of: UInt8(ascii: "\n")) {
        var lines = state.partial[index]
        lines.append(contentsOf: bytes[...lastBreak])
        state.ready.append(Chunk(stream: stream, bytes: lines))
        state.partial[index] = Array(bytes[(lastBreak + 1)...])
      } else {
        state.partial[index].append(contentsOf: bytes)
      }
      if state.partial[index].count > OutputRoute.longestLine {
        let cut = OutputRoute.characterBoundary(in: state.partial[index], atMost: OutputRoute.longestLine)
        state.ready.append(Chunk(stream: stream, bytes: Array(state.partial[index][..<cut])))
        state.partial[index].removeSubrange(..<cut)
      }
    }
    deliverReady(releasingGIL: releasingGIL)
  }

  /// Delivers the unfinished lines of `streams` as they are.
  func flush(_ streams: [PythonOutputStream] = PythonOutputStream.allCases, releasingGIL: Bool) {
    if case .discard = destination { return }
    state.withLock { state in OutputRoute.moveUnfinished(streams, in: &state) }
    deliverReady(releasingGIL: releasingGIL)
  }

  /// Delivers everything held, even while another thread is delivering: the process is exiting
  /// and that thread may never get to it.
  func drainAtExit() {
    if case .discard = destination { return }
    let chunks = state.withLock { state in
      OutputRoute.moveUnfinished(PythonOutputStream.allCases, in: &state)
      defer { state.ready.removeAll() }
      return Array(state.ready)
    }
    for chunk in chunks { deliver(chunk) }
  }

  private static func moveUnfinished(_ streams: [PythonOutputStream], in state: inout State) {
    for stream in streams {
      let index = Int(stream.fileDescriptor) - 1
      guard !state.partial[index].isEmpty else { continue }
      state.ready.append(Chunk(stream: stream, bytes: state.partial[index]))
      state.partial[index] = []
    }
  }

  /// Delivers the ready chunks unless another thread is at it, then whatever was added
  /// meanwhile, until none is left.
  private func deliverReady(releasingGIL: Bool) {
    guard var batch = takeReady(continuing: false) else { return }
    // Releasing the GIL is what CPython's own file writes do: a slow handler or a full pipe
    // then holds up only the code that printed, not every interpreter sharing that GIL.
    let saved = releasingGIL ? PyEval_SaveThread() : nil
    defer { saved.map(PyEval_RestoreThread) }
    while true {
      for chunk in batch { deliver(chunk) }
      guard let next = takeReady(continuing: true) else { return }
      batch = next
    }
  }

  /// The ready chunks, taking the delivering role (`continuing`: already holding it); nil when
  /// there are none (the role is then given up) or another thread holds the role.
  private func takeReady(continuing: Bool) -> [Chunk]? {
    state.withLock { state in
      if state.delivering && !continuing { return nil }
      if state.ready.isEmpty {
        if continuing { state.delivering = false }
        return nil
      }
      state.delivering = true
      defer { state.ready.removeAll() }
      return Array(state.ready)
    }
  }

  private func deliver(_ chunk: Chunk) {
    switch destination {
    case .inherit:
      StandardStreams.send(chunk.bytes, to: chunk.stream)
    case .lines(let handler):
      var lines = chunk.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
      if chunk.bytes.last == UInt8(ascii: "\n") { lines.removeLast() }
      for line in lines {
        handler(
          PythonOutputLine(
            context: context, stream: chunk.stream, text: String(decoding: line, as: UTF8.self)))
      }
    case .discard:
      break
    }
  }

  /// The largest cut at most `limit` bytes into `bytes` that does not split a UTF-8 character.
  static func characterBoundary(in bytes: [UInt8], atMost limit: Int) -> Int {
    var cut = limit
    while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }  // a continuation byte
    return cut == 0 ? limit : cut
  }
}
