// Features a SecretRotation may ask for that the operator serves only when its config turns them
// on (because they need RBAC the chart grants only then). Pure.
import type { SecretRotationSpec } from '../../apis/v1alpha1/index.ts';

/** Why this operator will not serve the rotation's restart settings; undefined when it will. */
export function disabledRestartMode(spec: SecretRotationSpec, annotatePods: boolean): string | undefined {
  if (spec.restart?.mode !== 'AnnotatePods' || annotatePods) return undefined;
  return (
    'restart.mode AnnotatePods is not enabled on this operator: it patches running pods, so it needs ' +
    'operator.annotatePods: true (Helm value config.operator.annotatePods, which also grants list and ' +
    'patch on pods); or use restart.mode Restart'
  );
}
