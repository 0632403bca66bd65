/**
 * Running external programs without a shell: the command-line splitter (FreeRADIUS's rules:
 * words at blanks, quotes keep a word together, an expansion is never split) and the runner
 * (timeout, output limit, cancellation, optional standard input). Used by unlang's back-quoted
 * strings (`` `/bin/cmd %{User-Name}` ``), by the `exec` module and by `mschap`'s ntlm_auth.
 */
import { spawn } from 'node:child_process';

/** What a finished program produced. */
export interface ExecResult {
  /** Exit status, or null when it was killed or never ran. */
  status: number | null;
  stdout: string;
  /** Why it did not finish normally (spawn error, timeout, signal). */
  error?: string;
}

/**
 * The end (index after the closing bracket) of the expansion that opens at `text[i]` (`{` of
 * `%{…}` or `(` of `%name(…)`), nested brackets and quoted strings inside skipped; -1 when it
 * does not close.
 */
function expansionEnd(text: string, i: number): number {
  const close: string[] = [];
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '{') close.push('}');
    else if (c === '(') close.push(')');
    else if (c === '}' || c === ')') {
      if (close.pop() !== c) return -1;
      if (close.length === 0) return i + 1;
    } else if (c === '"' || c === '\'' || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    }
  }
  return -1;
}

/** The index of the opening bracket when an expansion (`%{` or `%name(`) starts at `text[i]` (`%`), else -1. */
function expansionOpen(text: string, i: number): number {
  if (text[i] !== '%') return -1;
  if (text[i + 1] === '{') return i + 1;
  const m = /^[A-Za-z0-9_.-]+\(/.exec(text.slice(i + 1, i + 80));
  return m ? i + m[0].length : -1;
}

/**
 * Splits a command line into words at blanks; single or double quotes keep a word together (and
 * are removed), and an expansion (`%{…}`, `%name(…)`) stays whole with its own quotes, even when
 * it holds blanks: `--user=%{Stripped-User-Name || 'None'}` is one word, expanded later.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote = '';
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const open = expansionOpen(text, i);
    if (open >= 0) {
      const end = expansionEnd(text, open);
      if (end < 0) throw new Error(`unterminated expansion in program at "${text.slice(i, i + 20)}"`);
      cur += text.slice(i, end);
      has = true;
      i = end - 1;
      continue;
    }
    if (quote) {
      if (c === '\\' && quote === '"' && i + 1 < text.length) { cur += c + text[++i]; continue; }
      if (c === quote) { quote = ''; continue; }
      cur += c;
    } else if (c === '"' || c === '\'') {
      quote = c;
      has = true;
    } else if (c === ' ' || c === '\t') {
      if (has || cur) words.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (quote) throw new Error('unterminated quote in program');
  if (has || cur) words.push(cur);
  return words;
}

/** How {@link runProgram} runs a program. */
export interface RunOptions {
  env: NodeJS.ProcessEnv;
  /** Seconds before the program is killed. */
  timeout: number;
  /** Bytes of standard output kept. */
  maxOutput: number;
  signal?: AbortSignal;
  /** Wait for the program (false: start it detached and return at once). */
  wait: boolean;
  /** Written to the program's standard input, which is then closed (default: no input). */
  input?: string | Buffer;
}

/** Runs `argv` and collects its output. Never rejects. */
export function runProgram(argv: readonly string[], opts: RunOptions): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve) => {
    if (!argv.length || !argv[0]) { resolve({ status: null, stdout: '', error: 'no program given' }); return; }
    let child;
    const stdin = opts.input !== undefined ? 'pipe' : 'ignore';
    try {
      child = spawn(argv[0], argv.slice(1), { env: opts.env, stdio: opts.wait ? [stdin, 'pipe', 'pipe'] : 'ignore', detached: !opts.wait });
    } catch (e) {
      resolve({ status: null, stdout: '', error: (e as Error).message });
      return;
    }
    if (!opts.wait) {
      child.on('error', () => undefined);
      child.unref();
      resolve({ status: 0, stdout: '' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let error: string | undefined;
    if (opts.input !== undefined && child.stdin) {
      // A program that exits without reading all of its input closes the pipe: not an error here.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
    child.stdout!.on('data', (b: Buffer) => {
      if (size < opts.maxOutput) chunks.push(b.subarray(0, opts.maxOutput - size));
      size += b.length;
    });
    child.stderr!.on('data', () => undefined);
    const kill = (why: string) => { error ??= why; child.kill('SIGKILL'); };
    const timer = setTimeout(() => kill(`timed out after ${opts.timeout}s`), opts.timeout * 1000);
    const onAbort = () => kill('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => { error ??= e.message; });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ status: error ? null : code, stdout: Buffer.concat(chunks).toString('utf8'), error });
    });
  });
}
