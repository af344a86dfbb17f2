/**
 * The route file as it sits in a Next.js app (`app/users/[id]/route.ts`). One cached client per server process:
 * kept on `globalThis` so that Next's dev-mode reloads do not open a new pool on every change.
 */
import { type CachedPrisma, connectFromEnv } from "../../../../shared/prisma.ts";
import { userRoute } from "../../../handlers.ts";

const shared = globalThis as { examplePrisma?: CachedPrisma };
const prisma = (shared.examplePrisma ??= connectFromEnv("examples-next-route").prisma);

export const { GET, PATCH } = userRoute(prisma);
