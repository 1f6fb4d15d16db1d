#include "CPythonShim.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

SPyFunctions spy_fn;
SPyData spy_data;
static void *spy_handle;

static int missing(char *error, size_t size, const char *name) {
  snprintf(error, size, "libpython has no symbol '%s'", name);
  return -1;
}

int spy_is_loaded(void) { return spy_handle != NULL; }

static unsigned long spy_loaded_version;
unsigned long spy_python_version_hex(void) { return spy_loaded_version; }

int spy_load(const char *path, char *error, size_t size) {
  if (spy_handle) return 0;
  /* RTLD_GLOBAL: extension modules loaded later resolve their Py* symbols against it. */
  void *handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!handle) {
    const char *why = dlerror();
    snprintf(error, size, "%s", why ? why : "dlopen failed");
    return -1;
  }
  SPyFunctions fn;
  SPyData data;
  void *symbol;
#define SPY_FN(ret, name, params, args)              \
  if (!(symbol = dlsym(handle, #name))) return missing(error, size, #name); \
  memcpy(&fn.name, &symbol, sizeof symbol);
#define SPY_VOID(name, params, args) SPY_FN(void, name, params, args)
#include "spy_functions.def"
#undef SPY_FN
#undef SPY_VOID
  symbol = dlsym(handle, "_PyEval_AddPendingCall");
  memcpy(&fn._PyEval_AddPendingCall, &symbol, sizeof symbol);
  /* Py_Version (3.11+): PY_VERSION_HEX of the library actually loaded. */
  symbol = dlsym(handle, "Py_Version");
  spy_loaded_version = symbol ? *(const unsigned long *)symbol : 0;

#define SPY_OBJECT(field, name) \
  if (!(data.field = dlsym(handle, name))) return missing(error, size, name);
#define SPY_EXCEPTION(field, name)                                       \
  if (!(symbol = dlsym(handle, name))) return missing(error, size, name); \
  data.field = *(PyObject **)symbol;
  SPY_OBJECT(None, "_Py_NoneStruct")
  SPY_OBJECT(True, "_Py_TrueStruct")
  SPY_OBJECT(BoolType, "PyBool_Type")
  SPY_OBJECT(FloatType, "PyFloat_Type")
  SPY_OBJECT(SetType, "PySet_Type")
  SPY_OBJECT(FrozenSetType, "PyFrozenSet_Type")
  SPY_OBJECT(CFunctionType, "PyCFunction_Type")
  SPY_EXCEPTION(KeyboardInterrupt, "PyExc_KeyboardInterrupt")
  SPY_EXCEPTION(SyntaxError, "PyExc_SyntaxError")
  SPY_EXCEPTION(ImportError, "PyExc_ImportError")
  SPY_EXCEPTION(PermissionError, "PyExc_PermissionError")
#undef SPY_OBJECT
#undef SPY_EXCEPTION
  spy_fn = fn;
  spy_data = data;
  spy_handle = handle;
  return 0;
}

int spy_add_pending_call(PyInterpreterState *interp, int (*func)(void *), void *arg) {
  if (!spy_fn._PyEval_AddPendingCall) return -1;
  return spy_fn._PyEval_AddPendingCall(interp, func, arg, 0);
}

static SPY_THREAD_LOCAL void *spy_current;
void spy_set_current_thread(void *thread) { spy_current = thread; }
void *spy_current_thread(void) { return spy_current; }

static SPY_THREAD_LOCAL void *spy_owner;
void spy_set_confinement_owner(void *thread) { spy_owner = thread; }
void *spy_confinement_owner(void) { return spy_owner; }

static SPY_THREAD_LOCAL void *spy_context;
void spy_set_current_context(void *context) { spy_context = context; }
void *spy_current_context(void) { return spy_context; }

static long spy_next_slot;
long spy_thread_slot(void) {
  static SPY_THREAD_LOCAL long slot = -1;
  if (slot < 0) slot = __atomic_fetch_add(&spy_next_slot, 1, __ATOMIC_RELAXED);
  return slot;
}

static SPY_THREAD_LOCAL SPyInterruptGate *spy_gate;
void spy_set_thread_gate(SPyInterruptGate *gate) { spy_gate = gate; }

int spy_gate_exchange(SPyInterruptGate *gate, int open) {
  int previous = __atomic_exchange_n(&gate->open, open, __ATOMIC_ACQ_REL);
  if (!open && __atomic_exchange_n(&gate->async_target, 0, __ATOMIC_ACQ_REL) != 0) {
    spy_fn.PyThreadState_SetAsyncExc(gate->thread_ident, NULL);
  }
  return previous;
}

int spy_runs_importlib(PyThreadState *tstate) {
  PyObject *frame = spy_fn.PyThreadState_GetFrame(tstate);
  if (!frame) return 0;
  PyObject *code = spy_fn.PyFrame_GetCode(frame);
  spy_fn.Py_DecRef(frame);
  PyObject *filename = spy_fn.PyObject_GetAttrString(code, "co_filename");
  spy_fn.Py_DecRef(code);
  if (!filename) {
    spy_fn.PyErr_Clear();
    return 0;
  }
  const char *text = spy_fn.PyUnicode_AsUTF8AndSize(filename, NULL);
  int inside = text && strncmp(text, "<frozen importlib.", 18) == 0;
  if (!text) spy_fn.PyErr_Clear();
  spy_fn.Py_DecRef(filename);
  return inside;
}

int spy_hold_interrupts(void) { return spy_gate ? spy_gate_exchange(spy_gate, 0) : -1; }

void spy_restore_interrupts(int previous) {
  if (spy_gate && previous >= 0) __atomic_store_n(&spy_gate->open, previous, __ATOMIC_RELEASE);
}
