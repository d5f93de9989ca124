import type { ColumnType } from 'kysely';

/** timestamptz: read as Date, written as Date or ISO string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** jsonb: written as a JSON string or the value. */
export type Json<T = unknown> = ColumnType<T, string | T, string | T>;
/** int8/numeric read back as strings (exact); write numbers, bigints or strings. */
export type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;
