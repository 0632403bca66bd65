/**
 * The built-in module definitions for tests that load configurations naming them. Core never
 * imports `modules/` (test/structure.test.ts); a test under core/ that needs the built-ins gets
 * them here and passes them explicitly (`loadGeneration({ modules })`, `new Server({ modules })`).
 */
export { BUILTIN_MODULES, MODULE_APPS } from '../../modules/index';
