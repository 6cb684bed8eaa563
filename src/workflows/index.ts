/** Every workflow the worker registers. Names are wire contracts: renaming breaks runs in flight. */
export { detectWorkflow, statusQuery } from './detect-workflow.ts';
