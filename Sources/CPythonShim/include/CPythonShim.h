#ifndef SWIFTPY_CPYTHON_SHIM_H
#define SWIFTPY_CPYTHON_SHIM_H
/*
 * SwiftPy's own declarations of the CPython C-API subset it uses. libpython is not linked:
 * spy_load() dlopens it at run time and fills a table of function pointers; the static inline
 * wrappers below keep CPython's names so the Swift code reads like ordinary C-API code. Being
 * static, the wrappers are never exported, so they cannot interpose on libpython's own symbols.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The shim's per-thread state (which interpreter thread, context, route and gate this OS thread
 * serves) is read on every Python operation SwiftPy makes. The initial-exec model reads it at a
 * fixed offset from the thread pointer instead of calling __tls_get_addr each time; it holds
 * for a program that links SwiftPy in, and for a library loaded later through glibc's reserve of
 * static TLS (a few dozen bytes here). */
#define SPY_THREAD_LOCAL _Thread_local __attribute__((tls_model("initial-exec")))

/* Pointers in this header are non-null unless marked _Nullable (the region is paused around
 * each expansion of spy_functions.def, which annotates every pointer itself). */
#pragma clang assume_nonnull begin

typedef ssize_t Py_ssize_t;

/* Opaque CPython structs. Each is declared complete, with one placeholder member that is never
 * read, only so that Swift imports a distinct pointer type for each (an incomplete struct would
 * be an interchangeable OpaquePointer): a thread state cannot then be passed where an
 * interpreter or an object is expected. SwiftPy never allocates or dereferences them. */
typedef struct SPyTypeObject { char never_read; } PyTypeObject;
typedef struct SPyThreadState { char never_read; } PyThreadState;
typedef struct SPyInterpreterState { char never_read; } PyInterpreterState;

/* The head of every object in a build without free threading (3.12-3.15): a reference count,
 * then the type. SwiftPy reads the type only (spy_type). */
typedef struct SPyObject {
  Py_ssize_t ob_refcnt;
  PyTypeObject *ob_type;
} PyObject;

/* PyStatus, returned by value from Py_NewInterpreterFromConfig (same layout 3.8-3.14). */
typedef struct {
  int type; /* 0 ok, 1 error, 2 exit */
  const char *_Nullable func;
  const char *_Nullable err_msg;
  int exitcode;
} PyStatus;

/* PyInterpreterConfig: seven ints, same layout in 3.12-3.14. */
typedef struct {
  int use_main_obmalloc;
  int allow_fork;
  int allow_exec;
  int allow_threads;
  int allow_daemon_threads;
  int check_multi_interp_extensions;
  int gil; /* 0 default, 1 shared, 2 own */
} PyInterpreterConfig;

enum { SPY_SINGLE_INPUT = 256, SPY_FILE_INPUT = 257, SPY_EVAL_INPUT = 258 };

/* Type flags used to recognise subclasses of the built-in types (stable since 3.0). */
enum {
  SPY_TPFLAGS_LONG_SUBCLASS = 1UL << 24,
  SPY_TPFLAGS_LIST_SUBCLASS = 1UL << 25,
  SPY_TPFLAGS_TUPLE_SUBCLASS = 1UL << 26,
  SPY_TPFLAGS_BYTES_SUBCLASS = 1UL << 27,
  SPY_TPFLAGS_UNICODE_SUBCLASS = 1UL << 28,
  SPY_TPFLAGS_DICT_SUBCLASS = 1UL << 29,
  SPY_TPFLAGS_BASE_EXC_SUBCLASS = 1UL << 30,
};

/* The function table. */
typedef struct SPyFunctions {
#define SPY_FN(ret, name, params, args) ret(*_Nullable name) params;
#define SPY_VOID(name, params, args) void(*_Nullable name) params;
#pragma clang assume_nonnull end
#include "spy_functions.def"
#pragma clang assume_nonnull begin
#undef SPY_FN
#undef SPY_VOID
  /* Optional: private but exported; its last parameter differs between 3.12 and 3.13 (pass 0). */
  int (*_Nullable _PyEval_AddPendingCall)(PyInterpreterState *interp, int (*func)(void *_Nullable),
                                          void *_Nullable arg, int flags);
} SPyFunctions;

/* Data symbols: static singletons and built-in types, shared by every interpreter. */
typedef struct SPyData {
  PyObject *None, *True;
  PyTypeObject *BoolType, *FloatType, *SetType, *FrozenSetType, *CFunctionType;
  PyObject *KeyboardInterrupt, *SyntaxError, *ImportError, *PermissionError;
} SPyData;

