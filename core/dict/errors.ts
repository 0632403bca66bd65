/** A dictionary syntax or semantic error, always located as `file[line]: message`. */
export class DictError extends Error {
  constructor(readonly file: string, readonly line: number, readonly detail: string) {
    super(`${file}[${line}]: ${detail}`);
    this.name = 'DictError';
  }
}
