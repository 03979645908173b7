export { renderTemplate, templateFields } from './template.js';
export { applyAuth, joinPathPrefix, renderPathPrefix, basicHeaderValue, SUPPORTED_STRATEGIES } from './apply.js';
export type { OutgoingRequest } from './apply.js';
export { authSlots } from './slots.js';
export type { AuthSlots } from './slots.js';
export { secretValuesOf } from './secret-values.js';
export { redactUrlForDisplay, plannedPathForDisplay, REDACTED } from './display.js';
