/// Fixes for CPython bugs that would show in the host, applied in every interpreter at setup
/// and only on the versions that have them.
enum CPythonFixes {
  static func install() throws {
    try ContextSetup.run(
      """
      import sys, threading
      # gh-130522 (3.13.0-3.13.2): when an interpreter ends, the helper that forgets a thread
      # `threading` did not start runs after the module's globals are gone and prints
      # "Exception ignored in: <function _DeleteDummyThreadOnDel.__del__ ...>" to the host's
      # stderr. As in 3.13.3, it keeps what it needs.
      helper = getattr(threading, '_DeleteDummyThreadOnDel', None)
      if helper is not None and (3, 13) <= sys.version_info[:3] < (3, 13, 3):
          def __del__(self, _lock=threading._active_limbo_lock, _active=threading._active):
              with _lock:
                  if _active.get(self._tident) is self._dummy_thread:
                      _active.pop(self._tident, None)
          helper.__del__ = __del__
      """, with: [:])
  }
}
