// Side effects of loading @qsattn/core: tfjs gradients, the training kernels the wasm backend lacks, and a fast
// filter gradient for the cpu backend.
import './register-gradients';
import './kernels/wasm/register';
import './kernels/cpu/register';
import './kernels/shared/reflection-pad-grad';
import './kernels/shared/instance-norm';
import './kernels/shared/adam-update';
