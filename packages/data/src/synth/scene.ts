// The synthetic horse→zebra-like scenes: one object on a textured green background. Domain A paints the
// object in a flat colour, domain B in black-and-white stripes anchored to the object, so that every A scene
// has exactly one correct B rendering.
import { Rng } from '@qsattn/core';
import type { ByteImage } from '../image';

export type SynthShape = 'ellipse' | 'blob';
export type SynthStyle = 'A' | 'B';
type Rgb = [number, number, number];

/** Everything needed to render one scene in either style (sizes in pixels, colours in [0, 1]). */
export interface SynthScene {
  size: number;
  /** 'ellipse', or 'blob': the rounded square |u/rx|⁴ + |v/ry|⁴ ≤ 1. */
  shape: SynthShape;
  /** Object centre and half-extents; the object is axis-aligned. */
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** The object's flat colour in domain A. */
  colour: Rgb;
  /** The background's base green. */
  ground: Rgb;
  /** Smooth brightness waves of the background: factor 1 + Σ amp·sin(kx·x + ky·y + phase). */
  waves: { kx: number; ky: number; phase: number; amp: number }[];
  /** Seed of the background's per-pixel grain. */
  grainSeed: number;
}

/** Stripe colours of domain B (light, dark), grey so that they are never taken for background. */
export const STRIPE_LIGHT: Rgb = [0.93, 0.93, 0.9];
export const STRIPE_DARK: Rgb = [0.08, 0.08, 0.1];

/** Flat object colours of domain A: browns and tans, far from the background's green. */
const OBJECT_COLOURS: Rgb[] = [
  [0.55, 0.35, 0.2],
  [0.78, 0.62, 0.42],
  [0.5, 0.22, 0.12],
  [0.68, 0.45, 0.3],
  [0.4, 0.28, 0.22],
];

const GRAIN = 0.025;

/** The stripe period in pixels for an image side: size/8 rounded to an even number, at least 4 (8 at 64). */
export function stripePeriod(size: number): number {
  return Math.max(4, 2 * Math.round(size / 16));
}

/** Draws a scene. The object spans 30–55 % of the side and lies wholly inside the image. */
export function randomScene(rng: Rng, size: number): SynthScene {
  const shape: SynthShape = rng.uniform() < 0.5 ? 'ellipse' : 'blob';
  // One axis clearly longer than the other, so that the stripes' direction (across the long axis) is unambiguous.
  const long = size * (0.22 + 0.08 * rng.uniform());
  const short = long * (0.55 + 0.2 * rng.uniform());
  const horizontal = rng.uniform() < 0.5;
  const rx = horizontal ? long : short;
  const ry = horizontal ? short : long;
  const margin = 2;
  const cx = rx + margin + rng.uniform() * (size - 2 * (rx + margin));
  const cy = ry + margin + rng.uniform() * (size - 2 * (ry + margin));
  const colour = OBJECT_COLOURS[rng.int(OBJECT_COLOURS.length)];
  const ground: Rgb = [0.15 + 0.15 * rng.uniform(), 0.5 + 0.12 * rng.uniform(), 0.1 + 0.15 * rng.uniform()];
  const waves = Array.from({ length: 3 }, () => {
    // Periods of 2–4 stripe periods or more: texture, but not at the stripe frequency.
    const period = stripePeriod(size) * (2 + 3 * rng.uniform());
    const angle = Math.PI * rng.uniform();
    const k = (2 * Math.PI) / period;
    return { kx: k * Math.cos(angle), ky: k * Math.sin(angle), phase: 2 * Math.PI * rng.uniform(), amp: 0.05 };
  });
  return { size, shape, cx, cy, rx, ry, colour, ground, waves, grainSeed: rng.nextUint32() };
}

/** Whether the point (x, y) (pixel units, pixel centres at +0.5) is inside the object. */
export function insideObject(scene: SynthScene, x: number, y: number): boolean {
  const u = (x - scene.cx) / scene.rx;
  const v = (y - scene.cy) / scene.ry;
  const [u2, v2] = [u * u, v * v];
  return scene.shape === 'ellipse' ? u2 + v2 <= 1 : u2 * u2 + v2 * v2 <= 1;
}

/**
 * The B-style colour at (x, y): stripes across the object's long axis, of period `stripePeriod(size)`, phase
 * anchored so that a dark stripe is centred on the object's centre.
 */
function stripeColour(scene: SynthScene, x: number, y: number): Rgb {
  const period = stripePeriod(scene.size);
  const t = scene.rx >= scene.ry ? x - scene.cx : y - scene.cy;
  const phase = t / period + 0.25;
  return phase - Math.floor(phase) < 0.5 ? STRIPE_DARK : STRIPE_LIGHT;
}

const SUPERSAMPLES = [0.25, 0.75];

/** Renders the scene as an 8-bit RGB image in the given style; the background is the same in both. */
export function renderScene(scene: SynthScene, style: SynthStyle): ByteImage {
  const { size, ground, waves } = scene;
  const grain = new Rng(scene.grainSeed);
  const data = new Uint8Array(size * size * 3);
  const bg: Rgb = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let shade = 1;
      for (const w of waves) shade += w.amp * Math.sin(w.kx * (x + 0.5) + w.ky * (y + 0.5) + w.phase);
      // One draw gives the three channels' grain, 10 bits each.
      const bits = grain.nextUint32();
      for (let c = 0; c < 3; c++) bg[c] = ground[c] * shade + GRAIN * ((2 * ((bits >>> (10 * c)) & 1023)) / 1023 - 1);
      // 2×2 supersampling smooths the object's outline and the stripe edges.
      let r = 0;
      let g = 0;
      let b = 0;
      for (const sy of SUPERSAMPLES) {
        for (const sx of SUPERSAMPLES) {
          const [px, py] = [x + sx, y + sy];
          const colour = !insideObject(scene, px, py) ? bg : style === 'A' ? scene.colour : stripeColour(scene, px, py);
          r += colour[0];
          g += colour[1];
          b += colour[2];
        }
      }
      const o = (y * size + x) * 3;
      data[o] = toByte(r / 4);
      data[o + 1] = toByte(g / 4);
      data[o + 2] = toByte(b / 4);
    }
  }
  return { width: size, height: size, channels: 3, data };
}

const toByte = (v: number): number => Math.round(255 * Math.min(1, Math.max(0, v)));

/** The object's mask (1 inside at the pixel centre), the ground truth that `objectMask` recovers from pixels. */
export function sceneMask(scene: SynthScene): Uint8Array {
  const { size } = scene;
  const mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) mask[y * size + x] = insideObject(scene, x + 0.5, y + 0.5) ? 1 : 0;
  return mask;
}
