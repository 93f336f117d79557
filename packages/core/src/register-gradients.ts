// tfjs-core's Node entry point ships without gradient functions ("gradient function not found for Sum").
// Importing this module registers all of tfjs-core's gradients into the shared global registry.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
