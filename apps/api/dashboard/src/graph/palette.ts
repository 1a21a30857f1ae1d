/** Colours for entity types: fixed ones for the usual types, a stable pick from the rest for others. */
const KNOWN: Record<string, string> = {
  person: '#2563eb',
  organization: '#d97706',
  location: '#059669',
  event: '#db2777',
  product: '#7c3aed',
  topic: '#0891b2',
};
const OTHERS = ['#4f46e5', '#65a30d', '#dc2626', '#0d9488', '#9333ea', '#ca8a04', '#475569', '#be185d'];

export function colorOfType(type: string): string {
  const known = KNOWN[type.toLowerCase()];
  if (known) return known;
  let hash = 0;
  for (let i = 0; i < type.length; i++) hash = (hash * 31 + type.charCodeAt(i)) >>> 0;
  return OTHERS[hash % OTHERS.length];
}
