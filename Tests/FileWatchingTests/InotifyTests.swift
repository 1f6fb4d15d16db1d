#if canImport(Glibc)
  import Foundation
  import Glibc
  import Testing

  @_spi(Testing) @testable import FileWatching

  @Suite("inotify", .timeLimit(.minutes(1)))
  struct InotifyTests {
    @Test("a queue overflow triggers a rescan that reports what changed meanwhile")
    func overflowRescan() async throws {
      let dir = try TemporaryDirectory()
      Disk.writeInPlace(dir("target.py"), "short")
      Disk.writeInPlace(dir("untouched.py"), "same")
      Disk.makeDirectory(dir("sub"))
      Disk.writeInPlace(dir("sub/doomed.py"), "d")
      let watcher = try FileWatcher(FileWatchOptions(paths: [dir.path]))
      #expect(watcher.backendName == "inotify")
      let collector = Collector(watcher)
      watcher.pauseReader()
      // More events than the queue holds, alternating between two files (the kernel merges an
      // event identical to the last one queued). *.tmp files: events, but never reported.
      let limit =
        Int(
          (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
      for index in 0..<(limit + 100) {
        let fd = open(dir(index % 2 == 0 ? "flood-a.tmp" : "flood-b.tmp"), O_WRONLY | O_CREAT, 0o644)
        close(fd)
      }
      // Lost events: a change, a deletion, a new directory with a file.
      Disk.writeInPlace(dir("target.py"), "much longer than before")
      unlink(dir("sub/doomed.py"))
      Disk.makeDirectory(dir("new"))
      Disk.writeInPlace(dir("new/born.py"), "b")
      watcher.resumeReader()
      #expect(await collector.wait(for: dir("target.py")))
      #expect(await collector.wait(for: dir("new/born.py")))
      #expect(await collector.wait(for: dir("sub/doomed.py")))
      for path in ["target.py", "new/born.py", "sub/doomed.py"] {
        #expect(collector.changes(containing: dir(path)).allSatisfy { $0.rescan }, "\(path)")
      }
      try await Task.sleep(for: quietPeriod)
      #expect(collector.changes(containing: dir("untouched.py")).isEmpty)
      #expect(collector.changes(containing: dir("target.py")).count == 1)
      // The new directory found by the rescan is watched.
      Disk.writeInPlace(dir("new/born.py"), "again")
      #expect(await collector.wait { collector.changes(containing: dir("new/born.py")).count >= 2 })
    }

    @Test("falls back to polling when inotify_init1 fails with EMFILE")
    func fallback() async throws {
      let dir = try TemporaryDirectory()
      var options = FileWatchOptions(paths: [dir.path])
      options.simulatedInotifyFailure = EMFILE
      let watcher = try FileWatcher(options)
      #expect(watcher.backendName == "polling")
      let collector = Collector(watcher)
      Disk.writeTemporaryThenRename(dir("a.py"), "a")
      #expect(await collector.wait(for: dir("a.py")))
      // Another failure is an error.
      options.simulatedInotifyFailure = EINVAL
      #expect(throws: FileWatchError.systemCall("inotify_init1", path: nil, errno: EINVAL)) {
        try FileWatcher(options)
      }
    }

    @Test("variable-length records, split at every byte")
    func parserSplits() {
      var bytes: [UInt8] = []
      func record(_ wd: Int32, _ mask: UInt32, _ cookie: UInt32, _ name: String, padTo: Int) {
        var name = Array(name.utf8)
        if !name.isEmpty || padTo > 0 {
          name.append(0)
          while name.count < padTo { name.append(0) }
        }
        withUnsafeBytes(of: wd) { bytes += $0 }
        withUnsafeBytes(of: mask) { bytes += $0 }
        withUnsafeBytes(of: cookie) { bytes += $0 }
        withUnsafeBytes(of: UInt32(name.count)) { bytes += $0 }
        bytes += name
      }
      record(1, UInt32(IN_CLOSE_WRITE), 0, "a.py", padTo: 16)
      record(2, UInt32(IN_DELETE_SELF), 0, "", padTo: 0)
      record(3, UInt32(IN_MOVED_TO), 7, "a-rather-long-file-name-é.py", padTo: 32)
      record(-1, UInt32(IN_Q_OVERFLOW), 0, "", padTo: 0)
      let expected = [
        InotifyEvent(descriptor: 1, mask: UInt32(IN_CLOSE_WRITE), cookie: 0, name: "a.py"),
        InotifyEvent(descriptor: 2, mask: UInt32(IN_DELETE_SELF), cookie: 0, name: ""),
        InotifyEvent(
          descriptor: 3, mask: UInt32(IN_MOVED_TO), cookie: 7, name: "a-rather-long-file-name-é.py"),
        InotifyEvent(descriptor: -1, mask: UInt32(IN_Q_OVERFLOW), cookie: 0, name: ""),
      ]
      #expect(MemoryLayout<inotify_event>.size == InotifyParser.headerSize)
      for split in 0...bytes.count {
        for second in split...bytes.count {
          var parser = InotifyParser()
          var events: [InotifyEvent] = []
          bytes.withUnsafeBytes { raw in
            events += parser.parse(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
            events += parser.parse(UnsafeRawBufferPointer(rebasing: raw[split..<second]))
            events += parser.parse(UnsafeRawBufferPointer(rebasing: raw[second...]))
          }
          #expect(events == expected, "split at \(split), \(second)")
          if events != expected { return }
        }
      }
    }

    @Test("latency from rename() to the change delivered (printed, not asserted)")
    func latency() async throws {
      let dir = try TemporaryDirectory()
      let file = dir("hot.py")
      Disk.writeInPlace(file, "x = 0\n")
      let watcher = try FileWatcher(FileWatchOptions(paths: [dir.path], extensions: ["py"]))
      let collector = Collector(watcher)
      var delivered: [Duration] = []
      var detected: [Duration] = []
      for index in 1...50 {
        let renamed = Disk.writeTemporaryThenRename(file, "x = \(index)\n")
        #expect(await collector.wait { collector.received.count == index })
        guard collector.received.count == index, let last = collector.received.last else { break }
        delivered.append(last.at - renamed)
        detected.append(last.change.detectedAt - renamed)
        try await Task.sleep(for: .milliseconds(5))
      }
      func percentile(_ values: [Duration], _ p: Double) -> String {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return "-" }
        let value = sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        return String(
          format: "%.3f ms",
          Double(value.components.attoseconds) / 1e15 + Double(value.components.seconds) * 1000)
      }
      print(
        "FileWatcher latency over \(delivered.count) rename saves (coalescing \(FileWatchOptions.defaultCoalescing)):"
          + " rename→delivered p50 \(percentile(delivered, 0.5)), p95 \(percentile(delivered, 0.95)),"
          + " max \(percentile(delivered, 1));"
          + " rename→read p50 \(percentile(detected, 0.5)), p95 \(percentile(detected, 0.95))")
      #expect(delivered.count == 50)
    }
  }
#endif
