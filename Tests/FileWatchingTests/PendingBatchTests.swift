import Testing

@testable import FileWatching

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The coalescing rules on a synthetic clock and file system.
@Suite("Coalescing", .timeLimit(.minutes(1)))
struct PendingBatchTests {
  let start = ContinuousClock.now
  let window = Duration.milliseconds(2)

  func at(_ milliseconds: Double) -> ContinuousClock.Instant {
    start + .microseconds(Int(milliseconds * 1000))
  }

  func file(_ size: Int64, inode: UInt64 = 1) -> FileStat {
    var st = stat()
    st.st_mode = S_IFREG | 0o644
    st.st_size = off_t(size)
    st.st_ino = ino_t(inode)
    return FileStat(st)
  }

  @Test("the window waits for quiet, up to 25 windows")
  func quietOrCapped() {
    var batch = PendingBatch(coalescing: window)
    var snapshot = Snapshot(["/a.py": file(0), "/b.py": file(0)])
    let disk = ["/a.py": file(1), "/b.py": file(2)]
    batch.written("/a.py", at: at(0))
    batch.written("/b.py", at: at(1.5))
    #expect(batch.deadline == at(3.5))
    #expect(batch.flush(at: at(3), snapshot: &snapshot) { disk[$0] } == nil)
    let change = batch.flush(at: at(3.5), snapshot: &snapshot) { disk[$0] }
    #expect(change == FileChange(paths: ["/a.py", "/b.py"], rescan: false, detectedAt: at(0)))
    #expect(batch.isEmpty && batch.deadline == nil)
    #expect(snapshot["/a.py"] == file(1))
    // A steady stream of events is cut after 25 windows.
    for tick in 0..<100 { batch.written("/a.py", at: at(10 + Double(tick))) }
    #expect(batch.deadline == at(60))
  }

  @Test("a deletion waits for the grace period; a file back by then is not a deletion")
  func grace() {
    var batch = PendingBatch(coalescing: window)
    var snapshot = Snapshot(["/a.py": file(1), "/b.py": file(1, inode: 2)])
    var disk: [String: FileStat] = ["/b.py": file(1, inode: 2)]
    batch.removed("/a.py", at: at(0))  // vim: a.py → a.py~ ...
    batch.removed("/b.py", at: at(0))
    #expect(batch.deadline == at(50))
    disk["/a.py"] = file(0, inode: 3)  // ... a new a.py, being written
    #expect(batch.flush(at: at(50), snapshot: &snapshot) { disk[$0] } == nil)
    #expect(batch.isEmpty)
    disk["/a.py"] = file(9, inode: 3)  // ... closed
    batch.written("/a.py", at: at(60))
    #expect(batch.flush(at: at(62), snapshot: &snapshot) { disk[$0] }?.paths == ["/a.py"])
    // Deleted for good.
    disk["/a.py"] = nil
    batch.removed("/a.py", at: at(100))
    #expect(batch.flush(at: at(149), snapshot: &snapshot) { disk[$0] } == nil)
    #expect(batch.flush(at: at(150), snapshot: &snapshot) { disk[$0] }?.paths == ["/a.py"])
    #expect(snapshot["/a.py"] == nil)
  }

  @Test("a new file waits for the grace period; one gone by then is not reported")
  func transient() {
    var batch = PendingBatch(coalescing: window)
    var snapshot = Snapshot(["/x.json": file(0)])
    var disk = ["/tmp123": file(1, inode: 2), "/x.json": file(0)]
    batch.written("/tmp123", at: at(0))  // closed after writing
    // The window closes before the rename: the new file is held.
    #expect(batch.flush(at: at(2), snapshot: &snapshot) { disk[$0] } == nil)
    #expect(batch.deadline == at(50))
    disk["/x.json"] = disk.removeValue(forKey: "/tmp123")
    batch.removed("/tmp123", at: at(10))
    batch.written("/x.json", at: at(10))
    #expect(batch.flush(at: at(12), snapshot: &snapshot) { disk[$0] }?.paths == ["/x.json"])
    #expect(batch.isEmpty)
    // A new file that stays is reported after the grace period.
    disk["/new.py"] = file(3, inode: 4)
    batch.written("/new.py", at: at(20))
    #expect(batch.flush(at: at(22), snapshot: &snapshot) { disk[$0] } == nil)
    #expect(batch.flush(at: at(70), snapshot: &snapshot) { disk[$0] }?.paths == ["/new.py"])
  }

