#include "spy_output.h"

#include <stdint.h>

/* PyMethodDef as CPython declares it (stable ABI, unchanged since 3.0). */
typedef struct {
  const char *ml_name;
  PyObject *_Nullable (*ml_meth)(PyObject *self, PyObject *_Nullable arg);
  int ml_flags;
  const char *ml_doc;
} SPyMethodDef;

enum { SPY_METH_NOARGS = 0x0004, SPY_METH_O = 0x0008 };

static SPyOutputCallback spy_output_callback;

void spy_output_set_callback(SPyOutputCallback callback) {
  __atomic_store_n(&spy_output_callback, callback, __ATOMIC_RELEASE);
}

static SPyOutputCallback callback(void) { return __atomic_load_n(&spy_output_callback, __ATOMIC_ACQUIRE); }

static PyObject *none(void) {
  Py_IncRef(spy_data.None);
  return spy_data.None;
}

/* The stream's key, stored as the builtin's `self` (an int). */
static int key_of(PyObject *self, long long *key) {
  int overflow = 0;
  *key = PyLong_AsLongLongAndOverflow(self, &overflow);
  return (*key == -1 && PyErr_Occurred()) || overflow ? -1 : 0;
}

/* emit(data): str is encoded to UTF-8 here (a lone surrogate raises UnicodeEncodeError, which
 * the Python side retries with the stream's `errors`); bytes pass as they are; None flushes. */
static PyObject *_Nullable emit(PyObject *self, PyObject *_Nullable data) {
  long long key;
  if (key_of(self, &key) < 0 || !data) return NULL;
  SPyOutputCallback deliver = callback();
  if (data == spy_data.None) {
    if (deliver) deliver(key, SPY_OUTPUT_FLUSH, NULL, 0);
    return none();
  }
  char *bytes = NULL;
  Py_ssize_t size = 0;
  if (spy_has_flag(data, SPY_TPFLAGS_BYTES_SUBCLASS)) {
    if (PyBytes_AsStringAndSize(data, &bytes, &size) < 0) return NULL;
  } else {
    const char *text = PyUnicode_AsUTF8AndSize(data, &size); /* TypeError for anything else */
    if (!text) return NULL;
    bytes = (char *)text;
  }
  if (deliver && size > 0) deliver(key, SPY_OUTPUT_WRITE, bytes, size);
  return none();
}

static PyObject *_Nullable isatty(PyObject *self, PyObject *_Nullable unused) {
  (void)unused;
  long long key;
  if (key_of(self, &key) < 0) return NULL;
  SPyOutputCallback ask = callback();
  return PyBool_FromLong(ask ? ask(key, SPY_OUTPUT_ISATTY, NULL, 0) : 0);
}

static SPyMethodDef emit_def = {"emit", emit, SPY_METH_O, "Hands text or bytes to SwiftPy; None flushes."};
static SPyMethodDef isatty_def = {"isatty", isatty, SPY_METH_NOARGS, "True when the output is a terminal."};

PyObject *spy_output_new_builtin(long long key, int want_isatty) {
  PyObject *self = PyLong_FromLongLong(key);
  if (!self) return NULL;
  PyObject *builtin = PyCMethod_New(want_isatty ? &isatty_def : &emit_def, self, NULL, NULL);
  Py_DecRef(self);
  return builtin;
}

static const char *const capsule_name = "swiftpy.output";

static void thread_state_cleared(PyObject *capsule) {
  void *route = PyCapsule_GetPointer(capsule, capsule_name);
  SPyOutputCallback ended = callback();
  if (route && ended) ended((long long)(intptr_t)route, SPY_OUTPUT_THREAD_ENDED, NULL, 0);
}

int spy_output_watch_thread_state(long long route) {
  PyObject *dict = PyThreadState_GetDict(); /* borrowed */
  if (!dict || route <= 0) return -1;
  PyObject *capsule = PyCapsule_New((void *)(intptr_t)route, capsule_name, thread_state_cleared);
  if (!capsule) return -1;
  int status = PyDict_SetItemString(dict, capsule_name, capsule);
  Py_DecRef(capsule);
  return status;
}

static SPY_THREAD_LOCAL long long thread_route;
void spy_output_set_thread_route(long long route) { thread_route = route; }
long long spy_output_thread_route(void) { return thread_route; }

static SPY_THREAD_LOCAL void *thread_sink;
void spy_output_set_thread_sink(void *sink) { thread_sink = sink; }
void *spy_output_thread_sink(void) { return thread_sink; }
