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
