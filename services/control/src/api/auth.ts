import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Bearer-token check in constant time; 401 names what is missing without echoing the token. */
export function requireToken(token: string) {
  const expected = digest(token);
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get("authorization");
    if (!header) {
      res.status(401).set("WWW-Authenticate", "Bearer").json({ error: "missing token: send 'Authorization: Bearer <token>'" });
      return;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      res.status(401).set("WWW-Authenticate", "Bearer").json({ error: "invalid token" });
      return;
    }
    next();
  };
}
