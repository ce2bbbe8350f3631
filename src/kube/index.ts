// The operator runtime every controller reuses. Controllers import from here only.
export { type Cancel, type Clock, raceSignal, sleep, systemClock } from './clock.ts';
export {
  type BackoffOptions,
  type JitterMode,
  type Random,
  type RateLimiter,
  KeyedBackoff,
  defaultBackoff,
  exponentialDelay,
  jitter,
  nextDelay,
} from './backoff.ts';
export {
  type AddOptions,
  type Priority,
  type RateLimitedOptions,
  WorkQueue,
  type WorkQueueOptions,
} from './workqueue.ts';
export {
  Controller,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
  RetryAfterError,
  TerminalError,
} from './controller.ts';
export { Informer } from './informer.ts';
export { type InformerHandlers, enqueueHandlers } from './informer-handlers.ts';
export { OwnWrites, skippingEchoes } from './own-writes.ts';
export type { InformerOptions, InformerStatus } from './informer-options.ts';
export {
  ObjectCache,
  type SnapshotDiff,
  diffSnapshot,
  matchesLabels,
  stripBulkyMetadata,
} from './object-cache.ts';
export {
  type ListResult,
  type ListWatchSource,
  type WatchEvent,
  type WatchEventType,
  type WatchHandle,
  type WatchParams,
  kubeListWatch,
  mergeListWatch,
} from './list-watch.ts';
export {
  type Lease,
  type LeaseAction,
  type LeaseSpec,
  LeaderElector,
  type LeaderElectionOptions,
  type ElectionFence,
  leaseAction,
  microTime,
  nextLeaseSpec,
  shutdownGraceMs,
} from './leader-election.ts';
export {
  LeadershipFence,
  type LeadershipFenceOptions,
  NotLeaderError,
  type WriteFence,
  isNotLeader,
  openFence,
} from './fence.ts';
export {
  type Condition,
  type ConditionInput,
  type ConditionStatus,
  conditionsEqual,
  formatTime,
  getCondition,
  isFalse,
  isTrue,
  removeCondition,
  setCondition,
} from './conditions.ts';
export {
  type CoreEvent,
  EventRecorder,
  type EventRecorderOptions,
  type EventType,
  buildEvent,
} from './events.ts';
export { addFinalizer, finalizersPatch, hasFinalizer, removeFinalizer } from './finalizers.ts';
export {
  KubeError,
  type KubeErrorCode,
  type KubeErrorDetails,
  fromResponse,
  fromStatus,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  isTimeout,
  isTooManyRequests,
  isTransient,
  isUnauthorized,
  isUnavailable,
  toKubeError,
} from './errors.ts';
export {
  type ApplyOptions,
  type DeleteOptions,
  type KubeClient,
  type PatchOptions,
  applyStatus,
  createKubeClient,
  createObject,
  deleteObject,
  getObject,
  mergePatch,
  patchStatus,
  serverSideApply,
} from './client.ts';
export { type ServiceAccountToken, createTokenRequest } from './token-request.ts';
export {
  type HttpVerb,
  PatchType,
  type RestClient,
  type RestClientOptions,
  type RestRequest,
  createRestClient,
} from './rest.ts';
export {
  type ObjectRef,
  type ResourceType,
  builtinResources,
  collectionPath,
  keyFor,
  keyOf,
  objectPath,
  refOf,
  splitKey,
} from './resources.ts';
export { type LogFields, type Logger, noopLogger } from './logger.ts';
export {
  type ControllerMetrics,
  type ReconcileResultLabel,
  type WorkqueueMetrics,
  noopControllerMetrics,
  noopWorkqueueMetrics,
} from './metrics.ts';
