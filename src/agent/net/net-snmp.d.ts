// The part of the net-snmp package (no published types) the agent uses.
declare module 'net-snmp' {
  export interface Varbind {
    oid: string;
    type: number;
    value: unknown;
  }
  export interface SessionOptions {
    port?: number;
    retries?: number;
    timeout?: number;
    transport?: 'udp4' | 'udp6';
    version?: number;
  }
  export interface Session {
    get(oids: string[], cb: (error: Error | null, varbinds: Varbind[]) => void): void;
    close(): void;
    on(event: 'error', cb: (e: Error) => void): void;
  }
  export const Version2c: number;
  export function createSession(target: string, community: string, options?: SessionOptions): Session;
  export function isVarbindError(v: Varbind): boolean;
  export function varbindError(v: Varbind): string;
  const _default: {
    Version2c: number;
    createSession: typeof createSession;
    isVarbindError: typeof isVarbindError;
    varbindError: typeof varbindError;
  };
  export default _default;
}
