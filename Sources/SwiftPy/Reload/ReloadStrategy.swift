/// How a module's new code replaces the old one (ARCHITECTURE.md, "Hot reload").
public enum ReloadStrategy: Sendable, Equatable {
  /// Runs the new code in the module's namespace, as `importlib.reload` does, and then reloads
  /// every module that imports it (in dependency order), so that their `from lib import f`
  /// bind the new functions. Objects made before the reload (instances, callbacks registered
  /// elsewhere, references held by code that is not reloaded) keep the old code.
  case reload
  /// Runs the new code, then puts the previous function and class objects back in the module
  /// with the new code and class bodies in them: every existing reference — `from lib import
  /// f` anywhere, live instances, registered callbacks — runs the new code. Importers are not
  /// reloaded. A function whose closure changed shape (a new free variable) and a class whose
  /// bases or `__slots__` changed are replaced instead, as with ``reload``.
  case patch
}
