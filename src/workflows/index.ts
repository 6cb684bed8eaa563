/** Every workflow the worker registers. Names are wire contracts: renaming breaks runs in flight. */
export { detectWorkflow } from './detect-workflow.ts';
export { batchWorkflow } from './batch-workflow.ts';
export { platformCapacityWorkflow } from './platform-capacity-workflow.ts';
export { sweepWorkflow } from './sweep-workflow.ts';
