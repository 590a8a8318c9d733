/*
 * An io_uring ring for the data file (src/io/data_file/uring_ring.ts), on raw syscalls (no
 * liburing, so nothing to install): readv/writev at an offset, fdatasync, completions delivered to
 * JS in completion order.
 *
 * Exports (all throw TypeError/RangeError on bad arguments, and an Error with code/errno/syscall
 * when a syscall fails):
 *   uringCreate(slots, completions: Int32Array, onCompletions(count), flags) → ring
 *       Up to `slots` operations in flight, each named by an id in [0, slots). Completed ids and
 *       results (bytes, or -errno) are written as pairs into `completions`, a batch at a time, and
 *       onCompletions(count) runs once per batch: no JS allocation per completion.
 *       flags: 1 = no libuv integration (completions only through uringWait),
 *              2 = wait with IORING_OP_TIMEOUT even where IORING_ENTER_EXT_ARG works (tests).
 *   uringRead(ring, fd, buffer, position, id)    uringWrite(ring, fd, buffer, position, id)
 *   uringFsync(ring, fd, id)                      fdatasync (IORING_FSYNC_DATASYNC)
 *   uringSubmit(ring) → submitted                 pushes queued submissions to the kernel now
 *   uringWait(ring, timeoutNs) → delivered        blocks until a completion or the deadline
 *   uringClose(ring)                              requires nothing in flight
 *   uringWaitMethod(ring) → "ext_arg" | "timeout_op"
 *   fallocateFile(fd, keepSize, offset, length) → 0 or errno
 *   bufferAlignment(buffer) → the buffer's address modulo 4096 (tests, benchmarks)
 *
 * How completions reach JS without blocking Node's event loop: the ring signals an eventfd
 * (IORING_REGISTER_EVENTFD) that a uv_poll watches; its callback drains the completion queue.
 * Submissions are queued in the submission ring and pushed with one io_uring_enter from a
 * uv_prepare (just before libuv blocks), after each batch of completions, or by uringSubmit/Wait:
 * one syscall for all the IO a tick issues.
 *
 * Buffers: O_DIRECT wants 4096-aligned memory. A buffer that is aligned is used in place (the JS
 * side keeps it referenced until its completion); any other goes through an aligned bounce buffer
 * (posix_memalign), cached per slot up to a total, so steady-state IO allocates nothing.
 */
#define _GNU_SOURCE
#include "io_uring.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -DSCARAB_NO_IO_URING builds the stubs (to check that they still compile). */
#if defined(__linux__) && defined(__has_include) && !defined(SCARAB_NO_IO_URING)
#if __has_include(<linux/io_uring.h>)
#define SCARAB_HAVE_IO_URING 1
#endif
#endif

/* ---- errors ------------------------------------------------------------------------------ */

static const char *errno_name(int error) {
  switch (error) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOSPC: return "ENOSPC";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
#ifdef EDQUOT
    case EDQUOT: return "EDQUOT";
#endif
    default: return "EUNKNOWN";
  }
}

/* Throws Error("<syscall>: <CODE> (<strerror>)") with code, errno and syscall properties. */
static void throw_errno(napi_env env, const char *syscall_name, int error) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s (%s)", syscall_name, errno_name(error), strerror(error));
  napi_value text, code, error_object, number, name;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text) != napi_ok ||
      napi_create_string_utf8(env, errno_name(error), NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_error(env, code, text, &error_object) != napi_ok) {
    napi_throw_error(env, NULL, message);
    return;
  }
  if (napi_create_int32(env, -error, &number) == napi_ok) {
    napi_set_named_property(env, error_object, "errno", number);
  }
  if (napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &name) == napi_ok) {
    napi_set_named_property(env, error_object, "syscall", name);
  }
  napi_throw(env, error_object);
}

/* ---- argument helpers --------------------------------------------------------------------- */

static bool get_int32(napi_env env, napi_value value, int32_t min, int32_t max, const char *message,
                      int32_t *out) {
  napi_valuetype type;
  double number = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, &number) != napi_ok) {
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  if (!(number >= min && number <= max) || number != floor(number)) {
    napi_throw_range_error(env, NULL, message);
    return false;
  }
  *out = (int32_t)number;
  return true;
}

/* A file position or a length in bytes: an integer in [0, 2^53). */
static bool get_u53(napi_env env, napi_value value, const char *message, uint64_t *out) {
  napi_valuetype type;
  double number = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, &number) != napi_ok) {
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  if (!(number >= 0 && number < 9007199254740992.0) || number != floor(number)) {
    napi_throw_range_error(env, NULL, message);
    return false;
  }
  *out = (uint64_t)number;
  return true;
}

static bool get_bytes(napi_env env, napi_value value, const char *message, uint8_t **data,
                      size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  void *pointer = NULL;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, length, &pointer, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  *data = (uint8_t *)pointer;
  return true;
}

#ifdef SCARAB_HAVE_IO_URING

