// The Secret a VaultSecret writes: spec.target.name, or the VaultSecret's own name. Shared by
// VaultSecret and SecretRotation (which names its readers' Secrets in what it waits for). Pure.
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';

export const targetName = (vs: VaultSecret): string => vs.spec.target?.name ?? vs.metadata?.name ?? '';
