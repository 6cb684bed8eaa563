/** Every workflow the worker registers. Names are wire contracts: renaming breaks runs in flight. */
export { detectWorkflow } from './detect-workflow.ts';
