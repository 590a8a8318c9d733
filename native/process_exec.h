#ifndef SCARAB_PROCESS_EXEC_H
#define SCARAB_PROCESS_EXEC_H

/* execv(path, argv): replaces this process's image, same pid. Returns errno only on failure. */
int scarab_exec(const char *path, char *const argv[]);

#endif
