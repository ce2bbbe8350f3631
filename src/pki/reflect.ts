// The part of the Reflect metadata API that @peculiar/x509 needs (through tsyringe, which
// refuses to load without it): define/get metadata per object and property. A few lines
// instead of another dependency; installed only when no polyfill is present. Import it
// before @peculiar/x509 (src/pki/x509.ts does).
type Key = string | symbol;
type Table = Map<unknown, unknown>;

const store = new WeakMap<object, Map<Key | undefined, Table>>();

function table(target: object, property: Key | undefined, create: boolean): Table | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

interface ReflectMetadata {
  defineMetadata(key: unknown, value: unknown, target: object, property?: Key): void;
  getOwnMetadata(key: unknown, target: object, property?: Key): unknown;
  getMetadata(key: unknown, target: object, property?: Key): unknown;
  hasMetadata(key: unknown, target: object, property?: Key): boolean;
  metadata(key: unknown, value: unknown): (target: object, property?: Key) => void;
}

const reflect = Reflect as unknown as Partial<ReflectMetadata>;

if (typeof reflect.getMetadata !== 'function') {
  const api: ReflectMetadata = {
    defineMetadata(key, value, target, property) {
      table(target, property, true)!.set(key, value);
    },
    getOwnMetadata(key, target, property) {
      return table(target, property, false)?.get(key);
    },
    getMetadata(key, target, property) {
      for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
        const entries = table(o, property, false);
        if (entries?.has(key)) return entries.get(key);
      }
      return undefined;
    },
    hasMetadata(key, target, property) {
      return api.getMetadata(key, target, property) !== undefined;
    },
    metadata(key, value) {
      return (target, property) => api.defineMetadata(key, value, target, property);
    },
  };
  Object.assign(Reflect, api);
}
