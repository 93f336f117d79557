import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writePng, type ByteImage } from '@qsattn/data';
import { resultsPage, type IndexRow } from '../run/html-index';
import type { TestPreprocess } from '../run/datasets';
import { readInputFile } from '../fixture-file';
import { writeFileAtomic } from '../write-file';
import type { ModelSpec } from './model-spec';

const COLUMNS = ['real_A', 'fake_B'] as const;

/** More columns for the index page: their names, each image's paths in them (relative to the folder), a note. */
export interface ExtraColumns {
  columns: readonly string[];
  paths(name: string): string[];
  note?: string;
}
const MANIFEST = 'translations.json';

/** What makes two runs' translations the same: the weights' bytes, the architecture and the preprocessing. */
export function translationFingerprint(spec: ModelSpec, preprocess: TestPreprocess): string {
  const hash = createHash('sha256').update(readInputFile(spec.path));
  hash.update(JSON.stringify({ flags: spec.flags, base: spec.base ?? null, preprocess }));
  return hash.digest('hex');
}

/** The output file of an image: its name with a .png extension, as the official test script writes it. */
export const resultFile = (name: string): string => name.replace(/\.[^.]*$/, '') + '.png';

/**
 * A results folder as the official test script writes it, `DIR/images/{real_A,fake_B}/` and `index.html`, plus
 * `translations.json`, which records the model's fingerprint so that running the same command again translates only
 * the images whose results are missing. Results of another model (or of a folder without the record) are
 * removed for the images of this set before anything new is written, so the folder never mixes two models.
 */
export class ResultsFolder {
  private readonly written = new Set<string>();

  private constructor(
    readonly dir: string,
    private readonly reusable: boolean,
  ) {}

  static async open(dir: string, fingerprint: string, names: readonly string[]): Promise<ResultsFolder> {
    for (const column of COLUMNS) mkdirSync(join(dir, 'images', column), { recursive: true });
    const manifest = join(dir, MANIFEST);
    let previous: string | null = null;
    if (existsSync(manifest)) {
      try {
        previous = (JSON.parse(readFileSync(manifest, 'utf8')) as { fingerprint?: string }).fingerprint ?? null;
      } catch {
        previous = null;
      }
    }
    const reusable = previous === fingerprint;
    if (!reusable) {
      for (const name of names) for (const column of COLUMNS) rmSync(join(dir, 'images', column, resultFile(name)), { force: true });
      await writeFileAtomic(manifest, `${JSON.stringify({ fingerprint }, null, 2)}\n`);
    }
    return new ResultsFolder(dir, reusable);
  }

  /** Paths of an image's results relative to the folder (the index page's links). */
  paths(name: string): string[] {
    return COLUMNS.map((column) => join('images', column, resultFile(name)));
  }

  /** Whether this image's results are here: written now, or by an earlier run of the same model. */
  has(name: string): boolean {
    return this.written.has(name) || (this.reusable && this.paths(name).every((p) => existsSync(join(this.dir, p))));
  }

  /** Writes an image's input and translation (each atomically; the translation last, so its presence means done). */
  async write(name: string, input: ByteImage, output: ByteImage): Promise<void> {
    const [inputPath, outputPath] = this.paths(name);
    await writePng(join(this.dir, inputPath), input);
    await writePng(join(this.dir, outputPath), output);
    this.written.add(name);
  }

  /** Writes an image's results that arrived as PNG files (from a queue worker), as `write` does. */
  async writeEncoded(name: string, input: Uint8Array, output: Uint8Array): Promise<void> {
    const [inputPath, outputPath] = this.paths(name);
    await writeFileAtomic(join(this.dir, inputPath), input);
    await writeFileAtomic(join(this.dir, outputPath), output);
    this.written.add(name);
  }

  /** The index page; `extra` columns (e.g. `--explain`'s maps) follow real_A and fake_B. */
  async writeIndex(title: string, names: readonly string[], extra?: ExtraColumns): Promise<string> {
    const rows: IndexRow[] = names.map((name) => ({ name, images: [...this.paths(name), ...(extra?.paths(name) ?? [])] }));
    const path = join(this.dir, 'index.html');
    await writeFileAtomic(path, resultsPage(title, [...COLUMNS, ...(extra?.columns ?? [])], rows, extra?.note));
    return path;
  }
}
