import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AppError } from "../domain/errors.js";
import type { SecretBox } from "../services/ports.js";

const VERSION = "v1";

/** AES-256-GCM sealing of connector-issued credentials, keyed by SESAME_ENCRYPTION_KEY. */
export function createSecretBox(base64Key: string): SecretBox {
  const key = Buffer.from(base64Key, "base64");
  if (key.length !== 32)
    throw new AppError("config_invalid", "SESAME_ENCRYPTION_KEY must be 32 bytes, base64-encoded.");
  return {
    seal(secret) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(secret), "utf8"), cipher.final()]);
      return [VERSION, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(
        ".",
      );
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split(".");
      if (version !== VERSION || !iv || !tag || !body)
        throw new AppError("internal", "A stored secret has an unknown format.");
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
        decipher.setAuthTag(Buffer.from(tag, "base64"));
        const text = Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
        return JSON.parse(text) as Record<string, string>;
      } catch (error) {
        throw new AppError("internal", "A stored secret could not be decrypted; was SESAME_ENCRYPTION_KEY changed?", {
          cause: error,
        });
      }
    },
  };
}
