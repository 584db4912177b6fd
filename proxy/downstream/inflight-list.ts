/**
 * The exchanges in flight on one client connection, as a doubly linked list threaded through
 * the exchanges themselves: adding and removing one (twice per request) touches two pointers,
 * where a Set hashes the object and grows a table that every connection would carry.
 */
export interface InflightLinks {
  inflightPrev: InflightLinks | null;
  inflightNext: InflightLinks | null;
  /** The list the item is on, or null: makes delete() of an item not on it a no-op. */
  inflightList: object | null;
}

export class InflightList<T extends InflightLinks> {
  #head: T | null = null;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(item: T): void {
    if (item.inflightList !== null) return;
    item.inflightList = this;
    item.inflightPrev = null;
    item.inflightNext = this.#head;
    if (this.#head !== null) this.#head.inflightPrev = item;
    this.#head = item;
    this.#size++;
  }

  /** Removes `item`; false when it was not on this list. */
  delete(item: T): boolean {
    if (item.inflightList !== this) return false;
    const prev = item.inflightPrev;
    const next = item.inflightNext;
    if (prev !== null) prev.inflightNext = next;
    else this.#head = next as T | null;
    if (next !== null) next.inflightPrev = prev;
    item.inflightPrev = item.inflightNext = null;
    item.inflightList = null;
    this.#size--;
    return true;
  }

  /** A copy of the items, safe to iterate while they remove themselves. */
  toArray(): T[] {
    const out: T[] = [];
    for (let x = this.#head as InflightLinks | null; x !== null; x = x.inflightNext) out.push(x as T);
    return out;
  }
}
