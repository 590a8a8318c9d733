// The module structure of src/ (DESIGN.md "Layers and folders"): imports only point down the
// layers, `core ← io ← grid ← replica ← {sim, client, cli}`, and no module reaches itself again
// through runtime imports. A runtime cycle makes evaluation order depend on which module is
// loaded first (a class or constant may still be in its temporal dead zone), and it means the
// modules cannot be read, tested or replaced one at a time. Type-only imports are erased by the
// compiler, so they may form cycles; they still count for the layer rule.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const root = new URL("..", import.meta.url).pathname;

interface ImportEdge {
  readonly specifier: string;
  /** Erased by the compiler: `import type`, or every named binding marked `type`. */
  readonly typeOnly: boolean;
}

/** Named bindings all marked `type` (and at least one of them). */
function allTypeOnly(elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>): boolean {
  return elements.length > 0 && elements.every((element) => element.isTypeOnly);
}

function importEdge(statement: ts.ImportDeclaration): ImportEdge {
  const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
  const clause = statement.importClause;
  if (clause === undefined) return { specifier, typeOnly: false }; // import "./x.js": side effects
  if (clause.isTypeOnly) return { specifier, typeOnly: true };
  const bindings = clause.namedBindings;
  const namedTypeOnly = bindings !== undefined && ts.isNamedImports(bindings) && allTypeOnly(bindings.elements);
  return { specifier, typeOnly: clause.name === undefined && namedTypeOnly };
}

function exportEdge(statement: ts.ExportDeclaration): ImportEdge | null {
  if (statement.moduleSpecifier === undefined) return null; // export { local }
  const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
  const clause = statement.exportClause;
  const namedTypeOnly = clause !== undefined && ts.isNamedExports(clause) && allTypeOnly(clause.elements);
  return { specifier, typeOnly: statement.isTypeOnly || namedTypeOnly };
}

/** Every import and re-export of `source`, static or dynamic (`import("./x.js")` loads at run time). */
export function parseImports(source: string, fileName = "module.ts"): ImportEdge[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const pending: ts.Node[] = [file];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (ts.isImportDeclaration(node)) edges.push(importEdge(node));
    else if (ts.isExportDeclaration(node)) {
      const edge = exportEdge(node);
      if (edge !== null) edges.push(edge);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteral(argument)) edges.push({ specifier: argument.text, typeOnly: false });
    }
    node.forEachChild((child) => { pending.push(child); });
  }
  return edges.sort((a, b) => (a.specifier < b.specifier ? -1 : a.specifier > b.specifier ? 1 : 0));
}

/**
 * The cycles of a directed graph: Tarjan's strongly connected components (iteratively: no
 * recursion on a graph of unbounded size), and for each node of a component with a cycle, the
 * shortest cycle through it, each distinct cycle once, as a path that ends where it starts.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  for (const component of stronglyConnected(graph)) {
    const members = new Set(component);
    for (const start of [...component].sort()) {
      const cycle = shortestCycle(graph, members, start);
      if (cycle === null) continue; // a single node without a self-loop
      const key = canonicalCycle(cycle).join(" → ");
      if (!cycles.has(key)) cycles.set(key, canonicalCycle(cycle));
    }
  }
  return [...cycles.keys()].sort().map((key) => cycles.get(key)!);
}

function stronglyConnected(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    // Each frame: a node and the position of the next successor to visit.
    const frames: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, index.size);
    low.set(start, index.get(start)!);
    stack.push(start);
    onStack.add(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const successors = graph.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const successor = successors[frame.next]!;
        frame.next += 1;
        if (!index.has(successor)) {
          index.set(successor, index.size);
          low.set(successor, index.get(successor)!);
          stack.push(successor);
          onStack.add(successor);
          frames.push({ node: successor, next: 0 });
        } else if (onStack.has(successor)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(successor)!));
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      for (;;) {
        const member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
        if (member === frame.node) break;
      }
      components.push(component);
    }
  }
  return components;
}

/** Breadth-first inside one component: the shortest path from `start` back to itself. */
function shortestCycle(graph: ReadonlyMap<string, readonly string[]>, members: ReadonlySet<string>, start: string): string[] | null {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const successor of graph.get(node) ?? []) {
      if (!members.has(successor)) continue;
      if (successor === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at)!) path.push(at);
        return [...path, start].reverse();
      }
      if (previous.has(successor)) continue;
      previous.set(successor, node);
      queue.push(successor);
    }
  }
  return null;
}

/** The rotation that starts at the smallest name, so that one cycle has one spelling. */
function canonicalCycle(cycle: readonly string[]): string[] {
  const ring = cycle.slice(0, -1);
  const first = ring.indexOf([...ring].sort()[0]!);
  const rotated = [...ring.slice(first), ...ring.slice(0, first)];
  return [...rotated, rotated[0]!];
}

