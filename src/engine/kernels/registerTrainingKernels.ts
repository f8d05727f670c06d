/** Registers the gradient kernels that the wasm backend lacks or runs slowly. Filled in by the kernels work. */
export function registerTrainingKernels(): void {}
