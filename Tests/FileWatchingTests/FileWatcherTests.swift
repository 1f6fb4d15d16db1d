import Testing

@testable import FileWatching
