// Side effects of loading @qsattn/core: tfjs gradients, and the training kernels the wasm backend lacks.
import './register-gradients';
import './kernels/wasm/register';
