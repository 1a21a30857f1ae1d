/** The layout worker's file name (with its content hash), set by build.mjs. */
declare const __LAYOUT_WORKER_FILE__: string;

declare module '*.css';
