/// How Python code starts processes under SwiftPy (ARCHITECTURE.md, "Processes started from
/// Python"). A forked copy of the host cannot survive: it holds other threads' locks and, with
/// sub-interpreters alive, crashes in `PyOS_AfterFork_Child` (CPython gh-139759). So `os.fork`
/// and `os.forkpty` refuse with an exception that says why and what to use instead, and
/// `multiprocessing` (and `ProcessPoolExecutor` with it) defaults to starting a fresh
/// interpreter instead of forking. `subprocess` never forks Python: it is untouched.
enum ProcessStarts {
  /// Installs both in the attached interpreter (in worker mode: the main interpreter, once is
  /// enough, again is harmless).
  static func install() throws {
    try ContextSetup.run(
      """
      import os, posix, sys
      def refusing(name):
          def refused(*args, **kwargs):
              raise RuntimeError(
                  f'os.{name}() is refused under SwiftPy: a forked copy of this process would '
                  'crash (it runs other threads and Python interpreters; CPython gh-139759). '
                  'Start processes with subprocess, or with multiprocessing or '
                  'concurrent.futures.ProcessPoolExecutor (SwiftPy makes them spawn).')
          refused.__name__ = refused.__qualname__ = name
          return refused
      for module in (os, posix):
          for name in ('fork', 'forkpty'):
              if hasattr(module, name):
                  setattr(module, name, refusing(name))

      class SpawnByDefault:
          # Where multiprocessing would fork by default (Linux before 3.14), it spawns: the
          # default context is changed as multiprocessing.context is first imported, and an
          # explicit set_start_method or get_context still wins.
          @classmethod
          def find_spec(cls, name, path=None, target=None):
              if name != 'multiprocessing.context':
                  return None
              for finder in sys.meta_path:
                  if finder is cls or not hasattr(finder, 'find_spec'):
                      continue
                  spec = finder.find_spec(name, path, target)
                  if spec is not None and spec.loader is not None:
                      spec.loader = SpawnLoader(spec.loader)
                      return spec
              return None

      class SpawnLoader:
          def __init__(self, loader):
              self.loader = loader
          def create_module(self, spec):
              return self.loader.create_module(spec)
          def exec_module(self, module):
              self.loader.exec_module(module)
              default = module._default_context
              if default._default_context._name == 'fork':
                  default._default_context = module._concrete_contexts['spawn']
          def __getattr__(self, name):
              return getattr(self.loader, name)

      if not any(getattr(f, '__name__', '') == 'SpawnByDefault' for f in sys.meta_path):
          sys.meta_path.insert(0, SpawnByDefault)
      # Imported already (worker contexts share one interpreter): changed in place once it is
      # complete; a module still being imported is changed by the loader above.
      context = sys.modules.get('multiprocessing.context')
      default = getattr(context, '_default_context', None)
      if default is not None and default._default_context._name == 'fork':
          default._default_context = context._concrete_contexts['spawn']
      """, with: [:])
  }
}
