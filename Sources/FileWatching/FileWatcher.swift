// The FileWatching module: see FileWatcher (being written).