#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/*
 * Opcodes and flags by their kernel ABI values: <linux/io_uring.h> declares opcodes in an enum
 * (no #ifdef possible) and older headers lack the newer ones, so the build must not depend on
 * them. Whether the running kernel supports each is found out at run time.
 */
#define SCARAB_OP_FSYNC 3          /* 5.1 */
#define SCARAB_OP_READV 1          /* 5.1 */
#define SCARAB_OP_WRITEV 2         /* 5.1 */
#define SCARAB_OP_TIMEOUT 11       /* 5.4 */
#define SCARAB_OP_TIMEOUT_REMOVE 12 /* 5.5 */
#ifdef IORING_FEAT_SINGLE_MMAP
#define SCARAB_HAVE_FEATURES 1 /* struct io_uring_params has `features` (5.4 headers) */
#endif
#ifndef IORING_FSYNC_DATASYNC
#define IORING_FSYNC_DATASYNC (1U << 0)
#endif
#ifndef IORING_ENTER_GETEVENTS
#define IORING_ENTER_GETEVENTS (1U << 0)
#endif
#ifndef IORING_ENTER_EXT_ARG
#define IORING_ENTER_EXT_ARG (1U << 3)
#endif
#ifndef IORING_FEAT_SINGLE_MMAP
#define IORING_FEAT_SINGLE_MMAP (1U << 0)
#endif
#ifndef IORING_FEAT_EXT_ARG
#define IORING_FEAT_EXT_ARG (1U << 8)
#endif
#ifndef IORING_REGISTER_EVENTFD
#define IORING_REGISTER_EVENTFD 4
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif

/* The kernel's struct __kernel_timespec and struct io_uring_getevents_arg (5.11), spelled here so
 * older headers build. */
struct scarab_timespec {
  int64_t tv_sec;
  long long tv_nsec;
};
struct scarab_getevents_arg {
  uint64_t sigmask;
  uint32_t sigmask_sz;
  uint32_t min_wait_usec;
  uint64_t ts;
};

#define ALIGNMENT 4096u
/* Bounce buffers kept for reuse, in total; beyond this they are freed on completion. */
#define BOUNCE_CACHE_BYTES (16u << 20)
/* user_data of the ring's own operations: above every id. */
#define TAG_TIMEOUT (1ull << 62)
#define TAG_TIMEOUT_REMOVE (1ull << 61)

#define FLAG_NO_LOOP 1
#define FLAG_TIMEOUT_OP 2

enum slot_op { SLOT_FREE = 0, SLOT_READ, SLOT_WRITE, SLOT_FSYNC };

typedef struct {
  struct iovec iov;     /* what the kernel reads into or writes from: stable while in flight */
  uint8_t *user;        /* the caller's bytes */
  void *bounce;         /* aligned copy when `user` is not aligned; cached after completion */
  size_t bounce_size;
  size_t length;
  uint8_t op;
} slot_t;

typedef struct ring {
  int fd;
  int event_fd;
  uint32_t features;
  unsigned sq_entries;
  unsigned cq_entries;
  void *sq_map;
  size_t sq_map_size;
  void *cq_map;
  size_t cq_map_size;
  struct io_uring_sqe *sqes;
  size_t sqes_map_size;
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_cqe *cqes;
  unsigned sq_local_tail; /* SQEs filled by us; published to *sq_tail as they are filled */
  unsigned to_submit;     /* published and not yet consumed by io_uring_enter */

  slot_t *slots;
  uint32_t slot_count;
  uint32_t in_flight;  /* caller operations submitted and not delivered */
  size_t bounce_cached;
  uint64_t timeout_sequence;
  bool timeout_pending; /* an IORING_OP_TIMEOUT of ours may still complete */
  bool use_timeout_op;
  bool draining;
  bool closed;

  napi_env env;
  napi_ref callback;
  napi_ref completions_ref;
  int32_t *completions;
  uint32_t batch;       /* completion pairs per delivery */
  napi_async_context async_context;
  uv_poll_t *poll;      /* NULL with FLAG_NO_LOOP */
  uv_prepare_t *prepare;
  bool poll_referenced;
} ring_t;

static int sys_io_uring_setup(unsigned entries, struct io_uring_params *params) {
  return (int)syscall(__NR_io_uring_setup, entries, params);
}

static int sys_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                              const void *arg, size_t arg_size) {
  return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, arg_size);
}

static int sys_io_uring_register(int fd, unsigned opcode, const void *arg, unsigned count) {
  return (int)syscall(__NR_io_uring_register, fd, opcode, arg, count);
}

static uint64_t monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* ---- ring memory ---------------------------------------------------------------------------- */

static void ring_unmap(ring_t *r) {
  if (r->sqes != NULL) munmap(r->sqes, r->sqes_map_size);
  if (r->cq_map != NULL && r->cq_map != r->sq_map) munmap(r->cq_map, r->cq_map_size);
  if (r->sq_map != NULL) munmap(r->sq_map, r->sq_map_size);
  r->sqes = NULL;
  r->cq_map = NULL;
  r->sq_map = NULL;
}

