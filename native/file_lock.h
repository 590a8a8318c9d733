#ifndef SCARAB_FILE_LOCK_H
#define SCARAB_FILE_LOCK_H

/* 0 when this open file description now holds an exclusive lock on the file; otherwise errno
 * (EWOULDBLOCK: another process holds it). */
int scarab_flock_exclusive(int fd);

#endif
