#ifndef SCARAB_IO_URING_H
#define SCARAB_IO_URING_H

#include <node_api.h>

/*
 * Adds the io_uring functions (uringCreate, uringRead, ...; see io_uring.c) to `exports`.
 * Always succeeds in defining them: where io_uring is not available (not Linux, or headers without
 * io_uring), uringCreate throws an ENOSYS error and callers use the portable backend.
 */
napi_status scarab_io_uring_define(napi_env env, napi_value exports);

#endif
