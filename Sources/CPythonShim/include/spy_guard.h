#ifndef SWIFTPY_GUARD_H
#define SWIFTPY_GUARD_H
/*
 * The guard: what SwiftPy refuses to Python code for the host's sake — the sandbox of
 * `sandbox: true` pools, and the host's signal handlers — kept in C, where Python code cannot
 * reach it (ARCHITECTURE.md, "The sandbox").
 *
 * - One audit hook for the whole process (PEP 578, PySys_AddAuditHook: a C function, not a
 *   Python object) refuses the audited operations of sandboxed interpreters.
 * - The C functions that end or signal the host without raising an audit event (os._exit,
 *   signal.alarm, faulthandler._sigsegv, _posixsubprocess.fork_exec, ...) are guarded where
 *   every call to them passes: their method table entry (PyMethodDef.ml_meth), which every
 *   function object made from it points to, in every interpreter, after any reload or re-import.
 * - Which interpreters are sandboxed is a set of interpreter IDs in C memory (IDs are never
 *   reused within a process).
 */
#include "CPythonShim.h"

#pragma clang assume_nonnull begin

/* Installs the audit hook and guards the functions; once per process (later calls return 0),
 * with the main interpreter attached. With `host_owns_signals`, signal.signal, siginterrupt and
 * set_wakeup_fd refuse in every interpreter, sandboxed or not. Returns 0, or -1 with a Python
 * exception set. `unguarded` receives the names of functions that exist but could not be
 * guarded (comma-separated; empty when all were). */
int spy_guard_install(int host_owns_signals, char *unguarded, size_t unguarded_size);

/* Puts the attached interpreter in the sandbox for the rest of its life. Returns 0, or -1 with
 * a Python exception set. */
int spy_guard_sandbox_current(void);

/* Forgets interpreter `id` (called after it ended); a no-op when it was not sandboxed. */
void spy_guard_forget(long long id);

/* Whether interpreter `id` is sandboxed, and how many are. */
int spy_guard_is_sandboxed(long long id);
long spy_guard_sandboxed_count(void);

#pragma clang assume_nonnull end

#endif
