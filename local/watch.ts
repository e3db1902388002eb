import { watch, type FSWatcher } from "node:fs";

/**
 * Calls `onChange` once per burst of changes to the TypeScript files under `dirs`
 * (editors write a file in several steps, so changes settle for `settleMs` first).
 */
export function watchSources(dirs: readonly string[], onChange: (files: string[]) => void, settleMs = 150) {
  let changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = dirs.map((dir) =>
    watch(dir, { recursive: true }, (_event, file) => {
      if (!file || !file.endsWith(".ts")) return;
      changed.add(file);
      clearTimeout(timer);
      timer = setTimeout(() => {
        const files = [...changed];
        changed = new Set();
        onChange(files);
      }, settleMs);
    }),
  );
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
