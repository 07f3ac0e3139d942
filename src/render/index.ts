export { render } from './render.js';
export { redactSecrets } from './redact.js';
export type { RenderInput, RenderResult, RenderWarning } from './types.js';
