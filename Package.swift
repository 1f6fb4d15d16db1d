// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "SwiftPy",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "SwiftPy", targets: ["SwiftPy"]),
    .executable(name: "swiftpy", targets: ["swiftpy"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
  ],
  targets: [
    // Our own declarations of the CPython C-API subset we use, plus the dlopen/dlsym loader.
    // No Python.h is needed at build time: libpython is found and loaded at run time.
    .target(name: "CPythonShim", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
    // Watching files and directories for saves (inotify on Linux, kqueue on macOS, polling
    // elsewhere): the hot-reload layer's input, usable on its own.
    .target(name: "FileWatching"),
    .target(
      name: "SwiftPy",
      dependencies: [
        "CPythonShim",
        "FileWatching",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "OrderedCollections", package: "swift-collections"),
        .product(name: "DequeModule", package: "swift-collections"),
      ]
    ),
    .executableTarget(
      name: "swiftpy",
      dependencies: ["SwiftPy", .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    // Runnable examples: `swift run QuickStart`, `swift run SwiftCallbacks`.
    .executableTarget(name: "QuickStart", dependencies: ["SwiftPy"], path: "Examples/QuickStart"),
    .executableTarget(name: "HotReload", dependencies: ["SwiftPy"], path: "Examples/HotReload"),
    // Python calling Swift: `swift run SwiftCallbacks`.
    .executableTarget(
      name: "SwiftCallbacks",
      dependencies: ["SwiftPy", .product(name: "Logging", package: "swift-log")],
      path: "Examples/SwiftCallbacks"),
    // The tests run the `swiftpy` executable too, so they depend on it to have it built.
    .testTarget(name: "SwiftPyTests", dependencies: ["SwiftPy", "swiftpy", "FileWatching"]),
    .testTarget(name: "FileWatchingTests", dependencies: ["FileWatching"]),
  ],
  swiftLanguageModes: [.v6]
)
