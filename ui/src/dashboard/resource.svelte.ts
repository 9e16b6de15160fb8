/**
 * Data a page loads from the API: the last answer, the error of the last attempt and whether a
 * request is running. Only the newest request may set the result, so quickly changing the
 * filter never shows an older answer over a newer one.
 */
import { toApiError, type ApiError } from './api';

export class Resource<T> {
  data = $state<T | null>(null);
  error = $state<ApiError | null>(null);
  loading = $state(false);
  private generation = 0;
  private last: (() => Promise<T>) | null = null;

  async load(fetcher: () => Promise<T>): Promise<void> {
    const generation = ++this.generation;
    this.last = fetcher;
    this.loading = true;
    this.error = null;
    try {
      const data = await fetcher();
      if (generation === this.generation) this.data = data;
    } catch (e) {
      if (generation === this.generation) this.error = toApiError(e);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  /** Runs the last request again (the "Try again" button). */
  retry(): Promise<void> {
    return this.last ? this.load(this.last) : Promise.resolve();
  }
}
