// A bounded FIFO on a ring buffer: push and shift are O(1); pushing onto a full queue drops
// the oldest item and hands it back, so the caller can count it.

export class BoundedQueue<T> {
  readonly capacity: number;
  readonly #items: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends `item`; when the queue was full, removes and returns the oldest item. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.#size === this.capacity) dropped = this.shift();
    this.#items[(this.#head + this.#size) % this.capacity] = item;
    this.#size++;
    return dropped;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return item;
  }

  /** Removes every item, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.#size > 0) out.push(this.shift() as T);
    return out;
  }
}
