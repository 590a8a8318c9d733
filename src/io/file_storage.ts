// Moved to src/io/data_file/file_storage.ts, beside the io_uring backend and the choice between
// them (open_storage.ts). This re-export keeps importers outside src/io building until they import
// the new path (src/client/embedded_replica.ts); then it goes.
export { FileStorage, type FileStorageOptions, type PositionalRead } from "./data_file/file_storage.js";
