import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

/**
 * Builds the SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677, the format
 * of pg_authid.rolpassword). Sesame sends the verifier, never the password: a failed CREATE ROLE
 * statement is written to the server log, and with `log_statement = ddl` even a successful one.
 *
 * Only for passwords Sesame generates (ASCII), so SASLprep normalization is not needed.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const saltedPassword = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", saltedPassword).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", saltedPassword).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** A random password that needs no quoting anywhere (URL-safe base64, 192 bits). */
export function generatePassword(): string {
  return randomBytes(24).toString("base64url");
}
