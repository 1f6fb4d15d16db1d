#define _GNU_SOURCE /* realpath, strdup */
#include "spy_guard.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* PyMethodDef and the head of PyCFunctionObject as CPython declares them (unchanged 3.0-3.15
 * in builds without free threading): the object head, then the method table entry. */
typedef PyObject *_Nullable (*SPyAnyMethod)(PyObject *_Nullable self, void *_Nullable a, void *_Nullable b,
                                             void *_Nullable c, void *_Nullable d);
typedef struct {
  const char *ml_name;
  SPyAnyMethod ml_meth;
  int ml_flags;
  const char *ml_doc;
} SPyGuardMethodDef;
typedef struct {
  PyObject head;
  SPyGuardMethodDef *m_ml;
} SPyCFunctionHead;

/* ---- The sandboxed interpreters: a sorted array of IDs (IDs only grow, so appending keeps it
 * sorted), read on every audit event of a sandboxed process, written when a sandboxed context
 * starts or ends. */
static pthread_mutex_t sandbox_lock = PTHREAD_MUTEX_INITIALIZER;
static long long *sandboxed;
static long sandboxed_count, sandboxed_capacity;

static long position(long long id) { /* first index whose ID is >= id; lock held */
  long low = 0, high = sandboxed_count;
  while (low < high) {
    long middle = low + (high - low) / 2;
    if (sandboxed[middle] < id) low = middle + 1;
    else high = middle;
  }
  return low;
}

int spy_guard_is_sandboxed(long long id) {
  if (__atomic_load_n(&sandboxed_count, __ATOMIC_ACQUIRE) == 0) return 0;
  pthread_mutex_lock(&sandbox_lock);
  long at = position(id);
  int found = at < sandboxed_count && sandboxed[at] == id;
  pthread_mutex_unlock(&sandbox_lock);
  return found;
}

long spy_guard_sandboxed_count(void) { return __atomic_load_n(&sandboxed_count, __ATOMIC_ACQUIRE); }