/* Maps the rings io_uring_setup created. Returns 0 or errno. */
static int ring_map(ring_t *r, const struct io_uring_params *p) {
  r->sq_map_size = p->sq_off.array + p->sq_entries * sizeof(unsigned);
  r->cq_map_size = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
  bool single = (r->features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && r->cq_map_size > r->sq_map_size) r->sq_map_size = r->cq_map_size;
  r->sq_map = mmap(NULL, r->sq_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                   IORING_OFF_SQ_RING);
  if (r->sq_map == MAP_FAILED) {
    r->sq_map = NULL;
    return errno;
  }
  if (single) {
    r->cq_map = r->sq_map;
  } else {
    r->cq_map = mmap(NULL, r->cq_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                     r->fd, IORING_OFF_CQ_RING);
    if (r->cq_map == MAP_FAILED) {
      r->cq_map = NULL;
      return errno;
    }
  }
  r->sqes_map_size = p->sq_entries * sizeof(struct io_uring_sqe);
  r->sqes = mmap(NULL, r->sqes_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                 IORING_OFF_SQES);
  if (r->sqes == MAP_FAILED) {
    r->sqes = NULL;
    return errno;
  }
  uint8_t *sq = r->sq_map, *cq = r->cq_map;
  r->sq_head = (unsigned *)(sq + p->sq_off.head);
  r->sq_tail = (unsigned *)(sq + p->sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p->sq_off.ring_mask);
  r->sq_array = (unsigned *)(sq + p->sq_off.array);
  r->cq_head = (unsigned *)(cq + p->cq_off.head);
  r->cq_tail = (unsigned *)(cq + p->cq_off.tail);
  r->cq_mask = (unsigned *)(cq + p->cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
  r->sq_local_tail = *r->sq_tail;
  return 0;
}

/* ---- submission ----------------------------------------------------------------------------- */

/* Pushes every published SQE to the kernel. Returns 0 or errno. EAGAIN/EBUSY (the kernel is short
 * of memory or has completions to hand back first) leave them queued for the next attempt. */
static int ring_submit(ring_t *r, unsigned min_complete, unsigned flags, const void *arg,
                       size_t arg_size) {
  if (r->to_submit == 0 && min_complete == 0) return 0;
  for (;;) {
    int consumed = sys_io_uring_enter(r->fd, r->to_submit, min_complete, flags, arg, arg_size);
    if (consumed < 0) {
      if (errno == EINTR && min_complete == 0) continue;
      return errno;
    }
    r->to_submit -= (unsigned)consumed < r->to_submit ? (unsigned)consumed : r->to_submit;
    /* A failed SQE stops the batch (it completes with its error); submit the rest. */
    if (r->to_submit == 0 || consumed == 0 || min_complete > 0) return 0;
  }
}

static struct io_uring_sqe *sqe_next(ring_t *r) {
  unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
  if (r->sq_local_tail - head >= r->sq_entries) {
    /* Cannot happen while in-flight operations are bounded by slots < sq_entries, but a full
     * queue is pushed rather than overwritten. */
    if (ring_submit(r, 0, 0, NULL, 0) != 0) return NULL;
    head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    if (r->sq_local_tail - head >= r->sq_entries) return NULL;
  }
  unsigned index = r->sq_local_tail & *r->sq_mask;
  struct io_uring_sqe *sqe = &r->sqes[index];
  memset(sqe, 0, sizeof *sqe);
  r->sq_array[index] = index;
  return sqe;
}

static void sqe_publish(ring_t *r) {
  r->sq_local_tail += 1;
  __atomic_store_n(r->sq_tail, r->sq_local_tail, __ATOMIC_RELEASE);
  r->to_submit += 1;
}

static void poll_reference(ring_t *r, bool referenced) {
  /* An operation in flight keeps Node alive, as an fs request would; an idle ring does not. */
  if (r->poll == NULL || r->poll_referenced == referenced) return;
  if (referenced) uv_ref((uv_handle_t *)r->poll);
  else uv_unref((uv_handle_t *)r->poll);
  r->poll_referenced = referenced;
}

/* ---- completion ----------------------------------------------------------------------------- */

static void release_js(ring_t *r);
static void submit_from_loop(ring_t *r);

static void slot_release(ring_t *r, slot_t *slot) {
  if (slot->bounce != NULL && r->bounce_cached > BOUNCE_CACHE_BYTES) {
    r->bounce_cached -= slot->bounce_size;
    free(slot->bounce);
    slot->bounce = NULL;
    slot->bounce_size = 0;
  }
  slot->user = NULL;
  slot->op = SLOT_FREE;
}

/* Finishes one caller operation in C: copies a bounced read back, and zeroes what a short read
 * left (past the end of the file reads as zeros, as in FileStorage). */
static void slot_complete(ring_t *r, slot_t *slot, int32_t result) {
  if (slot->op == SLOT_READ && result >= 0) {
    size_t got = (size_t)result < slot->length ? (size_t)result : slot->length;
    if (slot->iov.iov_base != slot->user) memcpy(slot->user, slot->iov.iov_base, got);
    if (got < slot->length) memset(slot->user + got, 0, slot->length - got);
  }
  slot_release(r, slot);
  r->in_flight -= 1;
}

/* Moves up to one batch of completions into the shared Int32Array. Returns how many. */
static uint32_t drain_batch(ring_t *r) {
  uint32_t count = 0;
  unsigned head = *r->cq_head;
  unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
  while (head != tail && count < r->batch) {
    struct io_uring_cqe *cqe = &r->cqes[head & *r->cq_mask];
    uint64_t tag = cqe->user_data;
    int32_t result = cqe->res;
    head += 1;
    if (tag == (TAG_TIMEOUT | r->timeout_sequence)) r->timeout_pending = false;
    if (tag >= TAG_TIMEOUT_REMOVE) continue; /* our own timeouts, current or stale */
    if (tag >= r->slot_count || r->slots[tag].op == SLOT_FREE) continue; /* never ours: ignore */
    slot_complete(r, &r->slots[tag], result);
    r->completions[2 * count] = (int32_t)tag;
    r->completions[2 * count + 1] = result;
    count += 1;
  }
  __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
  if (r->in_flight == 0) poll_reference(r, false);
  return count;
}

static bool cq_empty(ring_t *r) {
  return *r->cq_head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
}

/*
 * Delivers every completion, a batch per onCompletions call, and pushes what the callbacks
 * submitted. From libuv (`from_loop`) a throwing callback becomes an uncaught exception, as a
 * throw in an fs callback would; from uringWait it propagates to the caller.
 */
static int deliver(ring_t *r, bool from_loop, uint32_t *delivered) {
  *delivered = 0;
  if (r->draining) return 0; /* a callback waited: the outer drain continues */
  r->draining = true;
  int status = 0;
  napi_handle_scope scope = NULL;
  if (from_loop && napi_open_handle_scope(r->env, &scope) != napi_ok) scope = NULL;
  while (!r->closed && !cq_empty(r)) {
    uint32_t count = drain_batch(r);
    if (count == 0) continue; /* only our own timeouts */
    *delivered += count;
    napi_value callback, global, argument, result;
    napi_get_reference_value(r->env, r->callback, &callback);
    napi_get_global(r->env, &global);
    napi_create_uint32(r->env, count, &argument);
    napi_status call = from_loop
        ? napi_make_callback(r->env, r->async_context, global, callback, 1, &argument, &result)
        : napi_call_function(r->env, global, callback, 1, &argument, &result);
    if (call != napi_ok) {
      status = -1;
      if (from_loop) {
        napi_value exception;
        if (napi_get_and_clear_last_exception(r->env, &exception) == napi_ok) {
          napi_fatal_exception(r->env, exception);
        }
      }
      break;
    }
    if (!r->closed && r->to_submit > 0) {
      if (from_loop) submit_from_loop(r);
      else ring_submit(r, 0, 0, NULL, 0); /* a failure stays queued: the loop's next attempt reports it */
    }
  }
  if (scope != NULL) napi_close_handle_scope(r->env, scope);
  r->draining = false;
  if (r->closed) release_js(r); /* a callback closed the ring */
  return status;
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)events;
  ring_t *r = handle->data;
  if (r == NULL || r->closed) return;
  if (status == 0) {
    /* Reset the eventfd before draining: a completion posted after this read wakes us again.
     * EAGAIN (already reset by an earlier wake) is fine: the drain below is what matters. */
    uint64_t counter;
    ssize_t ignored = read(r->event_fd, &counter, sizeof counter);
    (void)ignored;
  }
  uint32_t delivered;
  deliver(r, true, &delivered);
}

