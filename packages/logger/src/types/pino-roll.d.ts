declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events';

  export interface PinoRollOptions {
    file: string | (() => string);
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    dateFormat?: string;
    extension?: string;
    symlink?: boolean;
    limit?: { count: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    sync?: boolean;
    minLength?: number;
    maxLength?: number;
    append?: boolean;
  }

  /** The SonicBoom stream pino-roll returns (only what this package uses). */
  export interface RollStream extends EventEmitter {
    write(data: string): boolean;
    reopen(file?: string): void;
    destroy(): void;
    end(): void;
    readonly file: string;
    readonly fd: number;
    readonly destroyed: boolean;
  }

  export default function pinoRoll(options: PinoRollOptions): Promise<RollStream>;
}
