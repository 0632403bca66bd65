/**
 * Error thrown by the value parsers and casts.
 *
 * The message carries no location: callers that know where the text came
 * from (file and line, pair list position) add it themselves.
 */
export class ValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueError';
  }
}
