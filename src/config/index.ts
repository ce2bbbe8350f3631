export {
  ConfigError,
  DEFAULT_CONFIG_PATH,
  ENV,
  configWarnings,
  loadConfig,
  loadConfigFromEnv,
} from './load.ts';
export type { ConfigProblem, ConfigSource, LoadOptions } from './load.ts';
export { readSecretFile, type SecretFileReader } from './files.ts';
export { formatDuration, parseDuration, type Milliseconds } from './duration.ts';
export type * from './schema.ts';
