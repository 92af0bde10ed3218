import type { Platform } from '../model/platform.js';
import type { Stack } from '../model/stack.js';

export { FIRST_STACK_WAVE } from '../model/start-order.js';

/** ArgoCD sync wave of every stack: the model's start order (`Platform.startOrder.waves`). */
export function stackWaves(platform: Platform): ReadonlyMap<Stack, number> {
  return platform.startOrder.waves;
}
