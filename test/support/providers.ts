/**
 * The database providers the integration tests run on. Each vitest project provides one (`provide: { provider }`
 * in vitest.config.ts), so a test file that calls `createCacheBed()` or `createTestDatabase()` runs on whichever
 * provider its project gives it, without naming it.
 */

/** A datasource provider of the test bed's schemas, spelled as in `schema.prisma`. */
export type Provider = "postgresql" | "mysql" | "sqlite";

export const PROVIDERS: readonly Provider[] = ["postgresql", "mysql", "sqlite"];

/** The provider of the running vitest project (Postgres when the project does not say). */
export async function currentProvider(): Promise<Provider> {
  // Loaded here rather than at the top: global setup imports modules that import this one, and vitest's runtime
  // cannot be loaded outside a test worker.
  const { inject } = await import("vitest");
  return inject("provider") ?? "postgresql";
}
