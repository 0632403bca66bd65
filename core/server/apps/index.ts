/**
 * Built-in apps (`app <kind> { … }` at the top level of radiusd.conf). Listed explicitly; an
 * embedding program hands `Server` its own `AppRegistry` to add more (see core/server/app.ts).
 */
import { AppRegistry, type AppDefinition } from '../app';
import { adminApp } from './admin/admin';
import { healthApp } from './health/health';

/** The built-in app definitions. */
export const BUILTIN_APPS: readonly AppDefinition[] = [healthApp as unknown as AppDefinition, adminApp as unknown as AppDefinition];

/** A registry holding the built-in apps. */
export function defaultApps(): AppRegistry {
  return new AppRegistry(BUILTIN_APPS);
}
