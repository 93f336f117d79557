// The real datasets the CUT and QS-Attn papers train on, by the names of the official download scripts
// (taesungp/contrastive-unpaired-translation datasets/download_cut_dataset.sh and
// junyanz/pytorch-CycleGAN-and-pix2pix datasets/download_cyclegan_dataset.sh), and the ones that need a manual step.

/** Where the official scripts fetch NAME.zip from. */
export const CYCLEGAN_DATASET_SERVER = 'http://efrosgans.eecs.berkeley.edu/cyclegan/datasets';

/** The folders of an unpaired dataset, as `qsattn train --dataroot` reads them. */
export const DATASET_FOLDERS = ['trainA', 'trainB', 'testA', 'testB'] as const;
export type DatasetFolder = (typeof DATASET_FOLDERS)[number];

/** Where each of our folders is inside an archive (relative to the folder that holds them). */
export type ArchiveLayout = Record<DatasetFolder, string>;

export const OFFICIAL_LAYOUT: ArchiveLayout = { trainA: 'trainA', trainB: 'trainB', testA: 'testA', testB: 'testB' };

export interface CatalogDataset {
  name: string;
  /** Domain A → domain B, and where the images come from. */
  description: string;
  /** 'download': `NAME.zip` from the CycleGAN server; 'manual': needs an account or a script first. */
  kind: 'download' | 'manual';
  /** The zip's size in MiB as the server lists it, rounded (unknown where absent). */
  approxMiB?: number;
  /** For manual datasets: the archive to fetch by hand, and where our folders are in it. */
  archive?: { url: string; file: string; layout: ArchiveLayout };
  /** Exactly what to do by hand, one step a line; DIR stands for the --out folder. */
  steps?: readonly string[];
  /** Said after a 404 (the server no longer offers it). */
  hint?: string;
}

const cyclegan = (name: string, description: string, approxMiB?: number, hint?: string): CatalogDataset => ({
  name,
  description,
  kind: 'download',
  ...(approxMiB === undefined ? {} : { approxMiB }),
  ...(hint === undefined ? {} : { hint }),
});

export const DATASET_CATALOG: readonly CatalogDataset[] = [
  cyclegan('horse2zebra', 'horses → zebras (ImageNet); the QS-Attn and CUT benchmark', 111),
  cyclegan(
    'cityscapes',
    'street photos → label maps, 256×256 (Cityscapes train/val as the CycleGAN server packs it)',
    undefined,
    'the CUT script no longer downloads it for licence reasons: see `qsattn datasets download cityscapes_full` for the manual steps',
  ),
  cyclegan('maps', 'aerial photos → Google maps', 1434),
  cyclegan('facades', 'facade photos → labels (CMP Facades)', 34),
  cyclegan('summer2winter_yosemite', 'summer → winter Yosemite photos (Flickr)', 126),
  cyclegan('monet2photo', 'Monet paintings → photos (Wikiart, Flickr)', 291),
  cyclegan('vangogh2photo', 'Van Gogh paintings → photos', 292),
  cyclegan('cezanne2photo', 'Cézanne paintings → photos', 267),
  cyclegan('ukiyoe2photo', 'Ukiyo-e prints → photos', 279),
  cyclegan('apple2orange', 'apples → oranges (ImageNet)', 75),
  cyclegan('iphone2dslr_flower', 'iPhone → DSLR flower photos (Flickr)', 324),
  cyclegan('grumpifycat', 'Russian Blue cats → Grumpy Cat (CUT, Fig. 8)'),
  cyclegan('mini', 'a few images of each domain (the CycleGAN tests)'),
  {
    name: 'cat2dog',
    description: 'cats → dogs, 512×512 (AFHQ, from StarGAN v2); the QS-Attn and CUT benchmark',
    kind: 'manual',
    archive: {
      url: 'https://www.dropbox.com/s/t9l9o3vsx2jai3z/afhq.zip?dl=1',
      file: 'afhq.zip',
      layout: { trainA: 'train/cat', trainB: 'train/dog', testA: 'val/cat', testB: 'val/dog' },
    },
    steps: [
      'AFHQ is published by clovaai/stargan-v2 (`bash download.sh afhq-dataset` there): fetch afhq.zip from https://www.dropbox.com/s/t9l9o3vsx2jai3z/afhq.zip?dl=1',
      'then lay it out: qsattn datasets download cat2dog --file afhq.zip --out DIR',
      '(or by hand: make DIR/cat2dog with trainA = afhq/train/cat, trainB = afhq/train/dog, testA = afhq/val/cat, testB = afhq/val/dog)',
      'or let qsattn fetch it: qsattn datasets download cat2dog --url "https://www.dropbox.com/s/t9l9o3vsx2jai3z/afhq.zip?dl=1" --out DIR',
    ],
  },
  {
    name: 'cityscapes_full',
    description: 'street photos → label maps from the full Cityscapes release (needs an account)',
    kind: 'manual',
    steps: [
      'register at https://www.cityscapes-dataset.com and download gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip; unzip both',
      'run the official preparation script (taesungp/contrastive-unpaired-translation datasets/prepare_cityscapes_dataset.py):',
      '  python prepare_cityscapes_dataset.py --gtFine_dir gtFine --leftImg8bit_dir leftImg8bit --output_dir DIR/cityscapes',
      'it writes DIR/cityscapes/trainA (photos, leftImg8bit/train), trainB (colour label maps, gtFine/train/*_color.png), testA and testB (the same from val), all 256×256 JPEG',
      'then: qsattn train --dataroot DIR/cityscapes',
    ],
  },
];

/** The catalog entry named `name`, or undefined. */
export function findDataset(name: string): CatalogDataset | undefined {
  return DATASET_CATALOG.find((d) => d.name === name);
}

/** The zip address for a dataset: `url` as given when it names a .zip file, else `url` (or the CycleGAN server) + '/NAME.zip'. */
export function datasetUrl(name: string, url?: string): string {
  if (url === undefined) return `${CYCLEGAN_DATASET_SERVER}/${name}.zip`;
  if (/\.zip([?#]|$)/i.test(url) || /[?]/.test(url)) return url;
  return `${url.replace(/\/+$/, '')}/${name}.zip`;
}
