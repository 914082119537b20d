/**
 * Keystone for the volume service: the built-in minimal Keystone v3 (router mounted at /identity)
 * and the token validator behind `auth_strategy = keystone` (keystonemiddleware's job).
 */
export { BuiltinKeystone, type BuiltinKeystoneOptions } from "./identity";
export { DEFAULT_COST, hashPassword, type ScryptCost, verifyPassword } from "./passwords";
export { keystoneRouter, type KeystoneRouterDeps } from "./router";
export { TokenCache, type TokenCacheOptions } from "./tokenCache";
export type { KeystoneUser, TokenRecord, ValidatedToken } from "./types";
export { loadUsersFile, parseUsers, stableId, UserDirectory } from "./users";
export { identityV3Url, KeystoneTokenValidator, type TokenValidatorOptions } from "./validator";
