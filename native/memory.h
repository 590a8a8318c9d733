#ifndef SCARAB_MEMORY_H
#define SCARAB_MEMORY_H

#include <stddef.h>

/* madvise(MADV_HUGEPAGE) over the whole 2 MiB pages inside [data, data + length): 0 or errno. */
int scarab_advise_huge_pages(void *data, size_t length);

#endif
