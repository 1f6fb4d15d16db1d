import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a line from a terminal in raw mode, with editing: left/right, Home/End (Ctrl-A/E),
/// Backspace, Delete, Ctrl-K/U (kill to end/start), up/down through ``LineHistory``, Tab (four
/// spaces), Ctrl-C (the line is dropped) and Ctrl-D (end of input on an empty line). The
/// terminal is raw only while a line is read: Python code runs with the terminal as it was,
/// so that Ctrl-C there is a SIGINT. Lines longer than the terminal is wide are redrawn badly.
///
/// `readLine` runs on one thread at a time; ``printAbove(_:)`` may be called from any thread
/// meanwhile. Both hold `lock` while they touch the line or the screen.
final class LineEditor: @unchecked Sendable {
  enum Input: Equatable {
    case line(String)
    case interrupted
    case endOfFile
  }

  private let lock = NSLock()
  private var history: LineHistory
  private var prompt = ""
  private var text: [Character] = []
  private var cursor = 0
  /// Where the up and down arrows are in the history; `entries.count` is the line being typed.
  private var position = 0
  /// The line being typed, kept while the arrows show older ones.
  private var draft: [Character] = []
  private var reading = false

  init(history: LineHistory) { self.history = history }

  /// Shows `prompt` and reads one line, edited.
  func readLine(prompt: String) -> Input {
    guard let saved = Self.enterRawMode() else { return .endOfFile }
    defer { tcsetattr(STDIN_FILENO, TCSANOW, [saved]) }
    locked {
      self.prompt = prompt
      text = []
      cursor = 0
      position = history.entries.count
      reading = true
      redraw()
    }
    defer { locked { reading = false } }
    while true {
      guard let byte = Self.readByte() else { return locked { finish(.endOfFile) } }
      if let input = locked({ handle(byte) }) { return input }
    }
  }

  /// Prints `line` above the prompt and draws the prompt again, as it was.
  func printAbove(_ line: String) {
    locked {
      guard reading else {
        Self.write(line + "\n")
        return
      }
      Self.write("\r\u{1B}[K" + line + "\r\n")
      redraw()
    }
  }

  /// One key (or the first byte of one), with `lock` held; the line when it ends.
  private func handle(_ byte: UInt8) -> Input? {
    switch byte {
    case 0x0D, 0x0A:  // Enter
      let line = String(text)
      history.add(line)
      return finish(.line(line))
    case 0x03:  // Ctrl-C
      return finish(.interrupted)
    case 0x04:  // Ctrl-D: end of input on an empty line, else delete
      if text.isEmpty { return finish(.endOfFile) }
      if cursor < text.count { text.remove(at: cursor) }
    case 0x01: cursor = 0  // Ctrl-A
    case 0x05: cursor = text.count  // Ctrl-E
    case 0x02: cursor = max(0, cursor - 1)  // Ctrl-B
    case 0x06: cursor = min(text.count, cursor + 1)  // Ctrl-F
    case 0x0B: text.removeSubrange(cursor...)  // Ctrl-K
    case 0x15:  // Ctrl-U
      text.removeSubrange(..<cursor)
      cursor = 0
    case 0x7F, 0x08:  // Backspace
      if cursor > 0 {
        cursor -= 1
        text.remove(at: cursor)
      }
    case 0x09: insert(Array("    "))  // Tab: Python's indentation
    case 0x1B: escapeSequence()
    case 0x20..<0x7F: insert([Character(UnicodeScalar(byte))])
    case 0xC0...0xF7: insert(Self.readUTF8(startingWith: byte))
    default: break
    }
    redraw()
    return nil
  }

  /// The rest of an arrow, Home, End or Delete key: ESC [ or ESC O, parameters, a final byte.
  private func escapeSequence() {
    guard let introducer = Self.readByte(), introducer == UInt8(ascii: "[") || introducer == UInt8(ascii: "O")
    else { return }
    var parameters = ""
    while let byte = Self.readByte() {
      guard (0x40...0x7E).contains(byte) else {
        parameters.append(Character(UnicodeScalar(byte)))
        continue
      }
      switch (Character(UnicodeScalar(byte)), parameters) {
      case ("A", _): recall(position - 1)
      case ("B", _): recall(position + 1)
      case ("C", _): cursor = min(text.count, cursor + 1)
      case ("D", _): cursor = max(0, cursor - 1)
      case ("H", _), ("~", "1"), ("~", "7"): cursor = 0
      case ("F", _), ("~", "4"), ("~", "8"): cursor = text.count
      case ("~", "3"): if cursor < text.count { text.remove(at: cursor) }
      default: break
      }
      return
    }
  }

  /// Shows history entry `index` (the count: the draft), the cursor at its end.
  private func recall(_ index: Int) {
    guard index >= 0, index <= history.entries.count, index != position else { return }
    if position == history.entries.count { draft = text }
    position = index
    text = index == history.entries.count ? draft : Array(history.entries[index])
    cursor = text.count
  }

  private func insert(_ characters: [Character]) {
    text.insert(contentsOf: characters, at: cursor)
    cursor += characters.count
  }

  private func finish(_ input: Input) -> Input {
    cursor = text.count
    redraw()
    Self.write("\r\n")
    return input
  }

  /// The prompt and the line from the start of the row, the cursor where it belongs.
  private func redraw() {
    let back = text.count - cursor
    Self.write("\r" + prompt + String(text) + "\u{1B}[K" + (back > 0 ? "\u{1B}[\(back)D" : ""))
  }

  private func locked<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }

  // MARK: The terminal

  /// Turns off echo, line buffering and the signal keys; output processing stays on, so that
  /// "\n" still starts a new row. Returns the settings to restore (nil: not a terminal).
  private static func enterRawMode() -> termios? {
    var saved = termios()
    guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return nil }
    var raw = saved
    raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
    raw.c_iflag &= ~tcflag_t(IXON | ICRNL | BRKINT | INPCK | ISTRIP)
    withUnsafeMutableBytes(of: &raw.c_cc) { cc in
      cc[Int(VMIN)] = 1
      cc[Int(VTIME)] = 0
    }
    guard tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0 else { return nil }
    return saved
  }

  /// The next byte typed; nil at the end of input or on an error.
  private static func readByte() -> UInt8? {
    var byte: UInt8 = 0
    while true {
      let count = read(STDIN_FILENO, &byte, 1)
      if count == 1 { return byte }
      if count < 0 && errno == EINTR { continue }
      return nil
    }
  }

  /// A character whose UTF-8 encoding starts with `lead` (invalid input: the replacement character).
  private static func readUTF8(startingWith lead: UInt8) -> [Character] {
    let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
    var bytes = [lead]
    for _ in 1..<length {
      guard let byte = readByte() else { break }
      bytes.append(byte)
    }
    return Array(String(decoding: bytes, as: UTF8.self))
  }

  private static func write(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }
}
