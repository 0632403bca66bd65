/**
 * The fields of a `map <module> … { }` result (core's `MapResult`), named case-insensitively as
 * LDAP attributes and client items are: `add` appends values under the lower-case name, `get`
 * finds any spelling.
 */
export class FieldMap extends Map<string, string[]> {
  /** Appends `values` to field `name` (created when new). */
  add(name: string, values: readonly string[]): void {
    const k = name.toLowerCase();
    const have = super.get(k);
    if (have) have.push(...values);
    else super.set(k, [...values]);
  }

  override get(name: string): string[] | undefined {
    return super.get(name.toLowerCase());
  }
}