function listSources(directory: string): string[] {
  return readdirSync(directory).sort().flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return listSources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

interface SourceImport { readonly from: string; readonly to: string; readonly typeOnly: boolean }

let parsed: SourceImport[] | null = null;

/** Every relative import between files of src/, as root-relative .ts paths (parsed once). */
function sourceImports(): SourceImport[] {
  if (parsed !== null) return parsed;
  const imports: SourceImport[] = [];
  for (const file of listSources(join(root, "src"))) {
    for (const edge of parseImports(readFileSync(file, "utf8"), file)) {
      if (!edge.specifier.startsWith(".")) continue; // node: builtins and packages
      const to = relative(root, join(file, "..", edge.specifier)).replace(/\.js$/, ".ts");
      imports.push({ from: relative(root, file), to, typeOnly: edge.typeOnly });
    }
  }
  parsed = imports;
  return imports;
}

/**
 * What each folder of src/ may import, besides node: builtins. Imports only point down the layers;
 * the replica (and the simulator, which hosts it) sees io only through the seam interfaces, never
 * a concrete backend. Only the cli sits above sim and client.
 */
const seam = ["src/io/time.ts", "src/io/storage.ts", "src/io/message_bus.ts"];
const layers: Record<string, readonly string[]> = {
  "src/core": ["src/core"],
  "src/io": ["src/core", "src/io"],
  "src/grid": ["src/core", "src/grid", ...seam],
  "src/replica": ["src/core", "src/grid", "src/replica", ...seam],
  "src/sim": ["src/core", "src/grid", "src/replica", "src/sim", ...seam],
  "src/client": ["src/core", "src/io", "src/grid", "src/replica", "src/client"],
  "src/cli": ["src/core", "src/io", "src/grid", "src/replica", "src/sim", "src/client", "src/cli"],
};

function within(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder + "/");
}

describe("layering", () => {
  test("the import parser tells runtime imports from type-only ones", () => {
    const source = [
      'import type { A } from "./type_only.js";',
      'import { type B, type C } from "./named_types.js";',
      'import { type D, e } from "./mixed.js";',
      'import F, { type G } from "./default.js";',
      'import "./side_effect.js";',
      'export { h } from "./reexport.js";',
      'export type { I } from "./type_reexport.js";',
      'export * from "./star.js";',
      'const lazy = () => import("./dynamic.js");',
      "// import { j } from './commented.js';",
    ].join("\n");
    expect(parseImports(source)).toEqual([
      { specifier: "./default.js", typeOnly: false },
      { specifier: "./dynamic.js", typeOnly: false },
      { specifier: "./mixed.js", typeOnly: false },
      { specifier: "./named_types.js", typeOnly: true },
      { specifier: "./reexport.js", typeOnly: false },
      { specifier: "./side_effect.js", typeOnly: false },
      { specifier: "./star.js", typeOnly: false },
      { specifier: "./type_only.js", typeOnly: true },
      { specifier: "./type_reexport.js", typeOnly: true },
    ]);
  });

  test("the cycle detector finds every cycle of a small graph, and none in a tree", () => {
    const graph = new Map<string, string[]>([
      ["a", ["b"]], ["b", ["c", "e"]], ["c", ["a", "d"]], ["d", ["d"]], ["e", ["b"]], ["f", ["a"]],
    ]);
    expect(findCycles(graph)).toEqual([["a", "b", "c", "a"], ["b", "e", "b"], ["d", "d"]]);
    expect(findCycles(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]))).toEqual([]);
  });

  test("imports only point down the layers (DESIGN.md: core ← io ← grid ← replica ← {sim, client, cli})", () => {
    const imports = sourceImports();
    expect(imports.length).toBeGreaterThan(0);
    const offenders: string[] = [];
    for (const { from, to } of imports) {
      const folder = Object.keys(layers).find((candidate) => within(from, candidate));
      if (folder === undefined) {
        offenders.push(`${from} is in no layer of DESIGN.md`);
        continue;
      }
      if (!layers[folder]!.some((target) => within(to, target))) offenders.push(`${from} imports ${to}`);
    }
    expect(offenders).toEqual([]);
  });

  test("no runtime import cycles anywhere in src/ (type-only imports aside)", () => {
    const graph = new Map<string, string[]>();
    for (const { from, to, typeOnly } of sourceImports()) {
      if (!graph.has(from)) graph.set(from, []);
      if (!typeOnly && !graph.get(from)!.includes(to)) graph.get(from)!.push(to);
    }
    const cycles = findCycles(graph).map((cycle) => cycle.join(" → "));
    expect(cycles).toEqual([]);
  });
});
