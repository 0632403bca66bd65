/**
 * The built-in namespaces. core/server falls back to this registry when the caller (the
 * composition root, a test) hands it none.
 */
import { NamespaceRegistry } from './namespace';
import { RADIUS_NAMESPACE } from './radius/namespace';

/** A registry with the built-in namespaces (`radius`). */
export function defaultNamespaces(): NamespaceRegistry {
  return new NamespaceRegistry([RADIUS_NAMESPACE]);
}
