/**
 * Anonymous group tallies (festivals, stands): counts of people by gender × age band. No client
 * codes. Counts are plain data kept in memory until saved.
 */
import {
  TALLY_AGE_BANDS,
  TALLY_GENDERS,
  type TallyAgeBand,
  type GroupTallyDraft,
  type ItemQuantity,
  type Setting,
  type TallyCell,
  type TallyGender,
} from '../backend';
import { toPayloadItems } from './items';
import { clampQuantity } from './stepper';

export type TallyCounts = Record<TallyGender, Record<TallyAgeBand, number>>;

export function emptyTally(): TallyCounts {
  const counts = {} as TallyCounts;
  for (const g of TALLY_GENDERS) {
    counts[g] = {} as Record<TallyAgeBand, number>;
    for (const b of TALLY_AGE_BANDS) counts[g][b] = 0;
  }
  return counts;
}

/** A new tally with one cell changed by `delta`, kept within 0–10 000. */
export function adjust(counts: TallyCounts, gender: TallyGender, band: TallyAgeBand, delta: number): TallyCounts {
  // A plain copy (not structuredClone: the counts may be a Svelte state proxy).
  const next = {} as TallyCounts;
  for (const g of TALLY_GENDERS) next[g] = { ...counts[g] };
  next[gender][band] = clampQuantity(counts[gender][band] + delta);
  return next;
}

export function genderTotal(counts: TallyCounts, gender: TallyGender): number {
  return TALLY_AGE_BANDS.reduce((sum, b) => sum + counts[gender][b], 0);
}

export function bandTotal(counts: TallyCounts, band: TallyAgeBand): number {
  return TALLY_GENDERS.reduce((sum, g) => sum + counts[g][band], 0);
}

export function grandTotal(counts: TallyCounts): number {
  return TALLY_GENDERS.reduce((sum, g) => sum + genderTotal(counts, g), 0);
}

/** The non-empty cells, in a fixed order (gender, then age band). */
export function tallyCells(counts: TallyCounts): TallyCell[] {
  const cells: TallyCell[] = [];
  for (const gender of TALLY_GENDERS) {
    for (const age_band of TALLY_AGE_BANDS) {
      const count = counts[gender][age_band];
      if (count > 0) cells.push({ gender, age_band, count });
    }
  }
  return cells;
}

export function tallyDraft(input: {
  setting: Setting;
  eventName: string;
  counts: TallyCounts;
  items: readonly ItemQuantity[];
}): GroupTallyDraft {
  const draft: GroupTallyDraft = {
    setting: input.setting,
    people: tallyCells(input.counts),
    items: toPayloadItems(input.items),
  };
  const name = input.eventName.trim();
  if (name) draft.event_name = name;
  return draft;
}

/** A tally is worth saving when it counts somebody or gives something. */
export function tallyIsEmpty(counts: TallyCounts, items: readonly ItemQuantity[]): boolean {
  return grandTotal(counts) === 0 && toPayloadItems(items).length === 0;
}
