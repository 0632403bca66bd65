import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * File-system helpers for `$INCLUDE`: case-insensitive fallback lookup and the
 * directory-include file filter (the config-tree rules of the project's seed document).
 */

/** Documentation extensions that a directory include skips (compared case-insensitively). */
export const IGNORED_DOC_EXTENSIONS = ['.txt', '.html', '.doc', '.md'];

/**
 * Whether a directory include skips this file name: dotfiles, editor and package-manager
 * leftovers (`~`, `#…#`, `.bak`, `.orig`, `.rej`, `.swp`, `.rpmsave`, `.rpmnew`, `.dpkg-*`) and
 * documentation (`.txt`, `.html`, `.doc`, `.md`).
 */
export function isIgnoredConfigFile(name: string): boolean {
  if (name.startsWith('.') || name.endsWith('~') || (name.startsWith('#') && name.endsWith('#'))) return true;
  const lower = name.toLowerCase();
  if (/\.(bak|orig|rej|swp|rpmsave|rpmnew)$/.test(lower) || lower.includes('.dpkg-')) return true;
  return IGNORED_DOC_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

function exists(p: string): boolean {
  try {
    fs.statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolve a path, first with its exact case, then component by component with a
 * case-insensitive match in each directory (the first match in sorted order wins).
 * Returns undefined when nothing matches.
 */
export function resolveCaseInsensitive(p: string): string | undefined {
  if (exists(p)) return p;
  const parsed = path.parse(path.normalize(p));
  const rel = path.normalize(p).slice(parsed.root.length);
  const parts = rel.split(path.sep).filter((s) => s !== '' && s !== '.');
  let cur = parsed.root === '' ? '.' : parsed.root;
  let out = parsed.root;
  for (const part of parts) {
    const exact = path.join(cur, part);
    if (part === '..' || exists(exact)) {
      cur = exact;
      out = out === '' ? part : path.join(out, part);
      continue;
    }
    let entries: string[];
    try {
      entries = fs.readdirSync(cur).sort();
    } catch {
      return undefined;
    }
    const lower = part.toLowerCase();
    const hit = entries.find((e) => e.toLowerCase() === lower);
    if (hit === undefined) return undefined;
    cur = path.join(cur, hit);
    out = out === '' ? hit : path.join(out, hit);
  }
  return out === '' ? '.' : out;
}

/** The regular files of a directory that an include loads, sorted by name (code-unit order). */
export function listConfigDir(dir: string): string[] {
  const names = fs.readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: string[] = [];
  for (const name of names) {
    if (isIgnoredConfigFile(name)) continue;
    try {
      if (!fs.statSync(path.join(dir, name)).isFile()) continue;
    } catch {
      continue;
    }
    out.push(name);
  }
  return out;
}
