/** Configuration files: parser, tree and the module config schema DSL. */
export * from './ast';
export * from './errors';
export { parseConfigFile, parseConfigString, type ParseOptions } from './parser';
export { isIgnoredConfigFile, resolveCaseInsensitive } from './include';
