// Lifecycle webhooks: signed JSON events about VaultSecrets, SecretRotations and
// VaultCertificates, delivered in the background (docs/webhooks.md).
export { createWebhookNotifier, type LifecycleNotifier, type WebhookNotifier } from './notifier.ts';
export type { LifecycleEvent, LifecycleEventInput, EventDetails } from './event.ts';
export {
  DEFAULT_TOLERANCE_SECONDS,
  HEADERS,
  computeSignature,
  signatureHeader,
  verifySignature,
  type VerifyResult,
} from './signature.ts';