int spy_guard_sandbox_current(void) {
  long long id = PyInterpreterState_GetID(PyInterpreterState_Get());
  if (id == 0) {
    /* The main interpreter is shared with every worker context and the host's own Python. */
    PyErr_SetString(spy_data.PermissionError, "the main interpreter cannot be sandboxed");
    return -1;
  }
  pthread_mutex_lock(&sandbox_lock);
  long at = position(id);
  if (!(at < sandboxed_count && sandboxed[at] == id)) {
    if (sandboxed_count == sandboxed_capacity) {
      long capacity = sandboxed_capacity ? sandboxed_capacity * 2 : 16;
      long long *grown = realloc(sandboxed, (size_t)capacity * sizeof *grown);
      if (!grown) {
        pthread_mutex_unlock(&sandbox_lock);
        PyErr_SetString(spy_data.PermissionError, "out of memory while entering the SwiftPy sandbox");
        return -1;
      }
      sandboxed = grown;
      sandboxed_capacity = capacity;
    }
    memmove(sandboxed + at + 1, sandboxed + at, (size_t)(sandboxed_count - at) * sizeof *sandboxed);
    sandboxed[at] = id;
    __atomic_store_n(&sandboxed_count, sandboxed_count + 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&sandbox_lock);
  return 0;
}

void spy_guard_forget(long long id) {
  pthread_mutex_lock(&sandbox_lock);
  long at = position(id);
  if (at < sandboxed_count && sandboxed[at] == id) {
    memmove(sandboxed + at, sandboxed + at + 1, (size_t)(sandboxed_count - at - 1) * sizeof *sandboxed);
    __atomic_store_n(&sandboxed_count, sandboxed_count - 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&sandbox_lock);
}

static int current_is_sandboxed(void) {
  if (__atomic_load_n(&sandboxed_count, __ATOMIC_ACQUIRE) == 0) return 0;
  return spy_guard_is_sandboxed(PyInterpreterState_GetID(PyInterpreterState_Get()));
}

static int refuse(const char *what) {
  char message[256];
  snprintf(message, sizeof message, "refused by the SwiftPy sandbox: %s", what);
  PyErr_SetString(spy_data.PermissionError, message);
  return -1;
}

/* ---- The audit hook. */

/* Audited operations a sandboxed interpreter may not do: run programs, replace or copy the
 * process, signal processes, change the process's environment, working directory or limits
 * (all shared with the host), or create interpreters (which would not be sandboxed; the
 * `create` functions of _interpreters and _xxsubinterpreters are guarded below as well). */
static const char *const refused_events[] = {
    "os.system",          "os.exec",          "os.posix_spawn",   "os.spawn",
    "os.fork",            "os.forkpty",       "os.kill",          "os.killpg",
    "os.putenv",          "os.unsetenv",      "os.chdir",         "subprocess.Popen",
    "pty.spawn",          "signal.pthread_kill", "resource.setrlimit", "resource.prlimit",
    "cpython.PyInterpreterState_New",
};

/* Modules a sandboxed interpreter may not import: ctypes reads and writes any memory, and
 * CPython's test helpers (_testcapi, _testinternalcapi, ...) do the same on purpose. */
static int refused_import(const char *name) {
  return strcmp(name, "ctypes") == 0 || strncmp(name, "ctypes.", 7) == 0 || strcmp(name, "_ctypes") == 0 ||
         strncmp(name, "_test", 5) == 0;
}

/* Files a sandboxed interpreter may not open, by where they really are (symbolic links and
 * `..` resolved): the process's own /proc entries (/proc/self/mem writes any memory, including
 * this guard's) and the raw memory devices. */
static int refused_path(const char *path) {
  char resolved[PATH_MAX];
  if (!realpath(path, resolved)) return 0; /* nothing there: the open itself fails */
  char own[64];
  int length = snprintf(own, sizeof own, "/proc/%d", (int)getpid());
  if (strncmp(resolved, own, (size_t)length) == 0 && (resolved[length] == '\0' || resolved[length] == '/'))
    return 1;
  return strcmp(resolved, "/dev/mem") == 0 || strcmp(resolved, "/dev/kmem") == 0 ||
         strcmp(resolved, "/dev/port") == 0;
}

static const char *_Nullable first_argument_text(PyObject *args) {
  if (PyTuple_Size(args) < 1) {
    PyErr_Clear();
    return NULL;
  }
  PyObject *first = PyTuple_GetItem(args, 0);
  if (!first) {
    PyErr_Clear();
    return NULL;
  }
  if (spy_has_flag(first, SPY_TPFLAGS_UNICODE_SUBCLASS)) {
    const char *text = PyUnicode_AsUTF8AndSize(first, NULL);
    if (!text) PyErr_Clear();
    return text;
  }
  if (spy_has_flag(first, SPY_TPFLAGS_BYTES_SUBCLASS)) {
    char *bytes = NULL;
    if (PyBytes_AsStringAndSize(first, &bytes, NULL) < 0) {
      PyErr_Clear(); /* embedded NUL: the open fails anyway */
      return NULL;
    }
    return bytes;
  }
  return NULL; /* a file descriptor: opened already */
}

static int audit(const char *event, PyObject *args, void *_Nullable data) {
  (void)data;
  if (!current_is_sandboxed()) return 0;
  for (size_t i = 0; i < sizeof refused_events / sizeof *refused_events; i++) {
    if (strcmp(event, refused_events[i]) == 0) return refuse(event);
  }
  if (strncmp(event, "ctypes.", 7) == 0) return refuse(event);
  if (strcmp(event, "import") == 0) {
    const char *name = first_argument_text(args);
    if (name && refused_import(name)) {
      char what[200];
      snprintf(what, sizeof what, "import %s", name);
      return refuse(what);
    }
  } else if (strcmp(event, "open") == 0) {
    const char *path = first_argument_text(args);
    if (path && refused_path(path)) {
      char what[PATH_MAX + 16];
      snprintf(what, sizeof what, "open %s", path);
      return refuse(what);
    }
  }
  return 0;
}

/* ---- Guarded functions: what ends or signals the host without an audit event. */

enum { SANDBOX, SIGNALS };
typedef struct {
  const char *module, *name, *label;
  int kind; /* SANDBOX: refused in sandboxed interpreters; SIGNALS: also wherever the host owns them */
} SPyGuarded;

static const SPyGuarded guarded[] = {
    {"posix", "_exit", "os._exit", SANDBOX},
    {"posix", "abort", "os.abort", SANDBOX},
    {"_posixsubprocess", "fork_exec", "_posixsubprocess.fork_exec", SANDBOX},
    {"_signal", "alarm", "signal.alarm", SANDBOX},
    {"_signal", "setitimer", "signal.setitimer", SANDBOX},
    {"_signal", "raise_signal", "signal.raise_signal", SANDBOX},
    {"_signal", "pidfd_send_signal", "signal.pidfd_send_signal", SANDBOX},
    {"_signal", "pthread_kill", "signal.pthread_kill", SANDBOX},
    {"_signal", "pthread_sigmask", "signal.pthread_sigmask", SANDBOX},
    {"_signal", "signal", "signal.signal", SIGNALS},
    {"_signal", "siginterrupt", "signal.siginterrupt", SIGNALS},
    {"_signal", "set_wakeup_fd", "signal.set_wakeup_fd", SIGNALS},
    {"faulthandler", "_sigsegv", "faulthandler._sigsegv", SANDBOX},
    {"faulthandler", "_sigabrt", "faulthandler._sigabrt", SANDBOX},
    {"faulthandler", "_sigfpe", "faulthandler._sigfpe", SANDBOX},
    {"faulthandler", "_read_null", "faulthandler._read_null", SANDBOX},
    {"faulthandler", "_fatal_error", "faulthandler._fatal_error", SANDBOX},
    {"faulthandler", "_fatal_error_c_thread", "faulthandler._fatal_error_c_thread", SANDBOX},
    {"faulthandler", "_stack_overflow", "faulthandler._stack_overflow", SANDBOX},
    {"faulthandler", "enable", "faulthandler.enable", SANDBOX},
    {"faulthandler", "register", "faulthandler.register", SANDBOX},
    /* They create the new interpreter with no thread state current, so its audit event
     * (cpython.PyInterpreterState_New) is never raised. */
    {"_interpreters", "create", "_interpreters.create", SANDBOX},
    {"_xxsubinterpreters", "create", "_xxsubinterpreters.create", SANDBOX},
};
enum { GUARDED_COUNT = sizeof guarded / sizeof *guarded };

static SPyAnyMethod originals[GUARDED_COUNT];
static int host_owns_signals;

/* Every calling convention (METH_NOARGS, O, VARARGS, FASTCALL, KEYWORDS, METHOD) passes at most
 * five pointer-sized arguments in registers on x86-64 and arm64; a trampoline that takes five
 * and passes them on serves them all, as CPython's own casts between these types rely on. */
static PyObject *_Nullable guarded_call(int index, PyObject *_Nullable self, void *_Nullable a, void *_Nullable b,
                                        void *_Nullable c, void *_Nullable d) {
  if (current_is_sandboxed()) {
    refuse(guarded[index].label);
    return NULL;
  }
  if (guarded[index].kind == SIGNALS && __atomic_load_n(&host_owns_signals, __ATOMIC_ACQUIRE)) {
    char message[300];
    snprintf(message, sizeof message,
             "%s: the host owns its signal handlers (SwiftPy); start the runtime with "
             "pythonSignalHandlers: true to let Python change them",
             guarded[index].label);
    PyErr_SetString(spy_data.PermissionError, message);
    return NULL;
  }
  return originals[index](self, a, b, c, d);
}

#define SPY_TRAMPOLINE(i)                                                                                  \
  static PyObject *_Nullable trampoline_##i(PyObject *_Nullable self, void *_Nullable a, void *_Nullable b, \
                                            void *_Nullable c, void *_Nullable d) {                       \
    return guarded_call(i, self, a, b, c, d);                                                              \
  }
SPY_TRAMPOLINE(0) SPY_TRAMPOLINE(1) SPY_TRAMPOLINE(2) SPY_TRAMPOLINE(3) SPY_TRAMPOLINE(4) SPY_TRAMPOLINE(5)
SPY_TRAMPOLINE(6) SPY_TRAMPOLINE(7) SPY_TRAMPOLINE(8) SPY_TRAMPOLINE(9) SPY_TRAMPOLINE(10) SPY_TRAMPOLINE(11)
SPY_TRAMPOLINE(12) SPY_TRAMPOLINE(13) SPY_TRAMPOLINE(14) SPY_TRAMPOLINE(15) SPY_TRAMPOLINE(16)
SPY_TRAMPOLINE(17) SPY_TRAMPOLINE(18) SPY_TRAMPOLINE(19) SPY_TRAMPOLINE(20) SPY_TRAMPOLINE(21)
SPY_TRAMPOLINE(22)
#undef SPY_TRAMPOLINE

static const SPyAnyMethod trampolines[] = {
    trampoline_0,  trampoline_1,  trampoline_2,  trampoline_3,  trampoline_4,  trampoline_5,  trampoline_6,
    trampoline_7,  trampoline_8,  trampoline_9,  trampoline_10, trampoline_11, trampoline_12, trampoline_13,
    trampoline_14, trampoline_15, trampoline_16, trampoline_17, trampoline_18, trampoline_19, trampoline_20,
    trampoline_21, trampoline_22,
};
_Static_assert(sizeof trampolines / sizeof *trampolines == GUARDED_COUNT, "one trampoline per guarded function");

/* Makes the pointer-sized word at `field` writable (method tables are ordinary data, but a
 * build may have made its page read-only after relocation) and stores `value` there. */
static int store_pointer(SPyAnyMethod *field, SPyAnyMethod value) {
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t start = (uintptr_t)field & ~(uintptr_t)(page - 1);
  size_t length = (uintptr_t)field + sizeof *field - start;
  if (mprotect((void *)start, length, PROT_READ | PROT_WRITE) != 0) return -1;
  __atomic_store_n(field, value, __ATOMIC_RELEASE);
  return 0;
}

static void append(char *list, size_t size, const char *name) {
  size_t used = strlen(list);
  snprintf(list + used, size - used, "%s%s", used ? ", " : "", name);
}

int spy_guard_install(int owns_signals, char *unguarded, size_t unguarded_size) {
  static int installed;
  if (unguarded_size) unguarded[0] = '\0';
  __atomic_store_n(&host_owns_signals, owns_signals, __ATOMIC_RELEASE);
  if (installed) return 0;
  if (PySys_AddAuditHook(audit, NULL) < 0) return -1;
  for (int i = 0; i < GUARDED_COUNT; i++) {
    PyObject *module = PyImport_ImportModule(guarded[i].module);
    if (!module) { /* not built here (faulthandler, _posixsubprocess): nothing to guard */
      PyErr_Clear();
      continue;
    }
    PyObject *function = PyObject_GetAttrString(module, guarded[i].name);
    Py_DecRef(module);
    if (!function) { /* not on this platform (pidfd_send_signal) */
      PyErr_Clear();
      continue;
    }
    if (!PyType_IsSubtype(spy_type(function), spy_data.CFunctionType)) {
      append(unguarded, unguarded_size, guarded[i].label); /* replaced before SwiftPy started */
      Py_DecRef(function);
      continue;
    }
    SPyGuardMethodDef *def = ((SPyCFunctionHead *)function)->m_ml;
    originals[i] = def->ml_meth;
    if (store_pointer(&def->ml_meth, trampolines[i]) != 0) append(unguarded, unguarded_size, guarded[i].label);
    Py_DecRef(function);
  }
  installed = 1;
  return 0;
}
