/** Chart colours: calm, distinct, readable on white, and the same series keep the same colour. */
export const COLORS = {
  people: '#4f46b8',
  contacts: '#0f8a7e',
  syringes: '#2f6fde',
  returned: '#e08a1e',
} as const;

/** One colour per site (or any series of unknown length), repeating after eight. */
export const PALETTE = ['#2f6fde', '#e08a1e', '#0f8a7e', '#a34fc2', '#c2416b', '#5b6b7d', '#7a9a1e', '#1d9bc4'] as const;

export function paletteColor(index: number): string {
  return PALETTE[((index % PALETTE.length) + PALETTE.length) % PALETTE.length];
}
