# Scarab's optional native addon (native/, plain C over Node-API). Built by
# scripts/build-native.mjs during `npm install`; the TypeScript fallback is used when it is absent.
# No -march=native: the binary must run on any x86_64. The AES-NI code enables its instructions
# per function (__attribute__((target))) and is chosen at run time.
{
  "targets": [
    {
      "target_name": "scarab_native",
      "sources": ["native/aegis.c", "native/addon.c", "native/file_lock.c", "native/io_uring.c",
                  "native/memory.c", "native/process_exec.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O3", "-std=c11"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "OTHER_CFLAGS": ["-std=c11"]
      }
    }
  ]
}
