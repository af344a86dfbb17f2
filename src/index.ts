export { cachePlugin, type CachedQuery, type CacheReadArgs } from "./extension.ts";
export type { CacheApi, InvalidateTarget, RawCacheStrategy, RawSql } from "./cache-api.ts";
export { postgresChangeFeed, CHANGE_FEED_DEFAULTS, type PostgresChangeFeedOptions } from "./change-feed/postgres-change-feed.ts";
export type { ChangeFeed, ChangeFeedState, ChangeFeedStats } from "./change-feed/change-feed.ts";
export {
  CacheConfigError,
  CacheDeliveryError,
  CacheError,
  CacheStoreError,
  CacheTransactionError,
  ChangeFeedError,
  type CacheErrorCode,
  type CacheErrorContext,
  type CacheOperation,
} from "./errors.ts";
export type { CacheStats } from "./metrics.ts";
export type { CacheInfo, CacheInfoQuery, CacheLayer, CacheStatus, WithCacheInfo } from "./observe/cache-info.ts";
export {
  CHANNEL_NAMES,
  type BreakerEvent,
  type BusEvent,
  type DegradedEvent,
  type ErrorEvent,
  type FillEvent,
  type FillRefusedEvent,
  type InvalidateEvent,
  type ReadEvent,
  type RefreshEvent,
  type StaleEvent,
} from "./observe/channels.ts";
export { cacheMetrics, DEFAULT_BUCKETS, type CacheMetrics, type CacheMetricsOptions } from "./observe/prometheus.ts";
export { DEFAULTS, type AdaptiveTtlPolicy, type CachePluginOptions, type CacheStrategy, type InvalidatedGroups, type ModelPolicy, type TtlFunction } from "./options.ts";
export type { CacheReport, SystemsApi } from "./systems.ts";
export type { CostReport, ModelReport, UnitPrices } from "./insight/cost-model.ts";
export type { ReportRequest } from "./insight/insight.ts";
export type { CurvePoint, SizingReport } from "./insight/miss-ratio-curve.ts";
export type { ReadDescriptor, WarmRead, WarmResult } from "./warming/warm.ts";
export type { IncrementRequest } from "./write-behind/recorder.ts";
export type {
  CacheSchema,
  CacheSchemaField,
  CacheSchemaJoinTable,
  CacheSchemaModel,
  CacheSchemaRelation,
  CacheSchemaUnique,
  ReferentialAction,
} from "./schema/cache-schema.ts";
export { memoryStore, MemoryStore, type MemoryStoreOptions } from "./stores/memory-store.ts";
export { redisStore, RedisStore, type RedisClientLike, type RedisStoreOptions, type RedisSubscriberLike } from "./stores/redis-store.ts";
export { tieredStore, TieredStore, type TieredStoreOptions } from "./stores/tiered-store.ts";
export type { Abandonment, CacheStore, FillRequest, LookupProgress, LookupRequest, LookupResult, WriteThroughRequest } from "./stores/store.ts";
