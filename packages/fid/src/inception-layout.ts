// The parameters of pytorch-fid's FID InceptionV3 (`fid_inception_v3()`: torchvision's Inception v3 with 1008
// classes, no aux head, and the FID blocks) under their PyTorch names, as `pt_inception-2015-12-05-6726825d.pth`
// stores them.

/** One torchvision `BasicConv2d`: a bias-free conv, batch norm (eps 0.001) and ReLU. */
export interface BasicConvSpec {
  /** The module path, e.g. `Mixed_5b.branch5x5_2`; its tensors are `<name>.conv.weight` and `<name>.bn.*`. */
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: number;
  padding: [number, number];
}

export type InceptionBlockKind = 'A' | 'B' | 'C' | 'D' | 'E_1' | 'E_2';

export interface MixedSpec {
  name: string;
  kind: InceptionBlockKind;
  inChannels: number;
  /** InceptionA's `pool_features`, InceptionC's `channels_7x7`. */
  width?: number;
}

function conv(name: string, inChannels: number, outChannels: number, kernel: number | [number, number], options: { stride?: number; padding?: number | [number, number] } = {}): BasicConvSpec {
  const k: [number, number] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
  const p = options.padding ?? 0;
  return { name, inChannels, outChannels, kernel: k, stride: options.stride ?? 1, padding: typeof p === 'number' ? [p, p] : p };
}

/** The stem: Conv2d_1a … Conv2d_4a (block 0 is 1a-2b and a max pool, block 1 is 3b-4a and a max pool). */
export const STEM_CONVS: readonly BasicConvSpec[] = [
  conv('Conv2d_1a_3x3', 3, 32, 3, { stride: 2 }),
  conv('Conv2d_2a_3x3', 32, 32, 3),
  conv('Conv2d_2b_3x3', 32, 64, 3, { padding: 1 }),
  conv('Conv2d_3b_1x1', 64, 80, 1),
  conv('Conv2d_4a_3x3', 80, 192, 3),
];

/** The mixed blocks in order: 5b-6e form block 2 (768 features), 7a-7c block 3 (2048). */
export const MIXED_BLOCKS: readonly MixedSpec[] = [
  { name: 'Mixed_5b', kind: 'A', inChannels: 192, width: 32 },
  { name: 'Mixed_5c', kind: 'A', inChannels: 256, width: 64 },
  { name: 'Mixed_5d', kind: 'A', inChannels: 288, width: 64 },
  { name: 'Mixed_6a', kind: 'B', inChannels: 288 },
  { name: 'Mixed_6b', kind: 'C', inChannels: 768, width: 128 },
  { name: 'Mixed_6c', kind: 'C', inChannels: 768, width: 160 },
  { name: 'Mixed_6d', kind: 'C', inChannels: 768, width: 160 },
  { name: 'Mixed_6e', kind: 'C', inChannels: 768, width: 192 },
  { name: 'Mixed_7a', kind: 'D', inChannels: 768 },
  { name: 'Mixed_7b', kind: 'E_1', inChannels: 1280 },
  { name: 'Mixed_7c', kind: 'E_2', inChannels: 2048 },
];

