/** Configuration files: parser, tree and the module config schema DSL. */
export * from './ast';
export * from './errors';
export { parseConfigFile, parseConfigString, type ParseOptions } from './parser';
export { isIgnoredConfigFile, resolveCaseInsensitive } from './include';
export { conf, parseSection, describeSchema, redact, sectionOf, suggest, editDistance, parseDuration } from './schema';
export type { Field, Fields, Infer, SectionSchema } from './schema';