/* A submission that fails for good (not EAGAIN/EBUSY, which the next attempt retries) would leave
 * its operations waiting forever: from the event loop, it becomes an uncaught exception, as an
 * error thrown in an fs callback would. */
static void submit_from_loop(ring_t *r) {
  int rc = ring_submit(r, 0, 0, NULL, 0);
  if (rc == 0 || rc == EAGAIN || rc == EBUSY) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(r->env, &scope) != napi_ok) return;
  throw_errno(r->env, "io_uring_enter", rc);
  napi_value exception;
  if (napi_get_and_clear_last_exception(r->env, &exception) == napi_ok) napi_fatal_exception(r->env, exception);
  napi_close_handle_scope(r->env, scope);
}

static void on_prepare(uv_prepare_t *handle) {
  ring_t *r = handle->data;
  if (r != NULL && !r->closed && r->to_submit > 0) submit_from_loop(r);
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

static void free_handle(uv_handle_t *handle) {
  free(handle);
}

static void free_bounces(ring_t *r) {
  for (uint32_t i = 0; i < r->slot_count; i++) {
    free(r->slots[i].bounce);
    r->slots[i].bounce = NULL;
  }
  r->bounce_cached = 0;
}

static void release_js(ring_t *r) {
  if (r->callback != NULL) napi_delete_reference(r->env, r->callback);
  if (r->completions_ref != NULL) napi_delete_reference(r->env, r->completions_ref);
  r->callback = NULL;
  r->completions_ref = NULL;
  if (r->async_context != NULL) napi_async_destroy(r->env, r->async_context);
  r->async_context = NULL;
}

/* Releases the kernel and libuv resources. Memory the kernel may still write (an operation in
 * flight: only at environment teardown) is left allocated rather than freed under it. */
static void ring_release(ring_t *r) {
  if (r->closed) return;
  r->closed = true;
  if (r->poll != NULL) {
    uv_poll_stop(r->poll);
    r->poll->data = NULL;
    uv_close((uv_handle_t *)r->poll, free_handle);
    r->poll = NULL;
  }
  if (r->prepare != NULL) {
    uv_prepare_stop(r->prepare);
    r->prepare->data = NULL;
    uv_close((uv_handle_t *)r->prepare, free_handle);
    r->prepare = NULL;
  }
  if (r->event_fd >= 0) close(r->event_fd);
  r->event_fd = -1;
  ring_unmap(r);
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  if (r->in_flight == 0) free_bounces(r);
  /* Closed from inside a completion callback: the call in progress still uses these. */
  if (!r->draining) release_js(r);
}

static void on_env_cleanup(void *data) {
  ring_release(data);
}

static void finalize_ring(napi_env env, void *data, void *hint) {
  (void)hint;
  ring_t *r = data;
  if (!r->closed) napi_remove_env_cleanup_hook(env, on_env_cleanup, r);
  ring_release(r);
  if (r->in_flight == 0) free(r->slots);
  free(r);
}

/* Registers the eventfd and the libuv handles that deliver completions without blocking. */
static int ring_attach_loop(ring_t *r, const char **failed) {
  *failed = "eventfd";
  r->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (r->event_fd < 0) return errno;
  *failed = "io_uring_register(IORING_REGISTER_EVENTFD)";
  if (sys_io_uring_register(r->fd, IORING_REGISTER_EVENTFD, &r->event_fd, 1) != 0) return errno;
  *failed = "uv_poll";
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(r->env, &loop) != napi_ok || loop == NULL) return EINVAL;
  r->poll = calloc(1, sizeof *r->poll);
  r->prepare = calloc(1, sizeof *r->prepare);
  if (r->poll == NULL || r->prepare == NULL) return ENOMEM;
  int rc = uv_poll_init(loop, r->poll, r->event_fd);
  if (rc != 0) {
    free(r->poll);
    r->poll = NULL;
    return -rc;
  }
  r->poll->data = r;
  uv_prepare_init(loop, r->prepare);
  r->prepare->data = r;
  if ((rc = uv_poll_start(r->poll, UV_READABLE, on_poll)) != 0) return -rc;
  if ((rc = uv_prepare_start(r->prepare, on_prepare)) != 0) return -rc;
  uv_unref((uv_handle_t *)r->poll);
  uv_unref((uv_handle_t *)r->prepare);
  return 0;
}

