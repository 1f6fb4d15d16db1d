import CPythonShim

// The three kinds of CPython pointer SwiftPy handles, each its own Swift type (the C shim
// declares the structs complete for that reason), so that the compiler rejects a thread state
// passed where an interpreter or an object belongs.

/// A `PyObject *`: owned or borrowed as the code around it says (see ``PyRef`` for owned ones).
typealias PyObjectPointer = UnsafeMutablePointer<PyObject>
/// A `PyThreadState *`: one OS thread's attachment to one interpreter.
typealias PyThreadStatePointer = UnsafeMutablePointer<PyThreadState>
/// A `PyInterpreterState *`: one interpreter.
typealias PyInterpreterPointer = UnsafeMutablePointer<PyInterpreterState>
