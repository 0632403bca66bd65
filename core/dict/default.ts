/**
 * Where the repository's own RADIUS dictionary lives, and a cached copy of it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Dictionary } from './dictionary';

let cached: Dictionary | undefined;

/**
 * Absolute path of the repository's `dictionaries/radius/dictionary`. Works
 * from the sources (`core/dict/`) and from the build (`dist/core/dict/`): the
 * `dictionaries/` folder sits at the repository root and is not copied into `dist`.
 */
export function defaultDictionaryPath(): string {
  const rel = path.join('dictionaries', 'radius', 'dictionary');
  const candidates = [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..', '..', '..')];
  for (const root of candidates) {
    if (fs.existsSync(path.join(root, rel))) return path.join(root, rel);
  }
  for (const root of candidates) {
    if (fs.existsSync(path.join(root, 'package.json')) && path.basename(root) !== 'dist') return path.join(root, rel);
  }
  // Source layout by default.
  return path.join(candidates[path.basename(candidates[0]!) === 'dist' ? 1 : 0]!, rel);
}

/** The default RADIUS dictionary, loaded once and shared (treat it as read-only). Throws `DictError`. */
export function loadDefaultDictionary(): Dictionary {
  if (!cached) cached = Dictionary.load(defaultDictionaryPath());
  return cached;
}