/** The convs of one mixed block, named as torchvision's InceptionA-E modules name them. */
export function mixedConvs(block: MixedSpec): BasicConvSpec[] {
  const n = (branch: string) => `${block.name}.${branch}`;
  const cin = block.inChannels;
  switch (block.kind) {
    case 'A':
      return [
        conv(n('branch1x1'), cin, 64, 1),
        conv(n('branch5x5_1'), cin, 48, 1),
        conv(n('branch5x5_2'), 48, 64, 5, { padding: 2 }),
        conv(n('branch3x3dbl_1'), cin, 64, 1),
        conv(n('branch3x3dbl_2'), 64, 96, 3, { padding: 1 }),
        conv(n('branch3x3dbl_3'), 96, 96, 3, { padding: 1 }),
        conv(n('branch_pool'), cin, block.width!, 1),
      ];
    case 'B':
      return [
        conv(n('branch3x3'), cin, 384, 3, { stride: 2 }),
        conv(n('branch3x3dbl_1'), cin, 64, 1),
        conv(n('branch3x3dbl_2'), 64, 96, 3, { padding: 1 }),
        conv(n('branch3x3dbl_3'), 96, 96, 3, { stride: 2 }),
      ];
    case 'C': {
      const c7 = block.width!;
      return [
        conv(n('branch1x1'), cin, 192, 1),
        conv(n('branch7x7_1'), cin, c7, 1),
        conv(n('branch7x7_2'), c7, c7, [1, 7], { padding: [0, 3] }),
        conv(n('branch7x7_3'), c7, 192, [7, 1], { padding: [3, 0] }),
        conv(n('branch7x7dbl_1'), cin, c7, 1),
        conv(n('branch7x7dbl_2'), c7, c7, [7, 1], { padding: [3, 0] }),
        conv(n('branch7x7dbl_3'), c7, c7, [1, 7], { padding: [0, 3] }),
        conv(n('branch7x7dbl_4'), c7, c7, [7, 1], { padding: [3, 0] }),
        conv(n('branch7x7dbl_5'), c7, 192, [1, 7], { padding: [0, 3] }),
        conv(n('branch_pool'), cin, 192, 1),
      ];
    }
    case 'D':
      return [
        conv(n('branch3x3_1'), cin, 192, 1),
        conv(n('branch3x3_2'), 192, 320, 3, { stride: 2 }),
        conv(n('branch7x7x3_1'), cin, 192, 1),
        conv(n('branch7x7x3_2'), 192, 192, [1, 7], { padding: [0, 3] }),
        conv(n('branch7x7x3_3'), 192, 192, [7, 1], { padding: [3, 0] }),
        conv(n('branch7x7x3_4'), 192, 192, 3, { stride: 2 }),
      ];
    case 'E_1':
    case 'E_2':
      return [
        conv(n('branch1x1'), cin, 320, 1),
        conv(n('branch3x3_1'), cin, 384, 1),
        conv(n('branch3x3_2a'), 384, 384, [1, 3], { padding: [0, 1] }),
        conv(n('branch3x3_2b'), 384, 384, [3, 1], { padding: [1, 0] }),
        conv(n('branch3x3dbl_1'), cin, 448, 1),
        conv(n('branch3x3dbl_2'), 448, 384, 3, { padding: 1 }),
        conv(n('branch3x3dbl_3a'), 384, 384, [1, 3], { padding: [0, 1] }),
        conv(n('branch3x3dbl_3b'), 384, 384, [3, 1], { padding: [1, 0] }),
        conv(n('branch_pool'), cin, 192, 1),
      ];
  }
}

/** Every BasicConv2d of the network, in the order of the official state dict. */
export function allConvs(): BasicConvSpec[] {
  return [...STEM_CONVS, ...MIXED_BLOCKS.flatMap(mixedConvs)];
}

/** The 1008-class head's sizes (stored in the file, unused by FID). */
export const FC_IN = 2048;
export const FC_OUT = 1008;

export const BN_EPS = 0.001;

/**
 * The tensors the weights file holds, name → shape, in state-dict order (`num_batches_tracked`, which some
 * files carry and some do not, is left out: it plays no part in evaluation).
 */
export function inceptionTensorShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const c of allConvs()) {
    shapes.set(`${c.name}.conv.weight`, [c.outChannels, c.inChannels, c.kernel[0], c.kernel[1]]);
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) shapes.set(`${c.name}.bn.${p}`, [c.outChannels]);
  }
  shapes.set('fc.weight', [FC_OUT, FC_IN]);
  shapes.set('fc.bias', [FC_OUT]);
  return shapes;
}
