#ifndef SWIFTPY_SPAWN_H
#define SWIFTPY_SPAWN_H
/*
 * A process SwiftPy starts (a reload step's command) gets the standard streams and nothing else
 * of the host's descriptors: an inherited pipe or socket of the host would stay open as long as
 * that process lives, and whoever waits for its end (Foundation's `Process` waits for a socket
 * to close to learn that its child exited) would wait as long. glibc's close-from action is
 * declared only for _GNU_SOURCE, which Swift's Glibc module does not define.
 */
#include <spawn.h>

#pragma clang assume_nonnull begin

/* Adds "close every descriptor from `lowest` on" to `actions`. 0, or an errno value (ENOSYS
 * where the C library has no such action). */
int spy_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

#pragma clang assume_nonnull end

#endif
