/*
 * Re-executing the current process in place (execv: same pid, same open descriptors, same parent
 * and supervisor). `scarab start` and `benchmark` use it once, at the very start, to give V8 heap
 * options that can only be set when the process starts (bin/scarab.js, src/cli/heap_options.ts):
 * a wrapper process would have a different pid, which supervisors, kill -9 and the data file lock
 * all see.
 */
#include "process_exec.h"

#if defined(__unix__) || defined(__APPLE__)
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int scarab_exec(const char *path, char *const argv[]) {
  /* Node marks its stdio close-on-exec: the new image must keep stdin, stdout and stderr. */
  for (int fd = 0; fd <= 2; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) != 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  execv(path, argv);
  return errno;
}
#else
int scarab_exec(const char *path, char *const argv[]) {
  (void)path;
  (void)argv;
  return 38; /* ENOSYS */
}
#endif