  @Test("a file found by a scan waits for its own event or the grace period")
  func tentative() {
    var batch = PendingBatch(coalescing: window)
    var snapshot = Snapshot(["/a.py": file(0), "/b.py": file(0, inode: 2)])
    let disk = ["/a.py": file(1), "/b.py": file(1, inode: 2)]
    batch.written("/a.py", at: at(0), rescan: true, tentative: true)
    batch.written("/b.py", at: at(0), rescan: true, tentative: true)
    #expect(batch.deadline == at(50))
    batch.written("/a.py", at: at(1))  // closed after writing
    #expect(batch.deadline == at(3))
    #expect(batch.flush(at: at(3), snapshot: &snapshot) { disk[$0] }?.paths == ["/a.py"])
    let change = batch.flush(at: at(50), snapshot: &snapshot) { disk[$0] }
    #expect(change == FileChange(paths: ["/b.py"], rescan: true, detectedAt: at(0)))
  }

  @Test("with inotify, a save alone is due at once; a burst still waits for quiet")
  func immediateSingleSaves() {
    var batch = PendingBatch(coalescing: window, immediateSingleSaves: true)
    var snapshot = Snapshot(["/a.py": file(0), "/b.py": file(0, inode: 2), "/c.py": file(0, inode: 3)])
    var disk = ["/a.py": file(1), "/b.py": file(1, inode: 2), "/c.py": file(1, inode: 3)]
    // An in-place or rename save, alone: due when it happened.
    batch.written("/a.py", at: at(0))
    #expect(batch.deadline == at(0))
    #expect(batch.flush(at: at(0.5), snapshot: &snapshot) { disk[$0] }?.paths == ["/a.py"])
    #expect(batch.isEmpty && batch.deadline == nil)
    // vim: the old version renamed away, then the new one closed: one path, one change, at the
    // close.
    disk["/a.py"] = nil
    batch.removed("/a.py", at: at(10))
    #expect(batch.deadline == at(60))
    disk["/a.py"] = file(2, inode: 4)
    batch.written("/a.py", at: at(13))
    #expect(batch.deadline == at(13))
    #expect(batch.flush(at: at(13), snapshot: &snapshot) { disk[$0] }?.paths == ["/a.py"])
    #expect(batch.isEmpty)
    // A burst (a checkout): the first file alone, the others within a window of it together.
    batch.written("/b.py", at: at(20))
    #expect(batch.deadline == at(20))
    #expect(batch.flush(at: at(20), snapshot: &snapshot) { disk[$0] }?.paths == ["/b.py"])
    disk["/a.py"] = file(3, inode: 4)
    batch.written("/c.py", at: at(20.5))
    #expect(batch.deadline == at(22.5))
    batch.written("/a.py", at: at(21))
    #expect(batch.deadline == at(23))
    #expect(batch.flush(at: at(23), snapshot: &snapshot) { disk[$0] }?.paths == ["/a.py", "/c.py"])
    // Two files read together: the window, as before.
    disk["/b.py"] = file(2, inode: 2)
    disk["/c.py"] = file(2, inode: 3)
    batch.written("/b.py", at: at(30))
    batch.written("/c.py", at: at(30))
    #expect(batch.deadline == at(32))
    #expect(batch.flush(at: at(32), snapshot: &snapshot) { disk[$0] }?.paths == ["/b.py", "/c.py"])
    // A new file is still held for the grace period, even alone.
    disk["/new.py"] = file(1, inode: 5)
    batch.written("/new.py", at: at(40))
    #expect(batch.flush(at: at(40), snapshot: &snapshot) { disk[$0] } == nil)
    #expect(batch.deadline == at(90))
    // A save while another path is pending (the new file's grace period) waits for the window.
    disk["/b.py"] = file(3, inode: 2)
    batch.written("/b.py", at: at(50))
    #expect(batch.deadline == at(52))
    #expect(batch.flush(at: at(52), snapshot: &snapshot) { disk[$0] }?.paths == ["/b.py"])
    #expect(batch.flush(at: at(90), snapshot: &snapshot) { disk[$0] }?.paths == ["/new.py"])
  }

  @Test("with kqueue, a file whose status did not change is not reported")
  func statusChange() {
    var batch = PendingBatch(coalescing: window, requireStatusChange: true)
    var snapshot = Snapshot(["/a.py": file(1)])
    batch.written("/a.py", at: at(0))
    #expect(batch.flush(at: at(2), snapshot: &snapshot) { _ in file(1) } == nil)
    batch.written("/a.py", at: at(10))
    #expect(batch.flush(at: at(12), snapshot: &snapshot) { _ in file(2) }?.paths == ["/a.py"])
  }
}
