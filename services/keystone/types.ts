/** Records of the built-in Keystone: users from the users file, and the tokens it issued. */

/** The only domain: Keystone's default domain, as every client names it. */
export const DEFAULT_DOMAIN = { id: "default", name: "Default" } as const;

export interface KeystoneProject {
  id: string;
  name: string;
}

export interface KeystoneRole {
  id: string;
  name: string;
}

export interface KeystoneUser {
  id: string;
  name: string;
  /** `scrypt$…` (passwords.ts); the plain password is never kept. */
  passwordHash: string;
  /** The one project the user has roles on. */
  project: KeystoneProject;
  roles: readonly KeystoneRole[];
}

export interface TokenRecord {
  user: KeystoneUser;
  /** Null for an unscoped token (no catalog, no roles), as Keystone issues without a scope. */
  project: KeystoneProject | null;
  methods: readonly string[];
  issuedAt: Date;
  expiresAt: Date;
  /** Keystone's audit id: names the token in logs without revealing it. */
  auditId: string;
}

/** What the API's validator keeps of a token Keystone confirmed. */
export interface ValidatedToken {
  userId: string;
  projectId: string;
  roles: readonly string[];
  expiresAt: Date;
}
