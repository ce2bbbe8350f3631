// The labels vaultsync puts on the Secrets it writes, naming the resource each belongs to.

export const VAULTSECRET_OWNER_LABEL = 'vaultsync.io/vaultsecret';
export const VAULTCERTIFICATE_OWNER_LABEL = 'vaultsync.io/vaultcertificate';

/** On every Secret vaultsync writes (value MANAGED_BY): the Secret informers watch only these. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'vaultsync';
/** On the operator's own objects (HMAC key, API CA, pending restarts, local CA). */
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const PART_OF = 'vaultsync';
