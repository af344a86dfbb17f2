/** The example app: the cache module (global) and the users feature that injects its client. */
import "reflect-metadata";
import { type DynamicModule, Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { PrismaCacheModule, type PrismaCacheModuleOptions } from "./prisma-cache.module.ts";
import { UsersController } from "./users.controller.ts";
import { UsersService } from "./users.service.ts";

@Module({})
export class AppModule {
  static forRoot(options: PrismaCacheModuleOptions): DynamicModule {
    return { module: AppModule, imports: [PrismaCacheModule.forRoot(options)], controllers: [UsersController], providers: [UsersService] };
  }
}

/** Creates the app (not listening yet); `app.close()` runs the shutdown hooks, which disconnect the client. */
export async function createApp(options: PrismaCacheModuleOptions) {
  const app = await NestFactory.create(AppModule.forRoot(options), { logger: ["error", "warn"] });
  app.enableShutdownHooks();
  return app;
}
