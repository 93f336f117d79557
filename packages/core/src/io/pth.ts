// PyTorch checkpoints (`.pth`, `.pt`, `.ckpt`), read without Python and without running any pickled code.
import { WeightFileError } from './errors';
import { isLegacyPth, readPthLegacy } from './pth-legacy';
import { readPthZip } from './pth-zip';
import type { RawTensorMap } from './raw-tensor';

/** Whether `bytes` start like a zip archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/**
 * Reads the tensors of a `torch.save` checkpoint, zip or legacy format, in their stored dtype and PyTorch
 * layout. A state dict gives its own names; a dict that nests one (`{'state_dict': {...}, 'epoch': 3}`)
 * gives dotted names (`state_dict.conv.weight`), and its non-tensor values are skipped. Views are copied out
 * contiguous; tensors sharing a storage each get their own copy. `source` names the file in errors.
 */
export function readPth(bytes: Uint8Array, source = 'checkpoint'): RawTensorMap {
  if (isZip(bytes)) return readPthZip(bytes, source);
  if (isLegacyPth(bytes)) return readPthLegacy(bytes, source);
  throw new WeightFileError(
    source,
    'is not a PyTorch checkpoint: it starts neither like a zip (PK\\x03\\x04) nor like a legacy torch.save pickle',
  );
}