static unsigned round_up_power_of_two(unsigned value) {
  unsigned power = 1;
  while (power < value) power <<= 1;
  return power;
}

/* Creates the kernel ring. Returns 0 or errno, with the failing syscall's name in *failed. */
static int ring_setup(ring_t *r, const char **failed) {
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  /* Room for every slot, plus a timeout and its removal. */
  unsigned entries = round_up_power_of_two(r->slot_count + 2);
  r->fd = sys_io_uring_setup(entries, &params);
  if (r->fd < 0) {
    *failed = "io_uring_setup";
    return errno;
  }
#ifdef SCARAB_HAVE_FEATURES
  r->features = params.features;
#else
  r->features = 0; /* headers older than 5.4: assume no features, the safe paths */
#endif
  r->sq_entries = params.sq_entries;
  r->cq_entries = params.cq_entries;
  int rc = ring_map(r, &params);
  if (rc != 0) *failed = "mmap";
  return rc;
}

static napi_value uring_create(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t slots = 0, flags = 0;
  if (!get_int32(env, argv[0], 1, 4096, "uringCreate: slots must be an integer in [1, 4096]", &slots)) return NULL;
  bool is_typed_array = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, argv[1], &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_int32_array || length < 2) {
    napi_throw_type_error(env, NULL, "uringCreate: completions must be an Int32Array of at least 2");
    return NULL;
  }
  napi_valuetype callback_type;
  if (napi_typeof(env, argv[2], &callback_type) != napi_ok || callback_type != napi_function) {
    napi_throw_type_error(env, NULL, "uringCreate: onCompletions must be a function");
    return NULL;
  }
  if (!get_int32(env, argv[3], 0, 3, "uringCreate: flags must be in [0, 3]", &flags)) return NULL;

  ring_t *r = calloc(1, sizeof *r);
  slot_t *slot_table = calloc((size_t)slots, sizeof *slot_table);
  if (r == NULL || slot_table == NULL) {
    free(r);
    free(slot_table);
    throw_errno(env, "calloc", ENOMEM);
    return NULL;
  }
  r->fd = -1;
  r->event_fd = -1;
  r->env = env;
  r->slots = slot_table;
  r->slot_count = (uint32_t)slots;
  r->completions = data;
  r->batch = (uint32_t)(length / 2);
  const char *failed = "io_uring_setup";
  int rc = ring_setup(r, &failed);
  r->use_timeout_op = (flags & FLAG_TIMEOUT_OP) != 0 || (r->features & IORING_FEAT_EXT_ARG) == 0;
  if (rc == 0 && (flags & FLAG_NO_LOOP) == 0) {
    rc = ring_attach_loop(r, &failed);
  }
  napi_value resource_name, external;
  if (rc == 0 &&
      (napi_create_reference(env, argv[2], 1, &r->callback) != napi_ok ||
       napi_create_reference(env, argv[1], 1, &r->completions_ref) != napi_ok ||
       napi_create_string_utf8(env, "scarab:io_uring", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
       napi_async_init(env, NULL, resource_name, &r->async_context) != napi_ok ||
       napi_create_external(env, r, finalize_ring, NULL, &external) != napi_ok)) {
    rc = ENOMEM;
    failed = "napi";
  }
  if (rc != 0) {
    ring_release(r);
    free(r->slots);
    free(r);
    throw_errno(env, failed, rc);
    return NULL;
  }
  napi_add_env_cleanup_hook(env, on_env_cleanup, r);
  return external;
}

