/** Names the example tests use on the shared servers, so they never meet another test's databases, keys or ports. */
import { randomBytes } from "node:crypto";

/** Prefix of the example tests' Postgres databases (each file drops its own in `afterAll`). */
export const EXAMPLE_DATABASE_PREFIX = `examples_${randomBytes(4).toString("hex")}_`;

/** The loopback ports the example apps listen on in their tests. */
export const EXAMPLE_PORTS = { fastifyApi: 7610, nestjs: 7611 } as const;

/** A Redis key prefix of its own for one example's test: `examples-<name>-<random>`. */
export function examplePrefix(name: string): string {
  return `examples-${name}-${randomBytes(4).toString("hex")}`;
}
