#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "spy_swift.h"

#include <dlfcn.h>
#include <stdint.h>

/* PyMethodDef as CPython declares it (stable ABI, unchanged since 3.0). */
typedef struct {
  const char *ml_name;
  PyObject *_Nullable (*ml_meth)(PyObject *self, PyObject *_Nullable args);
  int ml_flags;
  const char *ml_doc;
} SPySwiftMethodDef;

enum { SPY_METH_VARARGS = 0x0001 };

static SPySwiftCallback spy_swift_callback;

void spy_swift_set_callback(SPySwiftCallback callback) {
  __atomic_store_n(&spy_swift_callback, callback, __ATOMIC_RELEASE);
}

static PyObject *_Nullable trampoline(PyObject *self, PyObject *_Nullable args) {
  int overflow = 0;
  long long key = PyLong_AsLongLongAndOverflow(self, &overflow);
  if ((key == -1 && PyErr_Occurred()) || overflow || !args) return NULL;
  SPySwiftCallback callback = __atomic_load_n(&spy_swift_callback, __ATOMIC_ACQUIRE);
  if (!callback) {
    PyErr_SetString(spy_objects()->ImportError, "the swift module is not connected to SwiftPy");
    return NULL;
  }
  return callback(key, args);
}

/* One definition per operation, for the life of the process (PyCMethod_New keeps a pointer). */
#define SPY_SWIFT_DEF(name) {name, trampoline, SPY_METH_VARARGS, "Part of SwiftPy's swift module."}
static SPySwiftMethodDef spy_swift_defs[SPY_SWIFT_OP_COUNT] = {
    SPY_SWIFT_DEF("_call"), SPY_SWIFT_DEF("_has"),  SPY_SWIFT_DEF("_names"),   SPY_SWIFT_DEF("_state"),
    SPY_SWIFT_DEF("_log"),  SPY_SWIFT_DEF("_hold"), SPY_SWIFT_DEF("_restore"), SPY_SWIFT_DEF("_extension"),
    SPY_SWIFT_DEF("_refused"),
};

const char *spy_swift_builtin_name(int operation) {
  return operation >= 0 && operation < SPY_SWIFT_OP_COUNT ? spy_swift_defs[operation].ml_name : "?";
}

PyObject *spy_swift_new_builtin(int operation, long long bridge) {
  if (operation < 0 || operation >= SPY_SWIFT_OP_COUNT) {
    PyErr_SetString(spy_objects()->ImportError, "no such swift module builtin");
    return NULL;
  }
  PyObject *self = PyLong_FromLongLong(bridge << 8 | operation);
  if (!self) return NULL;
  PyObject *builtin = PyCMethod_New(&spy_swift_defs[operation], self, NULL, NULL);
  Py_DecRef(self);
  return builtin;
}

static SPY_THREAD_LOCAL long long thread_bridge;
void spy_swift_set_thread_bridge(long long bridge) { thread_bridge = bridge; }
long long spy_swift_thread_bridge(void) { return thread_bridge; }

/* Static types of libpython, found once (libpython is loaded RTLD_GLOBAL). */
static PyTypeObject *_Nullable static_type(PyTypeObject *_Nullable *_Nonnull cache, int *done,
                                           const char *symbol) {
  if (!__atomic_load_n(done, __ATOMIC_ACQUIRE)) {
    __atomic_store_n(cache, (PyTypeObject *)dlsym(RTLD_DEFAULT, symbol), __ATOMIC_RELEASE);
    __atomic_store_n(done, 1, __ATOMIC_RELEASE);
  }
  return __atomic_load_n(cache, __ATOMIC_ACQUIRE);
}

static PyTypeObject *_Nullable coro_type, *_Nullable async_gen_type;
static int coro_done, async_gen_done;

int spy_is_coroutine(PyObject *object) {
  PyTypeObject *type = static_type(&coro_type, &coro_done, "PyCoro_Type");
  return type && spy_type(object) == type;
}

int spy_is_async_generator(PyObject *object) {
  PyTypeObject *type = static_type(&async_gen_type, &async_gen_done, "PyAsyncGen_Type");
  return type && spy_type(object) == type;
}
