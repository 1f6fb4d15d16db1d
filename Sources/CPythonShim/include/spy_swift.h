#ifndef SWIFTPY_SWIFT_MODULE_H
#define SWIFTPY_SWIFT_MODULE_H
/*
 * The native half of the `swift` module every SwiftPy interpreter has: builtins whose calls go
 * straight to one Swift function (callbacks, shared state, logging), made anew in each
 * interpreter (no Python object is shared between interpreters), and a thread-local that says
 * which runtime the calling OS thread serves (worker contexts of several runtimes share the
 * main interpreter and so its `swift` module).
 */
#include "CPythonShim.h"

#pragma clang assume_nonnull begin

/* Called with the GIL held: `key` is the builtin's (bridge id << 8 | operation), `args` the
 * tuple of positional arguments. Returns a new reference, or NULL with an exception set. */
typedef PyObject *_Nullable (*SPySwiftCallback)(long long key, PyObject *args);

/* Registers the one Swift function (before any builtin is made). */
void spy_swift_set_callback(SPySwiftCallback callback);

/* The builtins, by operation: the Swift function receives the operation in `key`'s low byte. */
enum {
  SPY_SWIFT_CALL = 0,     /* _call(name, args, kwargs) -> (status, payload) */
  SPY_SWIFT_HAS = 1,      /* _has(name) -> bool */
  SPY_SWIFT_NAMES = 2,    /* _names() -> list of str */
  SPY_SWIFT_STATE = 3,    /* _state(op, ...) */
  SPY_SWIFT_LOG = 4,      /* _log(levelno, logger, message, context) */
  SPY_SWIFT_HOLD = 5,     /* _hold() -> token: interrupts held off on this thread */
  SPY_SWIFT_RESTORE = 6,  /* _restore(token) */
  SPY_SWIFT_EXTENSION = 7, /* _extension(path) -> name of what made it one-interpreter-only, or None */
  SPY_SWIFT_REFUSED = 8,  /* _refused(module, reason): logged once per module and runtime */
  SPY_SWIFT_OP_COUNT = 9
};

/* Its name (`_call`, ...) for `operation`. */
const char *spy_swift_builtin_name(int operation);

/* A new builtin for `operation` (METH_VARARGS) bound to `bridge`, in the attached interpreter;
 * the Swift function gets key (bridge << 8 | operation). NULL with an exception on failure. */
PyObject *_Nullable spy_swift_new_builtin(int operation, long long bridge);

/* The runtime (bridge id) the calling OS thread serves, 0 when none. */
void spy_swift_set_thread_bridge(long long bridge);
long long spy_swift_thread_bridge(void);

/* True when `object` is a coroutine (`async def` called) or an async generator; generators too.
 * The types are CPython's static ones, the same in every interpreter. */
int spy_is_coroutine(PyObject *object);
int spy_is_async_generator(PyObject *object);

#pragma clang assume_nonnull end

#endif