static ring_t *get_ring(napi_env env, napi_value value) {
  napi_valuetype type;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "io_uring: not a ring");
    return NULL;
  }
  ring_t *r = data;
  if (r->closed) {
    napi_throw_error(env, "ERR_RING_CLOSED", "io_uring: the ring is closed");
    return NULL;
  }
  return r;
}

static slot_t *take_slot(napi_env env, ring_t *r, napi_value id_value, int32_t *id) {
  if (!get_int32(env, id_value, 0, (int32_t)r->slot_count - 1, "io_uring: id out of range", id)) return NULL;
  slot_t *slot = &r->slots[*id];
  if (slot->op != SLOT_FREE) {
    napi_throw_error(env, NULL, "io_uring: id already in flight");
    return NULL;
  }
  return slot;
}

/* Points the slot's iovec at the caller's bytes, or at an aligned bounce buffer. Returns errno. */
static int slot_buffer(ring_t *r, slot_t *slot, uint8_t *user, size_t length, bool write) {
  slot->user = user;
  slot->length = length;
  if ((uintptr_t)user % ALIGNMENT == 0 && length % ALIGNMENT == 0) {
    slot->iov.iov_base = user; /* zero-copy: the JS side holds the buffer until completion */
  } else {
    if (slot->bounce_size < length) {
      r->bounce_cached -= slot->bounce_size;
      free(slot->bounce);
      slot->bounce = NULL;
      slot->bounce_size = 0;
      size_t size = (length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
      int rc = posix_memalign(&slot->bounce, ALIGNMENT, size);
      if (rc != 0) return rc;
      slot->bounce_size = size;
      r->bounce_cached += size;
    }
    if (write) memcpy(slot->bounce, user, length);
    slot->iov.iov_base = slot->bounce;
  }
  slot->iov.iov_len = length;
  return 0;
}

static napi_value submit_rw(napi_env env, napi_callback_info info, bool write) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  ring_t *r = get_ring(env, argv[0]);
  if (r == NULL) return NULL;
  int32_t fd = -1, id = -1;
  uint8_t *data = NULL;
  size_t length = 0;
  uint64_t position = 0;
  if (!get_int32(env, argv[1], 0, INT32_MAX, "io_uring: fd must be a non-negative integer", &fd) ||
      !get_bytes(env, argv[2], "io_uring: buffer must be a Uint8Array", &data, &length) ||
      !get_u53(env, argv[3], "io_uring: position must be a non-negative integer", &position)) {
    return NULL;
  }
  slot_t *slot = take_slot(env, r, argv[4], &id);
  if (slot == NULL) return NULL;
  if (length == 0 || length > INT32_MAX) {
    napi_throw_range_error(env, NULL, "io_uring: length must be in [1, 2^31)");
    return NULL;
  }
  int rc = slot_buffer(r, slot, data, length, write);
  if (rc != 0) {
    throw_errno(env, "posix_memalign", rc);
    return NULL;
  }
  struct io_uring_sqe *sqe = sqe_next(r);
  if (sqe == NULL) {
    throw_errno(env, "io_uring_enter", errno != 0 ? errno : EBUSY);
    return NULL;
  }
  sqe->opcode = write ? SCARAB_OP_WRITEV : SCARAB_OP_READV;
  sqe->fd = fd;
  sqe->off = position;
  sqe->addr = (uint64_t)(uintptr_t)&slot->iov;
  sqe->len = 1;
  sqe->user_data = (uint64_t)id;
  slot->op = write ? SLOT_WRITE : SLOT_READ;
  sqe_publish(r);
  r->in_flight += 1;
  poll_reference(r, true);
  return NULL;
}

