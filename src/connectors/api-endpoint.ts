import { z } from "zod";

/**
 * An API base URL in a connector config (AWS endpoint, Google API root): https, or plain http on
 * this machine only (a local stand-in or a proxy on loopback); never with credentials in it.
 */

const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i;

export const ApiEndpointSchema = z
  .string()
  .refine((url) => URL.canParse(url), "must be a URL such as https://api.example.com/")
  .refine((url) => {
    if (!URL.canParse(url)) return true;
    const parsed = new URL(url);
    return parsed.protocol === "https:" || (parsed.protocol === "http:" && LOOPBACK.test(parsed.hostname));
  }, "must be https:// (plain http:// only to this machine: localhost, 127.x.x.x or [::1])")
  .refine(
    (url) => !URL.canParse(url) || (new URL(url).username === "" && new URL(url).password === ""),
    "must not carry a user or password: credentials come from the environment",
  );
