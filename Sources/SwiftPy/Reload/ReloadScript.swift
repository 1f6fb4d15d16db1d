import CPythonShim
import OrderedCollections

/// The Python half of a reload, run in one interpreter at a time, between two jobs
/// (ARCHITECTURE.md, "Hot reload"): it maps changed files to the modules loaded from them,
/// adds what imports them, compiles everything first (a syntax error changes nothing), runs the
/// new code in each module's own namespace under that module's import lock, and puts every
/// namespace back as it was if any module fails.
enum ReloadScript {
  /// The module the script lives in, in every interpreter that has reloaded something.
  static let moduleName = "_swiftpy_reload"

  /// Installs the script in the attached interpreter if it is not there yet; on thread.
  static func install() throws {
    // Installed already (every reload but the first): nothing to convert, compile or run.
    if let sys = PyImport_AddModule("sys") {  // borrowed
      guard let modules = PyObject_GetAttrString(sys, "modules") else { throw PythonError.fetch() }
      defer { Py_DecRef(modules) }
      if PyDict_GetItemString(modules, moduleName) != nil { return }  // borrowed
    } else {
      throw PythonError.fetch()
    }
    let namespace = try PythonExecution.makeNamespace()
    defer { Py_DecRef(namespace) }
    let source = try PythonValue.string(code).makePythonObject()
    defer { Py_DecRef(source) }
    guard PyDict_SetItemString(namespace, "_source", source) == 0 else { throw PythonError.fetch() }
    try PythonExecution.execute(
      """
      import sys, types
      if '\(moduleName)' not in sys.modules:
          _module = types.ModuleType('\(moduleName)')
          exec(compile(_source, '<swiftpy reload>', 'exec'), _module.__dict__)
          sys.modules['\(moduleName)'] = _module
      """, globals: namespace)
  }

  /// Runs one reload in the attached interpreter and returns the names of the modules it ran,
  /// in order; throws the PythonError of the first module that failed (every namespace is
  /// then as it was). On thread, inside a job.
  /// What one interpreter's reload gives back: the modules it ran, and the code it compiled
  /// (marshalled, by file, with the file's status) for the other interpreters.
  struct Outcome: Sendable {
    var modules: [String]
    var code: PythonValue
  }

  static func run(_ plan: ReloadPlan) throws -> Outcome {
    try install()
    let namespace = try PythonExecution.makeNamespace()
    defer { Py_DecRef(namespace) }
    let steps: [PythonValue] = plan.modules.map { module in
      .list([
        .string(module.name), module.preReload.map(PythonValue.string) ?? .none,
        module.postReload.map(PythonValue.string) ?? .none,
      ])
    }
    var kwargs: OrderedDictionary<String, PythonValue> = [
      "files": .list(plan.files.map(PythonValue.string)),
      "modules": .list(steps),
      "patch": .bool(plan.strategy == .patch),
      "import_missing": .bool(plan.importMissing),
    ]
    if let precompiled = plan.precompiled { kwargs["precompiled"] = precompiled }
    if plan.share { kwargs["share"] = .bool(true) }
    let result: PythonValue
    do {
      result = try PythonExecution.call(moduleName, "run", args: [], kwargs: kwargs, globals: namespace)
    } catch let error as PythonError {
      throw withoutOwnFrames(error)
    }
    guard case .dict(let entries) = result, case .list(let names)? = entries["modules"] else {
      return Outcome(modules: [], code: .none)
    }
    return Outcome(modules: names.compactMap(\.stringValue), code: entries["code"] ?? .none)
  }

  /// The error with the reloader's own frames taken out of its traceback: what is left points at
  /// the user's code.
  static func withoutOwnFrames(_ error: PythonError) -> PythonError {
    let lines = error.traceback.split(separator: "\n", omittingEmptySubsequences: false)
    let kept = lines.filter { !$0.hasPrefix("  File \"<swiftpy reload>\"") }
    return PythonError(
      type: error.type, message: error.message, traceback: kept.joined(separator: "\n"),
      lineNumber: error.lineNumber, offset: error.offset, filename: error.filename,
      moduleName: error.moduleName, cause: error.cause)
  }

  static let code = #"""
    import ast, importlib, importlib.util, linecache, marshal, os, sys, sysconfig, types
    from importlib._bootstrap import _ModuleLockManager

    _imports = {}      # real path -> ((mtime_ns, size), names the file imports)
    _system = None     # the standard library's and site-packages' directories

