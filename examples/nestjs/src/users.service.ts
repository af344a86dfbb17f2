/** Users and their published posts, read through the cache; a rename invalidates the cached read before it returns. */
import { Inject, Injectable } from "@nestjs/common";
import { type CachedPrisma, PRISMA } from "./prisma-cache.module.ts";

@Injectable()
export class UsersService {
  constructor(@Inject(PRISMA) private readonly prisma: CachedPrisma) {}

  findOne(id: number) {
    return this.prisma.user.findUnique({
      where: { id },
      include: { posts: { where: { published: true }, orderBy: { id: "asc" } } },
      cacheStrategy: { ttl: 60, tags: [`user:${id}`] },
    });
  }

  rename(id: number, name: string) {
    return this.prisma.user.update({ where: { id }, data: { name } });
  }

  stats() {
    return this.prisma.$cache.stats();
  }
}
