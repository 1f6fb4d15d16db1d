#ifndef SWIFTPY_OUTPUT_H
#define SWIFTPY_OUTPUT_H
/*
 * SwiftPy's sys.stdout and sys.stderr hand every write straight to Swift through two C builtins
 * made here; Swift decides where each write goes (a capture, a handler, the process's fd).
 * Thread-locals say which context and which capture the calling OS thread serves: Swift has no
 * thread-locals of its own.
 */
#include "CPythonShim.h"

#pragma clang assume_nonnull begin

/* What the Swift callback is asked to do. */
enum {
  SPY_OUTPUT_WRITE = 0,        /* `data`/`size`: UTF-8 text (or raw bytes) written to the stream */
  SPY_OUTPUT_FLUSH = 1,        /* the stream's flush() */
  SPY_OUTPUT_ISATTY = 2,       /* the stream's isatty(): return 1 for a terminal */
  SPY_OUTPUT_THREAD_ENDED = 3, /* `key` is a route whose context thread state is being cleared */
};

/* `key` identifies the stream: (route << 1) | (0 for stdout, 1 for stderr). Called with the GIL
 * held; returns the answer to SPY_OUTPUT_ISATTY, else 0. */
typedef int (*SPyOutputCallback)(long long key, int op, const char *_Nullable data, Py_ssize_t size);

/* Registers the one Swift callback (before any stream is made). */
void spy_output_set_callback(SPyOutputCallback callback);

/* A new builtin bound to `key`, in the attached interpreter: `emit(text | bytes | None)`
 * (None flushes) when `isatty` is 0, `isatty()` otherwise. NULL with an exception on failure. */
PyObject *_Nullable spy_output_new_builtin(long long key, int isatty);

/* Puts a capsule in the calling thread state's dict; when CPython clears that thread state (a
 * worker context's close, or its sub-interpreter's end), the callback gets
 * SPY_OUTPUT_THREAD_ENDED for `route`. Returns 0, or -1 (an exception may be set). */
int spy_output_watch_thread_state(long long route);

/* The route of the context this OS thread serves (0: none). */
void spy_output_set_thread_route(long long route);
long long spy_output_thread_route(void);

/* The capture sink of the job running on this OS thread (unretained), or NULL. */
void spy_output_set_thread_sink(void *_Nullable sink);
void *_Nullable spy_output_thread_sink(void);

#pragma clang assume_nonnull end

#endif
