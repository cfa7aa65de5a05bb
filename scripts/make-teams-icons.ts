/**
 * Draws the Teams app icons (committed in manifest/teams/): `color.png` 192×192, a keyhole on
 * Sesame green, and `outline.png` 32×32, the same keyhole in white on a transparent background
 * (what Teams requires for the outline icon). Run again only to change the design:
 *   npx tsx scripts/make-teams-icons.ts
 */
import { writeFileSync } from "node:fs";
import { PNG } from "pngjs";

const GREEN = [0x2e, 0x6b, 0x4f] as const;

/** Whether a point (in a 0..1 square) lies inside the keyhole: a disc over a widening foot. */
function inKeyhole(x: number, y: number): boolean {
  const dx = x - 0.5;
  const dy = y - 0.4;
  if (dx * dx + dy * dy <= 0.16 * 0.16) return true;
  if (y < 0.45 || y > 0.76) return false;
  const halfWidth = 0.07 + ((y - 0.45) / (0.76 - 0.45)) * 0.06;
  return Math.abs(dx) <= halfWidth;
}

/** Share of a pixel covered by the keyhole (4×4 supersampling for smooth edges). */
function coverage(px: number, py: number, size: number, scale: number, offset: number): number {
  let hits = 0;
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const x = ((px + (i + 0.5) / 4) / size - offset) / scale;
      const y = ((py + (j + 0.5) / 4) / size - offset) / scale;
      if (inKeyhole(x, y)) hits++;
    }
  }
  return hits / 16;
}

function draw(size: number, background: boolean, scale: number): Buffer {
  const png = new PNG({ width: size, height: size });
  const offset = (1 - scale) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const c = coverage(x, y, size, scale, offset);
      if (background) {
        for (let k = 0; k < 3; k++) png.data[i + k] = Math.round(GREEN[k]! * (1 - c) + 255 * c);
        png.data[i + 3] = 255;
      } else {
        png.data[i] = png.data[i + 1] = png.data[i + 2] = 255;
        png.data[i + 3] = Math.round(255 * c);
      }
    }
  }
  return PNG.sync.write(png);
}

writeFileSync("manifest/teams/color.png", draw(192, true, 0.8));
writeFileSync("manifest/teams/outline.png", draw(32, false, 1));
console.log("wrote manifest/teams/color.png (192×192) and manifest/teams/outline.png (32×32)");
