/** Configuration files: parser, tree and the module config schema DSL. See README.md. */
export * from './ast';
export * from './errors';
export { parseConfigFile, parseConfigString, type ParseOptions } from './parser';
export { Lexer, normaliseSource, type Token, type TokKind } from './lexer';
export { isIgnoredConfigFile, listConfigDir, resolveCaseInsensitive } from './include';
export { conf, parseSection, describeSchema, redact, sectionOf, suggest, editDistance, didYouMean, parseDuration } from './schema';
export type { Field, Fields, Infer, SectionSchema } from './schema';