extern SPyFunctions spy_fn;
extern SPyData spy_data;
/* Swift reads the data table through this accessor: a C global is mutable state to Swift 6. */
static inline const SPyData *spy_objects(void) { return &spy_data; }

/* Loads libpython from `path` (RTLD_NOW | RTLD_GLOBAL) and fills the tables. Returns 0 on
 * success; otherwise -1 with a message (the dlerror or the first missing symbol) in `error`.
 * Calling it again after a success is a no-op that returns 0. */
int spy_load(const char *path, char *error, size_t error_size);
int spy_is_loaded(void);
/* PY_VERSION_HEX of the loaded library (0x030C01F0 for 3.12.1), 0 before spy_load. */
unsigned long spy_python_version_hex(void);

#define SPY_FN(ret, name, params, args) \
  static inline ret name params { return spy_fn.name args; }
#define SPY_VOID(name, params, args) \
  static inline void name params { spy_fn.name args; }
#pragma clang assume_nonnull end
#include "spy_functions.def"
#pragma clang assume_nonnull begin
#undef SPY_FN
#undef SPY_VOID

/* Macros of Python.h, as functions over the struct layout of a non-free-threaded build:
 * ob_refcnt (one Py_ssize_t) then ob_type. */
static inline PyTypeObject *spy_type(PyObject *o) { return o->ob_type; }
/* A type is an object too (its attributes are read like any object's). */
static inline PyObject *spy_type_as_object(PyTypeObject *type) { return (PyObject *)type; }
static inline _Bool spy_has_flag(PyObject *o, unsigned long flag) {
  return (PyType_GetFlags(spy_type(o)) & flag) != 0;
}

/* Schedules `func(arg)` to run in `interp`'s eval loop; returns -1 when unavailable. */
int spy_add_pending_call(PyInterpreterState *interp, int (*func)(void *_Nullable), void *_Nullable arg);

/* The SwiftPy interpreter thread running on this OS thread (unretained), or NULL. A C
 * thread-local because Swift has none, and Python work must know where it is. */
void spy_set_current_thread(void *_Nullable thread);
void *_Nullable spy_current_thread(void);

/* The SwiftPy interpreter thread whose interpreter is attached on this OS thread: the
 * interpreter's own thread, or a guest thread attached to it (callInThread, interrupts). State
 * confined to an interpreter checks it on every access. */
void spy_set_confinement_owner(void *_Nullable thread);
void *_Nullable spy_confinement_owner(void);

/* The SwiftPy context served by this OS thread (retained by the Swift side), or NULL. */
void spy_set_current_context(void *_Nullable context);
void *_Nullable spy_current_context(void);

/* Where interrupts may land on one interpreter thread. The gate is open only while the
 * caller's own Python code runs: an interrupt landing in SwiftPy's own Python work (formatting
 * an error imports `traceback`) could leave an import lock held for ever. Closing the gate
 * (with the GIL held) drops an asynchronous exception that has not fired yet. */
typedef struct SPyInterruptGate {
  int open;
  unsigned long long async_target; /* the job an asynchronous exception was aimed at, or 0 */
  unsigned long thread_ident;      /* PyThread_get_thread_ident() of the interpreter thread */
} SPyInterruptGate;

static inline int spy_gate_is_open(SPyInterruptGate *gate) {
  return __atomic_load_n(&gate->open, __ATOMIC_ACQUIRE);
}
static inline void spy_gate_aim(SPyInterruptGate *gate, unsigned long long job) {
  __atomic_store_n(&gate->async_target, job, __ATOMIC_RELEASE);
}
/* Sets the gate and returns its previous state. Closing it drops a pending asynchronous
 * exception aimed at the thread; call with the GIL held. */
int spy_gate_exchange(SPyInterruptGate *gate, int open);
/* The gate of the calling thread (an interpreter thread), or NULL. */
void spy_set_thread_gate(SPyInterruptGate *_Nullable gate);
/* Hold interrupts off on the calling thread (for SwiftPy's own Python work); returns what to
 * pass to spy_restore_interrupts (-1 on a thread without a gate). */
int spy_hold_interrupts(void);
/* Whether the innermost Python frame of `tstate` (GIL held) is importlib's own code, where an
 * interrupt must not land: it would leave an import or module lock held (ARCHITECTURE.md,
 * "Interrupts"). 0 when there is no frame or it cannot be read. */
int spy_runs_importlib(PyThreadState *_Nonnull tstate);
void spy_restore_interrupts(int previous);

/* A small number fixed for the calling OS thread on first use (0, 1, 2, ... in order of first
 * use): context affinity maps a caller's thread to the same context every time. */
long spy_thread_slot(void);


#pragma clang assume_nonnull end

#endif
