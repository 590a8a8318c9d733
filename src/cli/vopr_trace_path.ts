// `scarab vopr --trace FILE`: the file must be writable before the seed runs (a run can take
// minutes; failing at its end would waste it). Nothing is created or truncated here.
import { accessSync, constants, statSync, type Stats } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "./usage_error.js";

export function checkTracePath(path: string): void {
  const file = resolve(path);
  const folder = dirname(file);
  const existing = statOrNull(file);
  if (existing?.isDirectory()) {
    throw new UsageError(`--trace ${path}: is a directory; give a file name such as ${join(path, "trace.html")}`);
  }
  if (existing === null) {
    const parent = statOrNull(folder);
    if (parent === null) throw new UsageError(`--trace ${path}: folder ${folder} does not exist`);
    if (!parent.isDirectory()) throw new UsageError(`--trace ${path}: ${folder} is not a folder`);
  }
  try {
    accessSync(existing === null ? folder : file, constants.W_OK);
  } catch {
    throw new UsageError(`--trace ${path}: ${existing === null ? `folder ${folder}` : "the file"} is not writable`);
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
