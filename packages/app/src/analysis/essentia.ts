import { createRequire } from 'node:module';

/**
 * Loading essentia.js safely in a worker, and the little it needs around it: freeing vectors,
 * reading its heap size, and turning its bare-number C++ errors back into messages.
 */

/** An essentia vector (a C++ std::vector in the WebAssembly heap): must be deleted. */
export interface EssentiaVector {
  delete(): void;
  size(): number;
  get(i: number): number;
}

/** The part of the essentia.js API this service uses (its own typings are not shipped as a module). */
export interface EssentiaApi {
  version: string;
  arrayToVector(array: Float32Array): EssentiaVector;
  /** Loudness's dynamic complexity over the whole signal (loudness.ts). */
  DynamicComplexity(signal: EssentiaVector, frameSize?: number, sampleRate?: number): { dynamicComplexity: number; loudness: number };
}

interface EssentiaModule {
  HEAPU8: Uint8Array;
}

export interface LoadedEssentia {
  essentia: EssentiaApi;
  /** Bytes of WebAssembly memory the module holds now (it never shrinks). */
  heapBytes(): number;
  /** A readable message for whatever essentia threw. */
  describe(error: unknown): string;
}

let loaded: LoadedEssentia | null = null;

function readCString(heap: Uint8Array, address: number, max = 512): string {
  let out = '';
  for (let i = address; i < address + max && i < heap.length && heap[i] !== 0; i++) out += String.fromCharCode(heap[i] ?? 0);
  return out;
}

/**
 * Loads essentia.js once per thread. It installs process-wide `uncaughtException` and
 * `unhandledRejection` handlers that would kill the process on an unrelated error: they are removed.
 */
export function loadEssentia(): LoadedEssentia {
  if (loaded) return loaded;
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  const listeners = (e: (typeof events)[number]): Array<(...args: unknown[]) => void> =>
    process.listeners(e as 'uncaughtException') as Array<(...args: unknown[]) => void>;
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  const require = createRequire(import.meta.url);
  const { Essentia, EssentiaWASM } = require('essentia.js') as {
    Essentia: new (wasm: unknown) => EssentiaApi;
    EssentiaWASM: EssentiaModule;
  };
  for (const e of events) {
    for (const listener of listeners(e)) {
      if (!before.get(e)?.has(listener)) process.removeListener(e, listener);
    }
  }
  const essentia = new Essentia(EssentiaWASM);
  const module = EssentiaWASM;
  loaded = {
    essentia,
    heapBytes: () => module.HEAPU8.length,
    describe(error) {
      if (error instanceof Error) return error.message;
      if (typeof error === 'number') {
        // A pointer to the thrown C++ exception: vtable, then its std::string message.
        const heap = module.HEAPU8;
        const words = new Uint32Array(heap.buffer, heap.byteOffset, heap.byteLength >> 2);
        const dataPointer = words[(error + 4) >> 2] ?? 0;
        const length = words[(error + 8) >> 2] ?? 0;
        if (dataPointer > 0 && length > 0 && length < 4096) {
          const text = readCString(heap, dataPointer, length);
          if (/^[\x20-\x7e]{4,}$/.test(text)) return text;
        }
        const inline = readCString(heap, error + 5, 22);
        if (/^[\x20-\x7e]{4,}$/.test(inline)) return inline;
        return `essentia error ${error}`;
      }
      return String(error);
    },
  };
  return loaded;
}

/** Collects vectors as they are made and deletes them all at the end, so none leaks into the heap. */
export class VectorScope {
  private readonly vectors: EssentiaVector[] = [];

  keep<T extends EssentiaVector>(vector: T): T {
    this.vectors.push(vector);
    return vector;
  }

  free(): void {
    for (const v of this.vectors.splice(0)) {
      try {
        v.delete();
      } catch {
        // already deleted
      }
    }
  }
}
