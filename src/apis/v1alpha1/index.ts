// vaultsync.io/v1alpha1: schemas, TypeScript types, CRD metadata, validation and CRD builders.
import type { Kind, KindDefinition } from './common.ts';
import { secretRotationDefinition } from './secretrotation.ts';
import { vaultCertificateDefinition } from './vaultcertificate.ts';
import { vaultSecretDefinition } from './vaultsecret.ts';
import type { SecretRotation } from './secretrotation.ts';
import type { VaultCertificate } from './vaultcertificate.ts';
import type { VaultSecret } from './vaultsecret.ts';

export * from './common.ts';
export * from './duration.ts';
export * from './vaultsecret.ts';
export * from './vaultcertificate.ts';
export * from './secretrotation.ts';
export * from './field-managers.ts';
export * from './labels.ts';
export * from './annotations.ts';
export * from './reasons.ts';
export * from './trigger-token.ts';
export * from './history.ts';
export { validateResource, validateSpec } from './validation.ts';
export { allCrds, buildCrd, crdFileName, crdFiles, renderCrdYaml } from './crds.ts';
export type { CustomResourceDefinition, GeneratedFile } from './crds.ts';
export { toStructural } from './structural.ts';
export type { StructuralSchema } from './structural.ts';

/** CRD metadata and schemas of every kind, by kind. */
export const KIND_DEFINITIONS: Readonly<Record<Kind, KindDefinition>> = Object.freeze({
  VaultSecret: vaultSecretDefinition,
  VaultCertificate: vaultCertificateDefinition,
  SecretRotation: secretRotationDefinition,
});

/** Any vaultsync.io/v1alpha1 resource. */
export type VaultSyncResource = VaultSecret | VaultCertificate | SecretRotation;
