/*
 * Scarab's native addon (plain C, Node-API only so one binary works across Node versions).
 * The checksum functions are pure with a TypeScript twin (src/core/native_addon.ts): the addon only
 * makes the same results faster, so it can never affect determinism. The I/O functions (file lock,
 * io_uring) serve production hosts only; the simulator never loads them.
 *
 * Exports:
 *   aegisMac(data: Uint8Array, out: Uint8Array, outOffset: number): void
 *   aegisMacPortable(...)  the same, forcing the portable C path (for tests)
 *   aegisMacRange(data, start, end, out, outOffset): void   the MAC of data[start, end)
 *   aegisMacRangeMatches(data, start, end, expected, expectedOffset): boolean   it equals expected's 16 bytes
 *   aegisSealFrame(message, size): void   a message's checksum_body, then its header checksum
 *   aegisVerifyFrame(message): number     0 when a whole message's checksums hold (FRAME_* below)
 *   aesni(): boolean       true when aegisMac uses AES-NI on this CPU
 *   flockExclusive(fd: number): number   0 once the file is locked, else errno (file_lock.c)
 *   uringCreate, uringRead, ... fallocateFile   the data file's io_uring ring (io_uring.c); not
 *                          pure functions: I/O, used only by the production storage backend
 *
 * Bad arguments throw TypeError/RangeError; nothing here may crash the process.
 */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "aegis.h"
#include "file_lock.h"
#include "io_uring.h"
#include "memory.h"
#include "process_exec.h"

typedef void (*mac_function)(const uint8_t *data, size_t length, uint8_t tag[16]);