static napi_value uring_read(napi_env env, napi_callback_info info) {
  return submit_rw(env, info, false);
}

static napi_value uring_write(napi_env env, napi_callback_info info) {
  return submit_rw(env, info, true);
}

static napi_value uring_fsync(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  ring_t *r = get_ring(env, argv[0]);
  if (r == NULL) return NULL;
  int32_t fd = -1, id = -1;
  if (!get_int32(env, argv[1], 0, INT32_MAX, "io_uring: fd must be a non-negative integer", &fd)) return NULL;
  slot_t *slot = take_slot(env, r, argv[2], &id);
  if (slot == NULL) return NULL;
  struct io_uring_sqe *sqe = sqe_next(r);
  if (sqe == NULL) {
    throw_errno(env, "io_uring_enter", errno != 0 ? errno : EBUSY);
    return NULL;
  }
  sqe->opcode = SCARAB_OP_FSYNC;
  sqe->fd = fd;
  sqe->fsync_flags = IORING_FSYNC_DATASYNC;
  sqe->user_data = (uint64_t)id;
  slot->op = SLOT_FSYNC;
  slot->length = 0;
  sqe_publish(r);
  r->in_flight += 1;
  poll_reference(r, true);
  return NULL;
}

static napi_value uring_submit(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  ring_t *r = get_ring(env, argv[0]);
  if (r == NULL) return NULL;
  unsigned queued = r->to_submit;
  int rc = ring_submit(r, 0, 0, NULL, 0);
  if (rc != 0 && rc != EAGAIN && rc != EBUSY) {
    throw_errno(env, "io_uring_enter", rc);
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, queued - r->to_submit, &result);
  return result;
}

/* Sleeps in io_uring_enter until a completion or `timeout_ns`, with the 5.11 timeout argument. */
static int wait_ext_arg(ring_t *r, uint64_t timeout_ns) {
  struct scarab_timespec ts = {(int64_t)(timeout_ns / 1000000000ull),
                               (long long)(timeout_ns % 1000000000ull)};
  struct scarab_getevents_arg arg = {0, 0, 0, (uint64_t)(uintptr_t)&ts};
  int rc = ring_submit(r, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
  return rc == ETIME ? 0 : rc;
}

/* Older kernels: a pure IORING_OP_TIMEOUT wakes the wait at the deadline. When something else
 * wakes it first, the timeout is removed; its completion is recognised and skipped later. */
static int wait_timeout_op(ring_t *r, uint64_t timeout_ns) {
  struct scarab_timespec ts = {(int64_t)(timeout_ns / 1000000000ull),
                               (long long)(timeout_ns % 1000000000ull)};
  if (r->timeout_pending) return EBUSY; /* the previous removal cannot have been lost: a bug */
  struct io_uring_sqe *sqe = sqe_next(r);
  if (sqe == NULL) return EBUSY;
  r->timeout_sequence = (r->timeout_sequence + 1) & (TAG_TIMEOUT_REMOVE - 1);
  sqe->opcode = SCARAB_OP_TIMEOUT;
  sqe->addr = (uint64_t)(uintptr_t)&ts; /* copied by the kernel when submitted, below */
  sqe->len = 1;
  sqe->off = 0; /* a pure timer, not a count of completions */
  sqe->user_data = TAG_TIMEOUT | r->timeout_sequence;
  sqe_publish(r);
  r->timeout_pending = true;
  int rc = ring_submit(r, 1, IORING_ENTER_GETEVENTS, NULL, 0);
  if (rc == EINTR) rc = 0;
  return rc;
}

static int cancel_timeout(ring_t *r) {
  if (!r->timeout_pending) return 0;
  /* Still pending unless its completion is already queued: scan what is there. */
  unsigned head = *r->cq_head;
  unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
  for (; head != tail; head++) {
    if (r->cqes[head & *r->cq_mask].user_data == (TAG_TIMEOUT | r->timeout_sequence)) return 0;
  }
  struct io_uring_sqe *sqe = sqe_next(r);
  if (sqe == NULL) return EBUSY;
  sqe->opcode = SCARAB_OP_TIMEOUT_REMOVE;
  sqe->addr = TAG_TIMEOUT | r->timeout_sequence;
  sqe->user_data = TAG_TIMEOUT_REMOVE;
  sqe_publish(r);
  /* The timeout's own completion (-ECANCELED) is skipped by drain_batch; from now on it is stale. */
  r->timeout_pending = false;
  return ring_submit(r, 0, 0, NULL, 0);
}

/* Consumes our own timeouts' completions at the head of the queue. True when a caller's
 * completion is waiting. */
static bool reap_internal(ring_t *r) {
  unsigned head = *r->cq_head;
  unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
  for (; head != tail; head++) {
    uint64_t tag = r->cqes[head & *r->cq_mask].user_data;
    if (tag < TAG_TIMEOUT_REMOVE) break;
    if (tag == (TAG_TIMEOUT | r->timeout_sequence)) r->timeout_pending = false;
  }
  __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
  return head != tail;
}

static napi_value uring_wait(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  ring_t *r = get_ring(env, argv[0]);
  if (r == NULL) return NULL;
  uint64_t timeout_ns = 0;
  if (!get_u53(env, argv[1], "uringWait: timeoutNs must be a non-negative integer", &timeout_ns)) return NULL;
  if (r->draining) {
    napi_throw_error(env, NULL, "uringWait: called from a completion callback");
    return NULL;
  }
  uint64_t deadline = monotonic_ns() + timeout_ns;
  int rc = 0;
  /* Loop over signals: an EINTR before the deadline waits again for what is left. */
  while (!reap_internal(r) && rc == 0) {
    uint64_t now = monotonic_ns();
    if (now >= deadline) break;
    if (r->use_timeout_op) {
      rc = wait_timeout_op(r, deadline - now);
      if (rc == 0) rc = cancel_timeout(r);
    } else {
      rc = wait_ext_arg(r, deadline - now);
      if (rc == EINTR) rc = 0;
    }
  }
  if (rc == 0 && r->to_submit > 0) rc = ring_submit(r, 0, 0, NULL, 0);
  if (rc != 0 && rc != EAGAIN && rc != EBUSY) {
    throw_errno(env, "io_uring_enter", rc);
    return NULL;
  }
  uint32_t delivered = 0;
  if (deliver(r, false, &delivered) != 0) return NULL; /* the callback threw: rethrown */
  napi_value result;
  napi_create_uint32(env, delivered, &result);
  return result;
}

static napi_value uring_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  ring_t *r = get_ring(env, argv[0]);
  if (r == NULL) return NULL;
  if (r->in_flight > 0) {
    /* The kernel would write into buffers after we freed them. */
    napi_throw_error(env, NULL, "uringClose: operations are still in flight");
    return NULL;
  }
  napi_remove_env_cleanup_hook(env, on_env_cleanup, r);
  ring_release(r);
  return NULL;
}

