// tfjs-core's Node entry point ships without gradient functions ("gradient function not found for Sum").
// Importing this module registers all of tfjs-core's gradients into the shared global registry.
// tfjs-core's own entry first, so that the engine the gradient modules attach to is the complete one.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