/* Reads a Uint8Array/Buffer argument. Returns 0 (with a pending TypeError) when it is not one. */
static int get_bytes(napi_env env, napi_value value, const char *message, uint8_t **data,
                     size_t *length) {
  /* napi_get_typedarray_info fails (napi_invalid_arg) for anything but a typed array. */
  napi_typedarray_type type;
  void *pointer = NULL;
  /* The returned pointer already includes the view's byteOffset (Node-API docs). */
  if (napi_get_typedarray_info(env, value, &type, length, &pointer, NULL, NULL) != napi_ok ||
      (type != napi_uint8_array && type != napi_uint8_clamped_array)) {
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  *data = (uint8_t *)pointer;
  return 1;
}

/* Reads outOffset: an integer with 0 <= offset and offset + 16 <= out_length. */
static int get_out_offset(napi_env env, napi_value value, size_t out_length, size_t *offset) {
  double number = 0;
  /* napi_get_value_double fails (napi_number_expected) for anything but a number. */
  if (napi_get_value_double(env, value, &number) != napi_ok) {
    napi_throw_type_error(env, NULL, "aegisMac: outOffset must be a number");
    return 0;
  }
  /* Compare as doubles first so NaN, infinities and huge values never reach a size_t cast. */
  if (!(number >= 0) || number != floor(number) || out_length < 16 ||
      number > (double)(out_length - 16)) {
    napi_throw_range_error(env, NULL,
                           "aegisMac: outOffset must be an integer with outOffset + 16 <= out.length");
    return 0;
  }
  *offset = (size_t)number;
  return 1;
}

/* Reads a byte range [start, end) of a buffer of `length` bytes: integers with start <= end <= length. */
static int get_range(napi_env env, napi_value start_value, napi_value end_value, size_t length, size_t *start,
                     size_t *end) {
  double start_number = 0, end_number = 0;
  if (napi_get_value_double(env, start_value, &start_number) != napi_ok ||
      napi_get_value_double(env, end_value, &end_number) != napi_ok) {
    napi_throw_type_error(env, NULL, "aegisMacRange: start and end must be numbers");
    return 0;
  }
  if (!(start_number >= 0) || start_number != floor(start_number) || end_number != floor(end_number) ||
      !(end_number >= start_number) || end_number > (double)length) {
    napi_throw_range_error(env, NULL, "aegisMacRange: need integers 0 <= start <= end <= data.length");
    return 0;
  }
  *start = (size_t)start_number;
  *end = (size_t)end_number;
  return 1;
}

/*
 * aegisMac(data, out, outOffset) and aegisMacPortable(...): the MAC of data into out[outOffset..+16).
 * aegisMacRange(data, start, end, out, outOffset): the MAC of data[start, end), without a subarray
 * per call (headers are checksummed at an offset). aegisMacRangeMatches(data, start, end, expected,
 * expectedOffset): whether that MAC equals expected[expectedOffset..+16).
 */
/* Whether a computed tag equals the 16 bytes at expected (in constant time). */
static int tag_equals(const uint8_t tag[16], const uint8_t *expected) {
  uint8_t difference = 0;
  for (int i = 0; i < 16; i++) difference |= (uint8_t)(tag[i] ^ expected[i]);
  return difference == 0;
}

enum mac_call { MAC_WHOLE, MAC_RANGE, MAC_RANGE_MATCHES };

static napi_value mac_call(napi_env env, napi_callback_info info, mac_function mac, enum mac_call call) {
  size_t argc = 5;
  napi_value argv[5];
  /* Missing arguments read as undefined, which the type checks below reject. */
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;

  const int ranged = call != MAC_WHOLE;
  const char *data_error = ranged ? "aegisMacRange: data must be a Uint8Array" : "aegisMac: data must be a Uint8Array";
  const char *out_error = ranged ? "aegisMacRange: out must be a Uint8Array" : "aegisMac: out must be a Uint8Array";
  uint8_t *data = NULL, *out = NULL;
  size_t data_length = 0, out_length = 0, start = 0, end = 0, offset = 0;
  if (!get_bytes(env, argv[0], data_error, &data, &data_length)) return NULL;
  if (ranged) {
    if (!get_range(env, argv[1], argv[2], data_length, &start, &end)) return NULL;
  } else {
    end = data_length;
  }
  const size_t out_index = ranged ? 3 : 1;
  if (!get_bytes(env, argv[out_index], out_error, &out, &out_length)) return NULL;
  if (!get_out_offset(env, argv[out_index + 1], out_length, &offset)) return NULL;

  /* The tag goes to a local first, so out may overlap data. */
  uint8_t tag[16];
  mac(data + start, end - start, tag);
  if (call != MAC_RANGE_MATCHES) {
    for (int i = 0; i < 16; i++) out[offset + i] = tag[i];
    return NULL;
  }
  napi_value result = NULL;
  napi_get_boolean(env, tag_equals(tag, out + offset), &result);
  return result;
}

static napi_value aegis_mac(napi_env env, napi_callback_info info) {
  return mac_call(env, info, scarab_aegis_mac, MAC_WHOLE);
}

static napi_value aegis_mac_portable(napi_env env, napi_callback_info info) {
  return mac_call(env, info, scarab_aegis_mac_portable, MAC_WHOLE);
}

static napi_value aegis_mac_range(napi_env env, napi_callback_info info) {
  return mac_call(env, info, scarab_aegis_mac, MAC_RANGE);
}

static napi_value aegis_mac_range_matches(napi_env env, napi_callback_info info) {
  return mac_call(env, info, scarab_aegis_mac, MAC_RANGE_MATCHES);
}

/*
 * The frame functions do in one call what a message needs two MACs for (wire.md §6: the header
 * checksum covers checksum_body), saving a crossing into the addon per message with a body.
 * Offsets are the wire's: checksum at 0, checksum_body at 32, size (u32 LE) at 96, the header
 * checksum over [16, 256).
 */
#define FRAME_HEADER_SIZE 256
#define FRAME_CHECKSUMMED_START 16
#define FRAME_CHECKSUM_BODY 32
#define FRAME_SIZE 96

enum frame_check { FRAME_OK = 0, FRAME_BAD_HEADER = 1, FRAME_SIZE_MISMATCH = 2, FRAME_BAD_BODY = 3 };

/* Reads the `count` arguments of a frame call, the first being the message. 0 with an error pending. */
static int frame_arguments(napi_env env, napi_callback_info info, size_t count, napi_value *argv, const char *error,
                           uint8_t **message, size_t *length) {
  size_t argc = count;
  /* Missing arguments read as undefined, which the checks reject. */
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  return get_bytes(env, argv[0], error, message, length);
}

/* aegisSealFrame(message, size): MAC(message[256, size)) into checksum_body, then the header's. */
static napi_value aegis_seal_frame(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *message = NULL;
  size_t length = 0;
  if (!frame_arguments(env, info, 2, argv, "aegisSealFrame: message must be a Uint8Array", &message, &length)) {
    return NULL;
  }
  double size = 0;
  if (napi_get_value_double(env, argv[1], &size) != napi_ok) {
    napi_throw_type_error(env, NULL, "aegisSealFrame: size must be a number");
    return NULL;
  }
  if (!(size >= FRAME_HEADER_SIZE) || size != floor(size) || size > (double)length) {
    napi_throw_range_error(env, NULL, "aegisSealFrame: need an integer size with 256 <= size <= message.length");
    return NULL;
  }
  uint8_t tag[16];
  scarab_aegis_mac(message + FRAME_HEADER_SIZE, (size_t)size - FRAME_HEADER_SIZE, tag);
  for (int i = 0; i < 16; i++) message[FRAME_CHECKSUM_BODY + i] = tag[i];
  scarab_aegis_mac(message + FRAME_CHECKSUMMED_START, FRAME_HEADER_SIZE - FRAME_CHECKSUMMED_START, tag);
  for (int i = 0; i < 16; i++) message[i] = tag[i];
  return NULL;
}

/*
 * aegisVerifyFrame(message): checks a received message in the order a replica must (the size is
 * trusted only once the header checksum holds): FRAME_BAD_HEADER, FRAME_SIZE_MISMATCH (the header's
 * size is not message.length), FRAME_BAD_BODY, or FRAME_OK.
 */
static napi_value aegis_verify_frame(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  uint8_t *message = NULL;
  size_t length = 0;
  if (!frame_arguments(env, info, 1, argv, "aegisVerifyFrame: message must be a Uint8Array", &message, &length)) {
    return NULL;
  }
  int32_t check = FRAME_OK;
  uint8_t tag[16];
  if (length < FRAME_HEADER_SIZE) {
    check = FRAME_BAD_HEADER;
  } else {
    scarab_aegis_mac(message + FRAME_CHECKSUMMED_START, FRAME_HEADER_SIZE - FRAME_CHECKSUMMED_START, tag);
    if (!tag_equals(tag, message)) {
      check = FRAME_BAD_HEADER;
    } else {
      const uint32_t size = (uint32_t)message[FRAME_SIZE] | (uint32_t)message[FRAME_SIZE + 1] << 8 |
                            (uint32_t)message[FRAME_SIZE + 2] << 16 | (uint32_t)message[FRAME_SIZE + 3] << 24;
      if (size != length) {
        check = FRAME_SIZE_MISMATCH;
      } else {
        scarab_aegis_mac(message + FRAME_HEADER_SIZE, length - FRAME_HEADER_SIZE, tag);
        if (!tag_equals(tag, message + FRAME_CHECKSUM_BODY)) check = FRAME_BAD_BODY;
      }
    }
  }
  napi_value result = NULL;
  napi_create_int32(env, check, &result);
  return result;
}

static napi_value aesni(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result = NULL;
  napi_get_boolean(env, scarab_aegis_aesni_available() != 0, &result);
  return result;
}

static napi_value flock_exclusive(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "flockExclusive: fd must be a non-negative integer");
    return NULL;
  }
  napi_value result = NULL;
  napi_create_int32(env, scarab_flock_exclusive(fd), &result);
  return result;
}