    def _system_dirs():
        global _system
        if _system is None:
            dirs = set()
            for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):
                try:
                    path = sysconfig.get_path(key)
                except Exception:
                    path = None
                if path:
                    dirs.add(os.path.join(os.path.realpath(path), ''))
            _system = tuple(dirs)
        return _system

    def _source(module):
        '''The .py file a module was loaded from, or None (builtins, extensions, namespaces).'''
        if not isinstance(module, types.ModuleType):
            return None
        # From the module's own dict: a module-level __getattr__ (which may do anything) is
        # never called by the scan of sys.modules.
        path = vars(module).get('__file__')
        if not isinstance(path, str) or not path.endswith('.py'):
            return None
        return path

    _real = {}         # module name -> (id of the module, its __file__, the real path)

    def _loaded():
        '''name -> real path of every module loaded from a .py file (real paths are cached per
        module object and file name: resolving every module's path on every reload would cost
        more than the reload).'''
        found = {}
        for name, module in list(sys.modules.items()):
            if name == '__main__' or name.startswith('_swiftpy'):
                continue
            path = _source(module)
            if path is None:
                continue
            cached = _real.get(name)
            if cached is not None and cached[0] == id(module) and cached[1] == path:
                found[name] = cached[2]
                continue
            try:
                real = os.path.realpath(path)
            except (OSError, ValueError):
                continue
            _real[name] = (id(module), path, real)
            found[name] = real
        return found

    def _imported_by(name, path):
        '''The modules a file imports (and their parent packages), cached by status.'''
        try:
            status = os.stat(path)
        except OSError:
            return frozenset()
        stamp = (status.st_mtime_ns, status.st_size)
        cached = _imports.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        names = set()
        try:
            with open(path, 'rb') as file:
                tree = ast.parse(file.read(), path)
        except Exception:
            tree = None
        module = sys.modules.get(name)
        package = (vars(module).get('__package__') if isinstance(module, types.ModuleType) else None) or ''
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                bases = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                try:
                    base = importlib.util.resolve_name('.' * node.level + (node.module or ''), package) \
                        if node.level else node.module
                except (ImportError, ValueError):
                    continue
                if not base:
                    continue
                bases = [base] + [base + '.' + alias.name for alias in node.names if alias.name != '*']
            else:
                continue
            for base in bases:
                parts = base.split('.')
                for end in range(1, len(parts) + 1):
                    names.add('.'.join(parts[:end]))
        names = frozenset(names)
        _imports[path] = (stamp, names)
        return names

    def _plan(files, wanted, importers):
        '''The modules to run, each after the modules of the plan it imports.'''
        loaded = _loaded()
        files = set(files)
        chosen = [name for name, path in loaded.items() if path in files]
        chosen += [name for name in wanted if name in loaded and name not in chosen]
        # What the modules chosen first import only orders them among the modules run: their
        # files (just changed, so not in the cache) are parsed only when more than one runs.
        graph = {}
        if importers and chosen:
            system = _system_dirs()
            selected = set(chosen)
            first = []
            for name, path in loaded.items():
                if path.startswith(system):
                    continue
                if name in selected:
                    first.append(name)
                else:
                    graph[name] = _imported_by(name, path)
            grew = True
            while grew:
                grew = False
                for name, names in graph.items():
                    if name not in selected and not names.isdisjoint(selected):
                        selected.add(name)
                        chosen.append(name)
                        grew = True
        else:
            first = chosen
        if len(chosen) < 2:
            return chosen
        for name in first:
            graph[name] = _imported_by(name, loaded[name])
        order, done, visiting = [], set(), set()
        selected = set(chosen)
        def visit(name):
            if name in done or name in visiting:
                return
            visiting.add(name)
            for other in sorted(graph.get(name, ())):
                if other in selected and other != name:
                    visit(other)
            visiting.discard(name)
            done.add(name)
            order.append(name)
        for name in chosen:
            visit(name)
        return order

    def _hook(module, name, when):
        function = module.__dict__.get(name)
        if not callable(function):
            raise AttributeError(
                f"the {when}-reload hook '{name}' is not a function of module '{module.__name__}'")
        function()

    def _exec(name, module, code):
        '''Runs the new code in the module's namespace, as import does: under the module's import
        lock and marked as initializing, so that a Python thread importing it meanwhile waits
        for the new version instead of seeing half of it.'''
        spec = getattr(module, '__spec__', None)
        with _ModuleLockManager(name):
            was = getattr(spec, '_initializing', False)
            if spec is not None:
                spec._initializing = True
            try:
                exec(code, module.__dict__)
            finally:
                if spec is not None:
                    spec._initializing = was

    def _rebind_class_cell(function, old, new):
        '''A function whose `__class__` cell (zero-argument super()) names `new`, made to name
        `old` instead.'''
        closure = function.__closure__
        if not closure or '__class__' not in function.__code__.co_freevars:
            return function
        cells = tuple(types.CellType(old) if cell.cell_contents is new else cell for cell in closure)
        rebound = types.FunctionType(function.__code__, function.__globals__, function.__name__,
                                     function.__defaults__, cells)
        rebound.__kwdefaults__ = function.__kwdefaults__
        rebound.__dict__.update(function.__dict__)
        rebound.__qualname__ = function.__qualname__
        rebound.__doc__ = function.__doc__
        return rebound

    def _patch_function(old, new):
        '''Gives `old` the code of `new`, so that every reference to `old` runs the new code.'''
        if old.__code__.co_freevars != new.__code__.co_freevars:
            return False
        old.__code__ = new.__code__
        old.__defaults__ = new.__defaults__
        old.__kwdefaults__ = new.__kwdefaults__
        old.__doc__ = new.__doc__
        old.__dict__.update(new.__dict__)
        return True

    _FIXED = frozenset(('__dict__', '__weakref__', '__module__', '__qualname__', '__mro__',
                        '__slotnames__'))

    def _patch_class(old, new, seen):
        '''Gives the class `old` the body of `new`, so that live instances and every reference
        to `old` use the new methods.'''
        if (id(old), id(new)) in seen:
            return True
        seen.add((id(old), id(new)))
        if type(old) is not type(new) or [b.__qualname__ for b in old.__bases__] != \
                [b.__qualname__ for b in new.__bases__] or '__slots__' in new.__dict__:
            return False
        for name, value in list(new.__dict__.items()):
            if name in _FIXED:
                continue
            current = old.__dict__.get(name)
            if isinstance(value, types.FunctionType):
                if isinstance(current, types.FunctionType) and _patch_function(current, value):
                    continue
                value = _rebind_class_cell(value, old, new)
            elif isinstance(value, (staticmethod, classmethod)) and type(current) is type(value) \
                    and isinstance(value.__func__, types.FunctionType) \
                    and isinstance(current.__func__, types.FunctionType):
                if _patch_function(current.__func__, value.__func__):
                    continue
            elif isinstance(value, type) and isinstance(current, type) \
                    and value.__module__ == old.__module__:
                if _patch_class(current, value, seen):
                    continue
            try:
                setattr(old, name, value)
            except (AttributeError, TypeError):
                pass
        for name in list(old.__dict__):
            if name not in new.__dict__ and name not in _FIXED:
                try:
                    delattr(old, name)
                except (AttributeError, TypeError):
                    pass
        return True

    def _patch(name, namespace, before):
        '''Puts the previous functions and classes back in the namespace, with the new code.'''
        seen = set()
        for key, old in before.items():
            new = namespace.get(key)
            if new is None or new is old:
                continue
            if isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
                if getattr(new, '__module__', None) == name and _patch_function(old, new):
                    namespace[key] = old
            elif isinstance(old, type) and isinstance(new, type):
                if getattr(new, '__module__', None) == name == getattr(old, '__module__', None) \
                        and _patch_class(old, new, seen):
                    namespace[key] = old

    def _restore(namespace, before):
        for key in [key for key in namespace if key not in before]:
            del namespace[key]
        namespace.update(before)

    def run(files, modules, patch, import_missing, precompiled=None, share=False):
        '''Reloads what `files` were loaded as, the modules named in `modules` ([name, pre, post]
        each) and, unless `patch`, every module importing one of those; imports the named
        modules not loaded yet when `import_missing`. Returns the names run, in order, and, when
        `share`, the code compiled, marshalled, for the other interpreters.'''
        importlib.invalidate_caches()
        hooks = {name: (pre, post) for name, pre, post in modules}
        wanted = [name for name, _, _ in modules]
        order = _plan(files, wanted, importers=not patch)
        # Compile everything first: a syntax error changes nothing anywhere.
        # Code compiled by the first interpreter comes marshalled: loading it costs a tenth of
        # compiling, if the file is still the one it compiled (same status).
        compiled, shared = [], {}
        for name in order:
            module = sys.modules[name]
            path = _source(module)
            status = os.stat(path)
            stamp = [status.st_mtime_ns, status.st_size, status.st_ino]
            given = (precompiled or {}).get(path)
            linecache.checkcache(path)
            if given is not None and given[:3] == stamp:
                code = marshal.loads(given[3])
            else:
                with open(path, 'rb') as file:
                    source = file.read()
                code = compile(source, path, 'exec', dont_inherit=True)
                if share:
                    shared[path] = stamp + [marshal.dumps(code)]
            compiled.append((name, module, code))
        missing = [name for name in wanted if name not in sys.modules] if import_missing else []
        for name, module, _ in compiled:
            pre = hooks.get(name, (None, None))[0]
            if pre:
                _hook(module, pre, 'pre')
        saved = []
        try:
            for name, module, code in compiled:
                saved.append((module.__dict__, dict(module.__dict__)))
                _exec(name, module, code)
        except BaseException:
            for namespace, before in reversed(saved):
                _restore(namespace, before)
            raise
        if patch:
            for (name, module, _), (namespace, before) in zip(compiled, saved):
                _patch(name, namespace, before)
        done = [name for name, _, _ in compiled]
        for name in missing:
            importlib.import_module(name)
            done.append(name)
        for name in done:
            post = hooks.get(name, (None, None))[1]
            if post:
                _hook(sys.modules[name], post, 'post')
        return {'modules': done, 'code': shared}
    """#
}
