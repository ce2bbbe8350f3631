export { loadConfig, loadConfigFromEnv } from './load.ts';
export { ConfigError, type ConfigProblem } from './problems.ts';
export { DEFAULT_CONFIG_PATH, ENV, type ConfigSource, type LoadOptions } from './source.ts';
export { configWarnings } from './warnings.ts';
export { readSecretFile, type SecretFileReader } from './files.ts';
export type * from './schema.ts';
