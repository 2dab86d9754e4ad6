// Node modules that cost milliseconds to load (node:crypto ~3 ms, node:os, node:child_process) and
// that most runs never need: fetched on first use instead of imported at start-up.

export const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');
export const os = (): typeof import('node:os') => process.getBuiltinModule('node:os');
export const childProcess = (): typeof import('node:child_process') => process.getBuiltinModule('node:child_process');
export const nodeModule = (): typeof import('node:module') => process.getBuiltinModule('node:module');
export const zlib = (): typeof import('node:zlib') => process.getBuiltinModule('node:zlib');