static napi_value advise_huge_pages(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool is_typed_array = false;
  napi_typedarray_type type;
  size_t count = 0;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_is_typedarray(env, argv[0], &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, argv[0], &type, &count, &data, NULL, NULL) != napi_ok ||
      (type != napi_uint8_array && type != napi_uint32_array)) {
    napi_throw_type_error(env, NULL, "adviseHugePages: a Uint8Array or Uint32Array");
    return NULL;
  }
  size_t bytes = type == napi_uint32_array ? count * 4 : count;
  napi_value result = NULL;
  napi_create_int32(env, scarab_advise_huge_pages(data, bytes), &result);
  return result;
}

/* Copies a JS string into a fresh malloc'd C string; NULL (with a TypeError thrown) if it is not one. */
static char *dup_string(napi_env env, napi_value value, const char *error) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, error);
    return NULL;
  }
  char *copy = malloc(length + 1);
  if (copy == NULL || napi_get_value_string_utf8(env, value, copy, length + 1, &length) != napi_ok) {
    free(copy);
    napi_throw_error(env, NULL, "execProcess: out of memory");
    return NULL;
  }
  return copy;
}

/* execProcess(path, args): execv in place; returns errno only if it failed (then nothing changed). */
static napi_value exec_process(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool is_array = false;
  uint32_t count = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[1], &count) != napi_ok || count == 0) {
    napi_throw_type_error(env, NULL, "execProcess: a path and a non-empty array of arguments");
    return NULL;
  }
  char *path = dup_string(env, argv[0], "execProcess: path must be a string");
  char **args = calloc((size_t)count + 1, sizeof *args);
  int error = path == NULL || args == NULL ? -1 : 0;
  for (uint32_t i = 0; error == 0 && i < count; i++) {
    napi_value element;
    if (napi_get_element(env, argv[1], i, &element) != napi_ok) error = -1;
    else if ((args[i] = dup_string(env, element, "execProcess: arguments must be strings")) == NULL) error = -1;
  }
  if (error == 0) error = scarab_exec(path, args);
  for (uint32_t i = 0; args != NULL && i < count; i++) free(args[i]);
  free(args);
  free(path);
  if (error < 0) return NULL; /* a TypeError is pending */
  napi_value result = NULL;
  napi_create_int32(env, error, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"aegisMac", NULL, aegis_mac, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aegisMacPortable", NULL, aegis_mac_portable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aegisMacRange", NULL, aegis_mac_range, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aegisMacRangeMatches", NULL, aegis_mac_range_matches, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aegisSealFrame", NULL, aegis_seal_frame, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aegisVerifyFrame", NULL, aegis_verify_frame, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aesni", NULL, aesni, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flockExclusive", NULL, flock_exclusive, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adviseHugePages", NULL, advise_huge_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"execProcess", NULL, exec_process, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) !=
      napi_ok) {
    return NULL;
  }
  if (scarab_io_uring_define(env, exports) != napi_ok) return NULL;
  return exports;
}