static napi_value uring_wait_method(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  ring_t *r = get_ring(env, argv[0]);
  if (r == NULL) return NULL;
  napi_value result;
  napi_create_string_utf8(env, r->use_timeout_op ? "timeout_op" : "ext_arg", NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value fallocate_file(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t fd = -1;
  bool keep_size = false;
  uint64_t offset = 0, length = 0;
  if (!get_int32(env, argv[0], 0, INT32_MAX, "fallocateFile: fd must be a non-negative integer", &fd)) return NULL;
  if (napi_get_value_bool(env, argv[1], &keep_size) != napi_ok) {
    napi_throw_type_error(env, NULL, "fallocateFile: keepSize must be a boolean");
    return NULL;
  }
  if (!get_u53(env, argv[2], "fallocateFile: offset must be a non-negative integer", &offset) ||
      !get_u53(env, argv[3], "fallocateFile: length must be a non-negative integer", &length)) {
    return NULL;
  }
  int rc;
  do {
    rc = fallocate(fd, keep_size ? FALLOC_FL_KEEP_SIZE : 0, (off_t)offset, (off_t)length);
  } while (rc != 0 && errno == EINTR);
  napi_value result;
  napi_create_int32(env, rc == 0 ? 0 : errno, &result);
  return result;
}

#endif

/* The buffer's address modulo 4096: tests and benchmarks use it to make aligned (zero-copy) views. */
static napi_value buffer_alignment(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint8_t *data = NULL;
  size_t length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
      !get_bytes(env, argv[0], "bufferAlignment: a Uint8Array", &data, &length)) {
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)((uintptr_t)data % 4096u), &result);
  return result;
}

#ifndef SCARAB_HAVE_IO_URING /* no io_uring at build time: every entry point says so, callers use the portable path */

static napi_value unsupported(napi_env env, napi_callback_info info) {
  (void)info;
  throw_errno(env, "io_uring_setup", ENOSYS);
  return NULL;
}

#define uring_create unsupported
#define uring_read unsupported
#define uring_write unsupported
#define uring_fsync unsupported
#define uring_submit unsupported
#define uring_wait unsupported
#define uring_close unsupported
#define uring_wait_method unsupported

static napi_value fallocate_file(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_int32(env, ENOSYS, &result);
  return result;
}

#endif

napi_status scarab_io_uring_define(napi_env env, napi_value exports) {
  (void)get_u53; /* unused without io_uring */
  napi_property_descriptor properties[] = {
      {"uringCreate", NULL, uring_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringRead", NULL, uring_read, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringWrite", NULL, uring_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringFsync", NULL, uring_fsync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringSubmit", NULL, uring_submit, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringWait", NULL, uring_wait, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringClose", NULL, uring_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringWaitMethod", NULL, uring_wait_method, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fallocateFile", NULL, fallocate_file, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bufferAlignment", NULL, buffer_alignment, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
}
