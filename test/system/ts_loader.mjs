// Lets plain Node 20 run the fault test's TypeScript (test/system/*.ts) without a build step:
// `node --import ./test/system/ts_loader.mjs file.ts`, or `import "./ts_loader.mjs"` before a
// dynamic import of a .ts file. The hooks strip types with the TypeScript compiler (a
// devDependency; transpileModule, no type check) and map the NodeNext-style "./x.js" specifiers
// of a .ts importer to "./x.ts". The sources in src/ are not involved (bin/scarab.js runs dist/).
import { readFile } from "node:fs/promises";
import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

if (isMainThread) register(import.meta.url, import.meta.url);

let typescript = null;

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const fromTs = context.parentURL?.startsWith("file:") && context.parentURL.endsWith(".ts");
    if (fromTs && specifier.startsWith(".") && specifier.endsWith(".js")) return next(`${specifier.slice(0, -3)}.ts`, context);
    throw error;
  }
}

export async function load(url, context, next) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return next(url, context);
  typescript ??= (await import("typescript")).default;
  const source = await readFile(new URL(url), "utf8");
  const { outputText } = typescript.transpileModule(source, {
    fileName: url,
    compilerOptions: {
      module: typescript.ModuleKind.ESNext, target: typescript.ScriptTarget.ES2022, inlineSourceMap: true,
    },
  });
  return { format: "module", source: outputText, shortCircuit: true };
}
