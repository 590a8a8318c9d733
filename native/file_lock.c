/*
 * An exclusive advisory lock on an open data file (flock LOCK_EX | LOCK_NB): the kernel drops it
 * when the process exits, however it exits (kill -9 included), so a second `scarab start` or
 * `format` of a file in use fails at once instead of damaging it. Not a pure function: it is the
 * addon's first piece of I/O (io_uring and O_DIRECT will join it).
 */
#include "file_lock.h"

#if defined(__unix__) || defined(__APPLE__)
#include <errno.h>
#include <sys/file.h>

int scarab_flock_exclusive(int fd) {
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : errno;
}
#else
int scarab_flock_exclusive(int fd) {
  (void)fd;
  return 38; /* ENOSYS */
}
#endif
