// The labels vaultsync puts on the Secrets it writes, naming the resource each belongs to.

export const VAULTSECRET_OWNER_LABEL = 'vaultsync.io/vaultsecret';
export const VAULTCERTIFICATE_OWNER_LABEL = 'vaultsync.io/vaultcertificate';
