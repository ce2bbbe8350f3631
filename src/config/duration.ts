// The config's durations (`500ms`, `30s`, `5m`, `1h30m`, `0`) use the one grammar the CRDs use;
// the schema decodes them to whole milliseconds.
export {
  DURATION_PATTERN,
  formatDuration,
  parseDuration,
  type Milliseconds,
} from '../apis/v1alpha1/duration.ts';
