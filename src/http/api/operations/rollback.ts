// Rollback of a SecretRotation through the API (issue 17): `POST
// .../secretrotations/{name}:rollback {"toVersion": "2"}` writes the annotation
// `vaultsync.io/rollback-to: <version>#<fresh token>`, which the leader answers once
// (controllers/secretrotation/steps/roll-back-to.ts): the same path as `kubectl annotate`, so
// whichever replica serves the call, the restore, the refresh of the readers and the restarts are
// the leader's. With `waitSeconds`, the call waits for the answer (Done once rolled out, Failed
// when refused). RBAC: `create` on `secretrotations/rollback`.
import { Type } from '@sinclair/typebox';
import { UserAnnotation } from '../../../apis/v1alpha1/index.ts';
import {
  ROLLBACK_VERSION_PATTERN,
  rollbackToValue,
} from '../../../controllers/secretrotation/manual-rollback.ts';
import { Namespace, ObjectName, WaitSeconds, maxWaitSeconds } from '../schemas.ts';
import { type Kind, SECRET_ROTATION, Trigger, type TriggerAnswer, type TriggerDeps } from './triggers.ts';
import type { Operation } from './types.ts';

/** The rollback-to annotation, answered in status.rollbackToHandled; in progress as a rotation is. */
export const ROLLBACK: Kind = {
  ...SECRET_ROTATION,
  verb: 'rollback',
  annotation: UserAnnotation.RollbackTo,
  handled: (o) => o.status?.rollbackToHandled,
};

export interface RollbackInput {
  readonly namespace: string;
  readonly name: string;
  readonly toVersion: string;
  readonly waitSeconds?: number | undefined;
}

const rollbackBody = (maxWait: number) =>
  Type.Object(
    {
      toVersion: Type.String({
        pattern: ROLLBACK_VERSION_PATTERN,
        description:
          'The backend version whose value becomes the newest again, e.g. "2" (KV v2, Google), an AWS ' +
          'version id, an Azure version: status.history of the SecretRotation names them.',
      }),
      waitSeconds: Type.Optional(WaitSeconds(maxWait)),
    },
    { additionalProperties: false },
  );

export function rollbackOperation(
  deps: TriggerDeps,
  limits: { requestTimeoutMs: number },
): Operation<RollbackInput, TriggerAnswer> {
  const trigger = new Trigger(deps, ROLLBACK);
  return {
    action: 'secretrotations.rollback',
    access: (p) => ({
      verb: 'create',
      resource: 'secretrotations',
      subresource: 'rollback',
      namespace: p.namespace,
      name: p.name,
    }),
    schema: {
      params: Type.Object({ namespace: Namespace, name: ObjectName }),
      body: rollbackBody(maxWaitSeconds(limits.requestTimeoutMs)),
    },
    async run(input, ctx) {
      ctx.audit({ resource: `SecretRotation/${input.name}`, detail: { toVersion: input.toVersion } });
      const value = (token: string) => rollbackToValue(input.toVersion, token);
      return trigger.run(input.namespace, [input.name], input.waitSeconds, ctx, value);
    },
  };
}
