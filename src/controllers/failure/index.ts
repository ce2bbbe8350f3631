// The failure path every reconciler shares: classify an error, record Ready=False, one Warning
// per change, retry by kind. See report.ts for the routine and outcome.ts for the decisions.
export { Failure, type FailureOptions, MAX_FAILURE_MESSAGE, USER_ERROR_RETRY_MS } from './failure.ts';
export {
  type Classified,
  type ClassifyOptions,
  type KindReasons,
  backendReason,
  classify,
} from './classify.ts';
export { type Retry, failedConditions, retryOf, said, settle, warningDue } from './outcome.ts';
export { type FailureReport, FailureReporter, type Recorded, type Reported } from './report.ts';
export { refusedWrite, refusedWriteMessage } from './refused-write.ts';
