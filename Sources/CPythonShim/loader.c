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

#define SPY_OBJECT(field, name) \
  if (!(data.field = dlsym(handle, name))) return missing(error, size, name);
#define SPY_EXCEPTION(field, name)                                       \
  if (!(symbol = dlsym(handle, name))) return missing(error, size, name); \
  data.field = *(PyObject **)symbol;
  SPY_OBJECT(None, "_Py_NoneStruct")
  SPY_OBJECT(True, "_Py_TrueStruct")
  SPY_OBJECT(False, "_Py_FalseStruct")
  SPY_OBJECT(LongType, "PyLong_Type")
  SPY_OBJECT(BoolType, "PyBool_Type")
  SPY_OBJECT(FloatType, "PyFloat_Type")
  SPY_OBJECT(UnicodeType, "PyUnicode_Type")
  SPY_OBJECT(BytesType, "PyBytes_Type")
  SPY_OBJECT(ListType, "PyList_Type")
  SPY_OBJECT(TupleType, "PyTuple_Type")
  SPY_OBJECT(DictType, "PyDict_Type")
  SPY_OBJECT(SetType, "PySet_Type")
  SPY_OBJECT(FrozenSetType, "PyFrozenSet_Type")
  SPY_EXCEPTION(BaseException, "PyExc_BaseException")
  SPY_EXCEPTION(Exception, "PyExc_Exception")
  SPY_EXCEPTION(SystemExit, "PyExc_SystemExit")
  SPY_EXCEPTION(KeyboardInterrupt, "PyExc_KeyboardInterrupt")
  SPY_EXCEPTION(SyntaxError, "PyExc_SyntaxError")
  SPY_EXCEPTION(TypeError, "PyExc_TypeError")
  SPY_EXCEPTION(ValueError, "PyExc_ValueError")
  SPY_EXCEPTION(RuntimeError, "PyExc_RuntimeError")
  SPY_EXCEPTION(ImportError, "PyExc_ImportError")
  SPY_EXCEPTION(ModuleNotFoundError, "PyExc_ModuleNotFoundError")
  SPY_EXCEPTION(AttributeError, "PyExc_AttributeError")
  SPY_EXCEPTION(KeyError, "PyExc_KeyError")
  SPY_EXCEPTION(RecursionError, "PyExc_RecursionError")
  SPY_EXCEPTION(MemoryError, "PyExc_MemoryError")
  SPY_EXCEPTION(OverflowError, "PyExc_OverflowError")
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

static _Thread_local void *spy_current;
void spy_set_current_thread(void *thread) { spy_current = thread; }
void *spy_current_thread(void) { return spy_current; }

static long spy_next_slot;
long spy_thread_slot(void) {
  static _Thread_local long slot = -1;
  if (slot < 0) slot = __atomic_fetch_add(&spy_next_slot, 1, __ATOMIC_RELAXED);
  return slot;
}
