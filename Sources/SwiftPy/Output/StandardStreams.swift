import Synchronization

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The process's standard output and standard error, written with `write(2)`: no buffer of
/// ours or C's stdio is left holding anything when the process exits.
enum StandardStreams {
  /// One writer per descriptor at a time, so that chunks from different contexts never
  /// interleave (a large chunk can take several `write` calls).
  private static let stdoutLock = Mutex(())
  private static let stderrLock = Mutex(())

  static func send(_ bytes: [UInt8], to stream: PythonOutputStream) {
    if stream == .stdout {
      stdoutLock.withLock { _ in writeAll(bytes, to: stream.fileDescriptor) }
    } else {
      stderrLock.withLock { _ in writeAll(bytes, to: stream.fileDescriptor) }
    }
  }

  /// `write(2)` until every byte is taken, retrying interrupted and would-block writes.
  private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
    bytes.withUnsafeBytes { buffer in
      guard var next = buffer.baseAddress else { return }
      var left = buffer.count
      while left > 0 {
        let written = write(descriptor, next, left)
        if written > 0 {
          next += written
          left -= written
        } else if written < 0 && errno == EINTR {
          continue
        } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
          // A descriptor someone made non-blocking: wait until it takes more.
          var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
          _ = poll(&ready, 1, -1)
        } else {
          return  // closed or broken: nobody is there to read it, and nothing to tell
        }
      }
    }
  }

  /// Whether the stream's descriptor is a terminal.
  static func isTerminal(_ stream: PythonOutputStream) -> Bool { isatty(stream.fileDescriptor) == 1 }

}
