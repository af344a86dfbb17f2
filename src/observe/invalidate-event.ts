import type { InvalidateEvent } from "./channels.ts";

/**
 * The invalidate channel's context for stamps about to advance: which models and tags they name (stamp names as in
 * stamps/names.ts: `*`, `m:<Model>`, `u:<Model>`, `r:<Model>:<key>`, `t:<tag>`).
 */
export function invalidateEvent(prefix: string, stamps: readonly string[]): InvalidateEvent {
  const models = new Set<string>();
  const tags = new Set<string>();
  let all = false;
  for (const stamp of stamps) {
    if (stamp === "*") all = true;
    else if (stamp.startsWith("t:")) tags.add(stamp.slice(2));
    else {
      const end = stamp.indexOf(":", 2);
      models.add(stamp.slice(2, end < 0 ? undefined : end));
    }
  }
  return { prefix, stamps, models: [...models], tags: [...tags], all };
}
