/**
 * A global Nest module that provides one cached Prisma client under the `PRISMA` token and disconnects it (and what
 * the plugin opened) when the app shuts down. In an app, import the plugin as `prisma-cache-plugin`.
 */
import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from "@nestjs/common";
import { cachePlugin, type CachePluginOptions } from "../../../src/index.ts";
import { cacheSchema } from "../generated/cache/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";

/** The injection token of the cached client: `@Inject(PRISMA) prisma: CachedPrisma`. */
export const PRISMA = "PRISMA";

export interface PrismaCacheModuleOptions {
  /** The driver adapter, e.g. `new PrismaPg({ connectionString })`. */
  adapter: NonNullable<NonNullable<ConstructorParameters<typeof PrismaClient>[0]>["adapter"]>;
  /** The plugin's options; `schema` is this app's generated cacheSchema. */
  cache?: Omit<CachePluginOptions, "schema">;
}

export function createCachedPrisma({ adapter, cache = {} }: PrismaCacheModuleOptions) {
  return new PrismaClient({ adapter }).$extends(cachePlugin({ schema: cacheSchema, ...cache }));
}

export type CachedPrisma = ReturnType<typeof createCachedPrisma>;

@Global()
@Module({})
export class PrismaCacheModule implements OnApplicationShutdown {
  constructor(@Inject(PRISMA) private readonly prisma: CachedPrisma) {}

  static forRoot(options: PrismaCacheModuleOptions): DynamicModule {
    return {
      module: PrismaCacheModule,
      providers: [{ provide: PRISMA, useFactory: () => createCachedPrisma(options) }],
      exports: [PRISMA],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.prisma.$disconnect();
  }
}
