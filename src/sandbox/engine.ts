import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { RELEASE_SYNC, newQuickJSWASMModuleFromVariant, newVariant, type QuickJSWASMModule } from 'quickjs-emscripten';

const WASM_PAGE = 64 * 1024;
/** The release build's own initial memory (Emscripten INITIAL_MEMORY): code data, C stack, first heap. */
const BASE_MEMORY = 16 * 1024 * 1024;

export interface QuickJsEngine {
  /**
   * A brand-new QuickJS WebAssembly instance whose linear memory can never grow past
   * BASE_MEMORY + memoryBytes. This is the hard memory cap: under Emscripten QuickJS's
   * own limit (runtime.setMemoryLimit) counts allocations but not their real sizes, so
   * large strings and buffers slip past it. A fresh instance per run also means nothing,
   * not even allocator state, carries over from one script to the next.
   */
  fresh(memoryBytes: number): Promise<QuickJSWASMModule>;
}

/**
 * True when an instance has used most of its memory cap. QuickJS throws null instead of
 * an InternalError when it cannot even allocate the error, so this tells such a failure
 * apart from a script that throws something odd.
 */
export function isNearMemoryCap(module: QuickJSWASMModule, memoryBytes: number): boolean {
  return module.getWasmMemory().buffer.byteLength >= BASE_MEMORY + memoryBytes * 0.75;
}

/** Compiles the QuickJS WebAssembly once; instances are then cheap (a few ms). */
export async function loadEngine(): Promise<QuickJsEngine> {
  // The wasm file belongs to quickjs-emscripten's own dependency, so resolve it from there.
  const fromQuickJs = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten'));
  const compiled = await WebAssembly.compile(await readFile(fromQuickJs.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')));
  return {
    fresh: (memoryBytes) => {
      const memory = new WebAssembly.Memory({ initial: BASE_MEMORY / WASM_PAGE, maximum: Math.ceil((BASE_MEMORY + memoryBytes) / WASM_PAGE) });
      return newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule: compiled, wasmMemory: memory }));
    },
  };
}
